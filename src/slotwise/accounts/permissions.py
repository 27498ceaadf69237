"""Roles, permissions and API key scopes: names only, no models (see :mod:`.access`)."""

from __future__ import annotations

from enum import StrEnum

from django.db import models

__all__ = ["API_KEY_SCOPES", "ROLE_PERMISSIONS", "Permission", "Role", "scope_permissions"]


class Role(models.TextChoices):
    """What a member may do in an organization (see :mod:`slotwise.accounts.access`)."""

    OWNER = "owner"
    ADMIN = "admin"
    STAFF = "staff"
    VIEWER = "viewer"


class Permission(StrEnum):
    CATALOG_READ = "catalog:read"
    CATALOG_WRITE = "catalog:write"
    BOOKINGS_READ = "bookings:read"
    BOOKINGS_WRITE = "bookings:write"
    OWN_HOURS = "hours:own"
    """Change the schedule of one's own resources, and no other."""
    MEMBERS_MANAGE = "members:manage"
    API_KEYS_MANAGE = "api-keys:manage"
    AUDIT_READ = "audit:read"
    PAYMENTS_MANAGE = "payments:manage"
    """Record money received, export the ledger, see and retry failed refunds and fees:
    owners and admins, and API keys given the ``payments:manage`` scope."""
    WEBHOOKS_MANAGE = "webhooks:manage"
    """Register, change and remove webhook endpoints, see their secrets once and their
    deliveries: owners and admins; never an API key."""


_READ = frozenset({Permission.CATALOG_READ, Permission.BOOKINGS_READ})
_WRITE = _READ | {Permission.CATALOG_WRITE, Permission.BOOKINGS_WRITE}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.OWNER: frozenset(Permission),
    Role.ADMIN: frozenset(Permission) - {Permission.AUDIT_READ},
    Role.STAFF: _READ | {Permission.BOOKINGS_WRITE, Permission.OWN_HOURS},
    Role.VIEWER: _READ,
}

API_KEY_SCOPES: dict[str, frozenset[Permission]] = {
    "read": _READ,
    "write": _WRITE,
    **{p.value: frozenset({p}) for p in _WRITE},
    Permission.PAYMENTS_MANAGE.value: frozenset({Permission.PAYMENTS_MANAGE}),
}
"""Each scope an API key may be given, and the permissions it grants."""


def scope_permissions(scopes: list[str]) -> frozenset[Permission]:
    """The permissions ``scopes`` grant together; unknown names grant nothing."""
    granted: frozenset[Permission] = frozenset()
    for name in scopes:
        granted |= API_KEY_SCOPES.get(name, frozenset())
    return granted
