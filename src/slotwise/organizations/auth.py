"""Who may call the staff API, and as whom.

A :class:`StaffRouter` needs, on every operation, either an organization API
key (``Authorization: Bearer sw_...``) or the session of a signed-in member
(with Django's CSRF token on unsafe methods, and the ``Slotwise-Organization``
header naming the organization by slug when the member belongs to several).
Either way ``request.auth`` is a :class:`~slotwise.accounts.access.Caller`.

Every operation of a staff router declares the permission it needs with
:func:`requires`; the router refuses an operation that does not. A caller
without it gets 403 ``forbidden`` whatever object the request names, and
objects outside the caller's reach are 404, as if missing.
Without valid credentials the answer is 401 ``unauthorized`` with
``WWW-Authenticate: Bearer`` (RFC 6750).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import NinjaAPI, Router
from ninja.errors import HttpError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from slotwise.accounts.access import Caller, Forbidden
from slotwise.accounts.mfa import mfa_required
from slotwise.accounts.models import Membership, User
from slotwise.accounts.permissions import ROLE_PERMISSIONS, Permission, Role, scope_permissions
from slotwise.api.problems import problem_response
from slotwise.audit.context import act_as
from slotwise.catalog.models import Resource
from slotwise.organizations.services import api_key_for
from slotwise.organizations.tenancy import tenant

__all__ = [
    "ORGANIZATION_HEADER",
    "ApiKeyAuth",
    "MemberSessionAuth",
    "MfaRequired",
    "StaffRouter",
    "install_access_handlers",
    "member_caller",
    "requires",
]

ORGANIZATION_HEADER = "Slotwise-Organization"


class MfaRequired(Forbidden):
    """An owner or admin has not set up two-factor authentication yet."""


class ApiKeyAuth(HttpBearer):
    """Bearer authentication with an organization API key whose scopes grant one of
    ``permissions``."""

    openapi_bearerFormat = "sw_<prefix>_<secret>"
    openapi_description = (
        "An organization API key (`slotwise api-key ORG_SLUG NAME --scope write` issues one). "
        "Everything the request reads or changes belongs to that organization."
    )

    def __init__(self, permissions: frozenset[Permission]) -> None:
        self.permissions = permissions
        super().__init__()

    def authenticate(self, request: HttpRequest, token: str) -> Caller | None:
        api_key = api_key_for(token, now=timezone.now())
        if api_key is None:
            return None
        caller = Caller(
            organization=api_key.organization,
            permissions=scope_permissions(api_key.scopes),
            api_key=api_key,
        )
        caller.require(*self.permissions)
        act_as(caller.actor, caller.user)
        return caller


class MemberSessionAuth(APIKeyCookie):
    """The web app's session of a signed-in member whose role grants one of
    ``permissions``; unsafe methods need the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME
    openapi_description = (
        f"The session of a member signed in to the web app, with the CSRF token on unsafe "
        f"methods; `{ORGANIZATION_HEADER}: <slug>` picks the organization of a member of several."
    )

    def __init__(self, permissions: frozenset[Permission]) -> None:
        self.permissions = permissions
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        key = request.COOKIES.get(self.param_name)
        # Only a request that carries a session is checked, so that one with
        # no credentials at all is told 401, not 403.
        if key and check_csrf(request) is not None:
            raise HttpError(403, "The CSRF token is missing or wrong.")
        return key

    def authenticate(self, request: HttpRequest, key: str | None) -> Caller | None:
        user = request.user
        if not key or not user.is_authenticated:
            return None
        caller = member_caller(user, request.headers.get(ORGANIZATION_HEADER))  # type: ignore[arg-type]
        if caller is None:
            return None
        caller.require(*self.permissions)
        act_as(caller.actor, caller.user)
        return caller


def member_caller(user: User, slug: str | None) -> Caller | None:
    """``user`` acting in their organization ``slug`` (or their only one when ``slug``
    is None), with their role's permissions; None if that is not exactly one
    organization of theirs.

    Raises :class:`MfaRequired` for an owner or admin without two-factor
    authentication. The API's member sessions and the dashboard both use it.
    """
    memberships = Membership.objects.filter(user=user).select_related("organization")
    if slug:
        memberships = memberships.filter(organization__slug=slug)
    found = list(memberships[:2])
    if len(found) != 1:
        return None
    membership = found[0]
    role = Role(membership.role)
    if role in (Role.OWNER, Role.ADMIN) and mfa_required(user):
        raise MfaRequired("Set up two-factor authentication (/accounts/2fa/) first.")
    resource_ids = None
    if role == Role.STAFF:
        with tenant(membership.organization):
            resource_ids = frozenset(
                Resource.objects.filter(user=user).values_list("pk", flat=True)
            )
    return Caller(
        organization=membership.organization,
        permissions=ROLE_PERMISSIONS[role],
        user=user,
        role=role,
        resource_ids=resource_ids,
    )


def requires[V: Callable[..., Any]](*permissions: Permission) -> Callable[[V], V]:
    """Declare the permission a staff operation needs (any one of several, if given:
    the operation then sees which the caller has); put it below the route decorator.

    @router.get("/resources")
    @requires(Permission.CATALOG_READ)
    def list_resources(request): ...
    """
    if not permissions:
        raise ImproperlyConfigured("@requires() needs a permission.")

    def mark(view: V) -> V:
        view.slotwise_permissions = frozenset(permissions)  # type: ignore[attr-defined]
        return view

    return mark


class StaffRouter(Router):
    """A router whose every operation needs a caller (API key or member session) with
    the permission the operation declares with :func:`requires`.

    The permission is checked with the credentials, before the request's
    parameters are read, so a caller without it learns nothing from them.
    """

    def add_api_operation(
        self, path: str, methods: list[str], view_func: Callable[..., Any], **kwargs: Any
    ) -> None:
        permissions = getattr(view_func, "slotwise_permissions", None)
        if not permissions:
            raise ImproperlyConfigured(
                f"Staff operation {view_func.__module__}.{view_func.__qualname__} does not "
                "say, with @requires(...), which permission it needs."
            )
        kwargs["auth"] = [ApiKeyAuth(permissions), MemberSessionAuth(permissions)]
        super().add_api_operation(path, methods, view_func, **kwargs)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.add_decorator(_in_callers_organization, mode="operation")


def _in_callers_organization[V: Callable[..., Any]](view: V) -> V:
    """Run the operation inside the caller's organization (:mod:`.tenancy`)."""

    @wraps(view)
    def run(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        with tenant(request.auth.organization):  # type: ignore[attr-defined]
            return view(request, *args, **kwargs)

    return run  # type: ignore[return-value]


def install_access_handlers(api: NinjaAPI) -> None:
    """Answer :class:`Forbidden` as a 403 problem (``mfa-required`` or ``forbidden``)."""
    api.add_exception_handler(Forbidden, _forbidden)


def _forbidden(request: HttpRequest, exc: Exception) -> HttpResponse:
    if isinstance(exc, MfaRequired):
        return problem_response(403, "mfa-required", "Two-factor authentication needed", str(exc))
    return problem_response(403, "forbidden", "Forbidden", str(exc))
