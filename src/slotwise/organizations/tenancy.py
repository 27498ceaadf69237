"""Tenancy by construction: a query on an organization's data names the organization.

The models that belong to one organization (resources, schedules, services,
bookings and their parts, busy times) are managed by :func:`TenantManager`
(django-scopes): a query on them runs only inside :func:`tenant`, which adds
``organization = ...`` to it; anywhere else it raises ``ScopeError`` instead
of reading every organization's rows. Each request starts with no tenant
(:class:`TenantMiddleware`); the staff API enters the caller's organization,
public endpoints the organization of the service or booking they address
once found, and background tasks that of the row they were given.

    >>> with tenant(org):
    ...     Booking.objects.count()      # this organization's bookings only
    >>> Booking.objects.count()
    ScopeError: A scope on dimension(s) organization needs to be active for this query.

:func:`unscoped` is for the few lookups that come before the organization is
known (a booking by its secret manage token, a service by its public id) and
for commands run by the operator.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.http import HttpRequest, HttpResponse
from django_scopes import ScopedManager, scope, scopes_disabled
from django_scopes.state import state

from slotwise.organizations.models import Organization

__all__ = [
    "TenantManager",
    "TenantMiddleware",
    "enter_tenant",
    "entered_on_lookup",
    "no_tenant",
    "tenant",
    "unscoped",
]


def TenantManager() -> Any:
    """The default manager of a model with an ``organization`` foreign key."""
    return ScopedManager(organization="organization")


@contextmanager
def tenant(organization: Organization | int) -> Iterator[None]:
    """Queries on tenant models inside see ``organization``'s rows only."""
    if organization is None or isinstance(organization, bool):
        raise ValueError("tenant() needs an organization.")
    with scope(organization=organization):
        yield


unscoped = scopes_disabled
"""Queries inside see every organization's rows: only before the tenant is known."""


@contextmanager
def no_tenant() -> Iterator[None]:
    """Start afresh with no tenant (and scopes enforced), whatever the caller had."""
    token = state.set({"_enabled": True})
    try:
        yield
    finally:
        state.reset(token)


class TenantMiddleware:
    """Each request starts with no tenant, so a query that forgot one fails loudly."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with no_tenant():
            return self.get_response(request)


_entry: ContextVar[ExitStack | None] = ContextVar("slotwise_tenant_entry", default=None)


def entered_on_lookup[V: Callable[..., Any]](view: V) -> V:
    """For a public operation: it runs with no tenant until it has found what it
    addresses and calls :func:`enter_tenant`; from then on, in that one's."""

    @wraps(view)
    def run(*args: Any, **kwargs: Any) -> Any:
        with no_tenant(), ExitStack() as stack:
            token = _entry.set(stack)
            try:
                return view(*args, **kwargs)
            finally:
                _entry.reset(token)

    return run  # type: ignore[return-value]


def enter_tenant(organization: Organization | int) -> None:
    """Enter ``organization`` for the rest of the :func:`entered_on_lookup` operation."""
    stack = _entry.get()
    if stack is None:
        raise RuntimeError("enter_tenant() works only inside an entered_on_lookup operation.")
    stack.enter_context(tenant(organization))
