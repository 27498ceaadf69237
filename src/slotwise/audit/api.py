"""The staff API for the audit log: ``GET /api/v1/staff/audit``, owners only.

Lists the organization's entries newest first, a page at a time. Only the
``audit:read`` permission reads it: owners have it; admins, staff, viewers
and API keys never do (403). Account-level entries (sign-ins, password
changes) belong to no organization and are not listed (see
:mod:`slotwise.audit.queries`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from ninja import Query, Schema
from pydantic import Field

from slotwise.accounts.access import Caller
from slotwise.accounts.permissions import Permission
from slotwise.api.problems import Problem, ValidationProblem, problem_response
from slotwise.audit import queries
from slotwise.audit.models import AuditEntry
from slotwise.organizations.auth import StaffRouter, requires

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "router"]

router = StaffRouter(tags=["staff: audit log"])

DEFAULT_LIMIT = 100
MAX_LIMIT = 500

# Problem type and title for each error of an audit query (all 400).
PROBLEMS: dict[type[queries.AuditQueryError], tuple[str, str]] = {
    queries.InvalidCursor: ("invalid-cursor", "Invalid cursor"),
    queries.NaiveInstant: ("naive-time", "Time without offset"),
}


class AuditEntryOut(Schema):
    at: str = Field(description="When, in UTC: 2026-06-01T09:00:00.123456Z.")
    actor: str = Field(
        description="user:<id>, api-key:<prefix>, customer, anonymous (not signed in) or system."
    )
    action: str = Field(description="What, subject first: booking.cancelled, api_key.issued...")
    target_type: str = Field(description="What it was done to (booking, apikey...), if anything.")
    target_id: str
    data: dict[str, Any]
    ip: str | None = Field(description="The client's address, if it came over the web.")
    user_agent: str


class AuditPageOut(Schema):
    entries: list[AuditEntryOut] = Field(description="Newest first.")
    next: str | None = Field(description="The cursor of the next page; none after the last.")


@router.get(
    "",
    response={200: AuditPageOut, 400: Problem, 401: Problem, 403: Problem, 422: ValidationProblem},
    summary="The audit log",
)
@requires(Permission.AUDIT_READ)
def list_entries(
    request: HttpRequest,
    action: Annotated[
        str | None,
        Query(max_length=64, description="Only actions starting with this: `booking.`."),
    ] = None,
    since: Annotated[
        datetime | None, Query(description="From this instant on, with its offset (`+` as %2B).")
    ] = None,
    until: Annotated[datetime | None, Query(description="Before this instant.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=100, description="A page's `next`.")] = None,
) -> HttpResponse | dict[str, Any]:
    """Who did what, when and from where in the organization: bookings made and
    changed, API keys issued and revoked, members' roles changed.

    At most ``limit`` entries; when more follow, ``next`` is the ``cursor``
    that asks for them. Errors are 400 problems: ``naive-time`` (``since`` or
    ``until`` without an offset) and ``invalid-cursor``.
    """
    caller: Caller = request.auth
    try:
        page = queries.entries(
            caller.organization,
            action=action,
            since=since,
            until=until,
            limit=limit,
            cursor=cursor,
        )
    except queries.AuditQueryError as error:
        kind, title = PROBLEMS[type(error)]
        return problem_response(400, kind, title, str(error))
    return {"entries": [_entry(entry) for entry in page.entries], "next": page.next}


def _entry(entry: AuditEntry) -> dict[str, Any]:
    return {
        "at": entry.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "actor": entry.actor,
        "action": entry.action,
        "target_type": entry.target_type,
        "target_id": entry.target_id,
        "data": entry.data,
        "ip": entry.ip,
        "user_agent": entry.user_agent,
    }
