"""Who is calling, for which organization, and what they may do.

Every staff request is made by a :class:`Caller`: a member signed in to the
web app (their :class:`~slotwise.accounts.models.Role` gives the
permissions) or a program holding an organization API key (its scopes give
them). Operations name the :class:`Permission` they need; data a caller may
not reach answers as if it did not exist.

    owner    everything, including members, API keys and the audit log
    admin    everything but the audit log and the owners themselves
    staff    reads the catalog; changes the hours of the resources that are
             them (``Resource.user``) and reads and changes their bookings,
             no others
    viewer   reads the catalog and the bookings

API key scopes: ``read`` (``catalog:read`` and ``bookings:read``),
``write`` (those and ``catalog:write``, ``bookings:write``), or any of those
four by name. Keys never manage members, keys or the audit log.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from slotwise.accounts.permissions import (
    API_KEY_SCOPES,
    ROLE_PERMISSIONS,
    Permission,
    Role,
    scope_permissions,
)

if TYPE_CHECKING:
    from slotwise.accounts.models import User
    from slotwise.organizations.models import ApiKey, Organization

__all__ = [
    "API_KEY_SCOPES",
    "ROLE_PERMISSIONS",
    "Caller",
    "Forbidden",
    "Permission",
    "scope_permissions",
]


class Forbidden(Exception):
    """The caller may not do this, whatever object it names (answered 403)."""


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated staff request: whose organization, and what it may do.

    ``resource_ids`` limits a staff member to the resources that are them;
    ``None`` means every resource of the organization.
    """

    organization: Organization
    permissions: frozenset[Permission]
    user: User | None = None
    api_key: ApiKey | None = None
    role: Role | None = None
    resource_ids: frozenset[int] | None = None

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    def require(self, *permissions: Permission) -> None:
        """Raise :class:`Forbidden` unless the caller has one of ``permissions``."""
        if self.permissions.isdisjoint(permissions):
            needed = " or ".join(sorted(p.value for p in permissions))
            raise Forbidden(f"This needs the {needed} permission.")

    @property
    def actor(self) -> str:
        """Who this is, for the audit log: ``user:7``, ``api-key:1f0c9a2b7d3e``, or
        ``system`` for the operator's commands."""
        if self.api_key is not None:
            return f"api-key:{self.api_key.prefix}"
        return "system" if self.user is None else f"user:{self.user.pk}"
