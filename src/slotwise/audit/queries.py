"""Reading an organization's audit log, newest first, a page at a time.

Scoped by construction: :func:`entries` takes the organization and sees only
its entries. Account-level entries (sign-ins, password changes: no
organization) are not among them, not even a member's: they belong to the
person, who may work for several organizations, not to any one of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q

from slotwise import cursors
from slotwise.audit.models import AuditEntry
from slotwise.organizations.models import Organization

__all__ = ["AuditQueryError", "InvalidCursor", "NaiveInstant", "Page", "entries"]


class AuditQueryError(Exception):
    """An audit log query that cannot be answered as asked; the message says why."""


class InvalidCursor(AuditQueryError):
    """A ``cursor`` that no page of entries handed out."""


class NaiveInstant(AuditQueryError):
    """``since`` or ``until`` without a UTC offset."""


@dataclass(frozen=True, slots=True)
class Page:
    """Entries newest first (by ``at``, then id); ``next`` resumes after the last, if any follow."""

    entries: list[AuditEntry]
    next: str | None


def entries(
    organization: Organization,
    *,
    action: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Page:
    """``organization``'s entries, newest first: those whose action starts with
    ``action`` (``"booking."``, or a whole name), at or after ``since`` and
    before ``until``; at most ``limit``, after ``cursor`` (a page's ``next``).
    One query, on the (organization, at, id) index.

        >>> page = entries(org, action="api_key.", since=datetime(2026, 5, 1, tzinfo=UTC))
        >>> [entry.action for entry in page.entries]
        ['api_key.revoked', 'api_key.issued']
    """
    for name, instant in (("since", since), ("until", until)):
        if instant is not None and instant.utcoffset() is None:
            raise NaiveInstant(
                f"{name} needs a UTC offset, e.g. 2026-05-01T09:00:00+01:00 or ...Z."
            )
    rows = AuditEntry.objects.filter(organization=organization)
    if action:
        rows = rows.filter(action__startswith=action)
    if since is not None:
        rows = rows.filter(at__gte=since)
    if until is not None:
        rows = rows.filter(at__lt=until)
    if cursor is not None:
        at, pk = _decode(cursor)
        rows = rows.filter(Q(at__lt=at) | Q(at=at, pk__lt=pk))
    found = list(rows.order_by("-at", "-pk")[: limit + 1])
    page = found[:limit]
    return Page(page, _encode(page[-1]) if len(found) > limit else None)


def _encode(row: AuditEntry) -> str:
    return cursors.encode(row.at, row.pk)


def _decode(cursor: str) -> tuple[datetime, int]:
    decoded = cursors.decode(cursor)
    if decoded is None:
        raise InvalidCursor("The cursor is not one a page of the audit log gave; start again.")
    return decoded
