"""Rate limits of the public API: per client address, and per organization.

Every public request is counted twice, apart for reads (slots, reading a
booking) and writes (booking, confirming, cancelling, moving):

- per client address, by :class:`ClientRate`, a ninja throttle on the
  routers, before the request is even parsed. IPv6 addresses count per /64,
  the network one subscriber usually holds.
- per organization, by :func:`check_organization_rate`, which the endpoint
  calls once it knows whose service or booking is addressed: one flood
  cannot starve the other businesses, and a flood from many addresses on
  one business is capped.

``settings.SLOTWISE_RATE_LIMITS`` holds the limits (``slotwise.config``
reads them from ``SLOTWISE_RATE_LIMITS``; ``None`` switches them off).
Counts run in fixed windows (a minute, for the defaults) aligned on the
clock, in the default cache: ``incr`` on one key per window, created by
``add``, both atomic on Redis and on slotwise's database cache, so that
every server process counts together. Over a limit the answer is a 429
``rate-limited`` problem whose ``Retry-After`` is the seconds left in the
window. If the cache fails, requests are let through, with a warning.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import threading
import time
from typing import Literal

from django.conf import settings
from django.core.cache import caches
from django.db import DatabaseError
from django.http import HttpRequest
from ninja.errors import Throttled
from ninja.throttling import BaseThrottle
from redis.exceptions import RedisError

__all__ = [
    "READ",
    "WRITE",
    "ClientRate",
    "Kind",
    "RateLimited",
    "check_organization_rate",
    "client_address",
    "warn_if_off_in_production",
]

logger = logging.getLogger(__name__)

Kind = Literal["read", "write"]
READ: Kind = "read"
WRITE: Kind = "write"
# A window's counter outlives the window by this much, then the cache drops it.
KEY_MARGIN_SECONDS = 5
IPV6_NETWORK_BITS = 64
ORGANIZATION_DETAIL = {
    READ: "Too many requests for this organization's services right now.",
    WRITE: "Too many bookings and changes for this organization right now.",
}


class RateLimited(Throttled):
    """Over a limit: ``wait`` is the whole seconds until its window ends."""

    def __init__(self, wait: int, detail: str) -> None:
        super().__init__(wait)
        self.message = detail


class ClientRate(BaseThrottle):
    """The ninja throttle that limits ``kind`` requests per client address.

    ninja asks :meth:`wait` right after :meth:`allow_request`, in the same
    thread; the wait is kept per thread, as one instance serves them all.
    """

    def __init__(self, kind: Kind) -> None:
        self.kind = kind
        self._waits = threading.local()

    def allow_request(self, request: HttpRequest) -> bool:
        self._waits.wait = _count(f"client-{self.kind}", _client_key(request))
        return self._waits.wait is None

    def wait(self) -> float | None:
        wait: int | None = getattr(self._waits, "wait", None)
        return wait


def check_organization_rate(organization_id: int, kind: Kind) -> None:
    """Count a ``kind`` request for the organization; raise :class:`RateLimited` if over."""
    wait = _count(f"org-{kind}", str(organization_id))
    if wait is not None:
        raise RateLimited(wait, ORGANIZATION_DETAIL[kind])


def client_address(request: HttpRequest) -> str:
    """The client's IP address: ``REMOTE_ADDR``, unless proxies are trusted.

    With ``SLOTWISE_TRUSTED_PROXIES=n``, each of the ``n`` proxies in front
    of slotwise appended the address it was reached from to
    ``X-Forwarded-For``, so the client is the ``n``-th entry from the right;
    whatever stands further left, the client may have written. Without
    trusted proxies the header is ignored: anyone can send it.
    """
    remote = str(request.META.get("REMOTE_ADDR", ""))
    trusted = settings.SLOTWISE_TRUSTED_PROXIES
    forwarded = [
        part.strip()
        for part in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",")
        if part.strip()
    ]
    if not trusted or not forwarded:
        return remote
    return forwarded[-min(trusted, len(forwarded))]


def warn_if_off_in_production() -> None:
    if settings.SLOTWISE_PRODUCTION and settings.SLOTWISE_RATE_LIMITS is None:
        logger.warning("SLOTWISE_RATE_LIMITS is off: the public API takes any number of requests.")


def _client_key(request: HttpRequest) -> str:
    address = client_address(request)
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address or "unknown"
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(parsed), IPV6_NETWORK_BITS), strict=False))
    return str(parsed)


def _count(limit: str, ident: str) -> int | None:
    """Count one request against ``limit`` for ``ident``: None if allowed, else the
    seconds until its window ends."""
    limits = settings.SLOTWISE_RATE_LIMITS
    if limits is None:
        return None
    rate = limits[limit]
    now = time.time()
    window = int(now // rate.seconds)
    left = math.ceil((window + 1) * rate.seconds - now)
    key = f"ratelimit:{limit}:{ident}:{window}"
    try:
        count = _increment(key, timeout=left + KEY_MARGIN_SECONDS)
    except (DatabaseError, RedisError, OSError) as error:
        logger.warning("rate limit %s not counted, the cache failed: %s", limit, error)
        return None
    return None if count <= rate.requests else max(1, left)


def _increment(key: str, timeout: int) -> int:
    cache = caches["default"]
    for _ in range(3):
        try:
            return int(cache.incr(key))
        except ValueError:  # no such key: the window's first request opens it
            if cache.add(key, 1, timeout):
                return 1
    return 0  # the key keeps vanishing; let the request through uncounted
