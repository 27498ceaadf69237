"""Who is acting, and from where, in the current unit of work: what the audit log records
besides the action itself.

A request is one unit of work: :class:`AuditOriginMiddleware` records the
client's address and user agent, and lets whoever is signed in be the
actor; the staff API's authentication names the API key or member it found
(:func:`act_as`). Outside any request (a worker's task, a command) the actor
is ``system``, with no address, unless the code says otherwise:

    with acting("system"):
        release_expired_holds(now)

The context lives in a :class:`~contextvars.ContextVar`, so threads and
asyncio tasks each see their own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from django.http import HttpRequest, HttpResponse

from slotwise.api.ratelimits import client_address

__all__ = [
    "ANONYMOUS",
    "SYSTEM",
    "USER_AGENT_LENGTH",
    "AuditOriginMiddleware",
    "Origin",
    "act_as",
    "acting",
    "current",
]

SYSTEM = "system"
ANONYMOUS = "anonymous"
USER_AGENT_LENGTH = 200


@dataclass(frozen=True, slots=True)
class Origin:
    """Who acts (``actor``, with ``user`` when it is one) and from where.

    In a request ``actor`` stays ``None`` until authentication names one; the
    request's signed-in user, read through ``signed_in`` only when an entry is
    written, acts meanwhile.
    """

    actor: str | None = SYSTEM
    user: Any = None
    ip: str | None = None
    user_agent: str = ""
    signed_in: Callable[[], Any] | None = None

    def who(self) -> tuple[str | None, Any]:
        """The actor and their user; ``(None, None)`` for a request by someone not signed in."""
        if self.actor is not None:
            return self.actor, self.user
        user = self.signed_in() if self.signed_in is not None else None
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}", user
        return None, None


_OUTSIDE = Origin()
"""Outside any request: the system acts, from nowhere."""

_origin: ContextVar[Origin | None] = ContextVar("slotwise_audit_origin", default=None)


def current() -> Origin:
    """The origin of the current unit of work."""
    return _origin.get() or _OUTSIDE


@contextmanager
def acting(actor: str, user: Any = None) -> Iterator[Origin]:
    """Within the block, ``actor`` (and ``user``, if one) acts, from wherever the
    enclosing context is."""
    token = _origin.set(replace(current(), actor=actor, user=user))
    try:
        yield current()
    finally:
        _origin.reset(token)


def act_as(actor: str, user: Any = None) -> None:
    """From now until the current request ends, ``actor`` (and ``user``) acts.

    For authentication, which learns who calls in the middle of a request;
    :class:`AuditOriginMiddleware` puts the previous context back afterwards.
    Elsewhere use :func:`acting`.
    """
    _origin.set(replace(current(), actor=actor, user=user))


class AuditOriginMiddleware:
    """Records each request's client address, user agent and signed-in user for the
    audit log, and forgets them when the request ends. After
    ``AuthenticationMiddleware``, before anything that may sign someone out.

    The address is :func:`~slotwise.api.ratelimits.client_address`'s, so
    ``X-Forwarded-For`` counts only with ``SLOTWISE_TRUSTED_PROXIES``.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        origin = Origin(
            actor=None,
            ip=_ip(client_address(request)),
            user_agent=request.headers.get("User-Agent", "")[:USER_AGENT_LENGTH],
            # Read when an entry is written, so that a request that writes none
            # never loads its user, and a sign-in or sign-out in it counts.
            signed_in=lambda: getattr(request, "user", None),
        )
        token = _origin.set(origin)
        try:
            return self.get_response(request)
        finally:
            _origin.reset(token)


def _ip(address: str) -> str | None:
    try:
        return str(ipaddress.ip_address(address.strip()))
    except ValueError:
        return None
