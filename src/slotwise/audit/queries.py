"""Reading an organization's audit log, newest first, a page at a time.

Scoped by construction: :func:`entries` takes the organization and sees only
its entries. Account-level entries (sign-ins, password changes: no
organization) are not among them, not even a member's: they belong to the
person, who may work for several organizations, not to any one of them.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db.models import Q

from slotwise.audit.models import AuditEntry
from slotwise.organizations.models import Organization

__all__ = ["AuditQueryError", "InvalidCursor", "NaiveInstant", "Page", "entries"]

MAX_ID = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CURSOR = re.compile(r"(-?[0-9]{1,19})\.([0-9]{1,19})")


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


def _encode(entry: AuditEntry) -> str:
    micros = (entry.at - _EPOCH) // _MICROSECOND
    return base64.urlsafe_b64encode(f"{micros}.{entry.pk}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[datetime, int]:
    refused = InvalidCursor("The cursor is not one a page of the audit log gave; start again.")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except ValueError:  # not base64 (binascii.Error), not ASCII
        raise refused from None
    match = _CURSOR.fullmatch(text)
    if match is None or int(match[2]) > MAX_ID:
        raise refused
    try:
        at = _EPOCH + int(match[1]) * _MICROSECOND
    except OverflowError:
        raise refused from None
    return at, int(match[2])
