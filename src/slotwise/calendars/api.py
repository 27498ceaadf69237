"""Staff connect a resource's external calendars and watch how their syncs go.

``/api/v1/staff/calendars``: list and connect; ``/{id}``: read, change,
disconnect; ``/{id}/sync``: read it now; ``/{id}/copies``: the bookings
written into it and what the provider changed of them. Secrets (the feed
address, the password) are accepted and never shown again.
``POST /api/v1/staff/resources/{id}/feed`` makes (or replaces) the address of
a resource's own feed of bookings.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Schema, Status
from pydantic import Field

from slotwise.accounts.access import Caller
from slotwise.accounts.permissions import Permission
from slotwise.api.problems import Problem, ValidationProblem, problem_response
from slotwise.audit.services import log_action
from slotwise.calendars import feeds
from slotwise.calendars.models import CalendarConnection, ConnectionKind
from slotwise.calendars.services import ConnectionInvalid, Draft, connect
from slotwise.calendars.sync import sync_connection
from slotwise.catalog.models import Resource
from slotwise.organizations.auth import StaffRouter, requires

router = StaffRouter(tags=["staff: calendars"])

IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
ERRORS = {401: Problem, 403: Problem, 404: Problem, 422: ValidationProblem}


class ConnectionIn(Schema):
    resource_id: int = Field(ge=1, le=2**63 - 1)
    kind: Literal["ics", "caldav"]
    name: str = Field(default="", max_length=200)
    url: str = Field(
        max_length=2000, description="The feed's secret address, or the CalDAV server."
    )
    username: str = Field(default="", max_length=200)
    password: str = Field(default="", max_length=500)
    read_calendars: list[str] | None = Field(
        default=None, description="CalDAV: calendars whose events block slots; default all."
    )
    write_calendar: str = Field(
        default="", max_length=1000, description="CalDAV: where bookings are written."
    )


class ConnectionPatch(Schema):
    name: str | None = Field(default=None, max_length=200)
    active: bool | None = None
    read_calendars: list[str] | None = None
    write_calendar: str | None = Field(default=None, max_length=1000)


class ConnectionOut(Schema):
    id: int
    resource_id: int
    kind: str
    name: str
    username: str
    read_calendars: list[str]
    write_calendar: str
    active: bool
    last_attempt_at: datetime | None
    last_success_at: datetime | None
    last_error: str
    failures: int
    next_sync_at: datetime | None
    busy_times: int


class CopyOut(Schema):
    booking_id: int
    present: bool
    status: str
    attempts: int
    last_error: str
    synced_at: datetime | None
    drift: str = Field(description="moved or deleted in the provider's calendar; '' if neither.")
    drift_at: datetime | None


class FeedOut(Schema):
    url: str = Field(description="The feed's address: shown once; making another replaces it.")


@router.get("/calendars", response={200: list[ConnectionOut], **ERRORS}, summary="Calendars")
@requires(Permission.CATALOG_READ)
def list_connections(request: HttpRequest) -> Any:
    caller: Caller = request.auth
    rows = CalendarConnection.objects.filter(organization=caller.organization)
    return [_out(c) for c in rows.order_by("resource_id", "pk")]


@router.post(
    "/calendars",
    response={201: ConnectionOut, 400: Problem, **ERRORS},
    summary="Connect a calendar",
)
@requires(Permission.CATALOG_WRITE)
def create_connection(request: HttpRequest, data: ConnectionIn) -> Any:
    """Connect an ICS feed or a CalDAV account to a resource. The calendar is asked
    first (a feed that does not answer, or credentials it refuses, are ``400``),
    then read once; from then on every few minutes."""
    caller: Caller = request.auth
    resource = Resource.objects.filter(
        organization=caller.organization, pk=data.resource_id
    ).first()
    if resource is None:
        return problem_response(404, "not-found", "Not found", "No such resource.")
    draft = Draft(
        kind=data.kind,
        name=data.name,
        url=data.url,
        username=data.username,
        password=data.password,
        read_calendars=data.read_calendars,
        write_calendar=data.write_calendar,
    )
    now = timezone.now()
    try:
        connection = connect(resource, draft, now)
    except ConnectionInvalid as error:
        return problem_response(
            400, "invalid-calendar", "Calendar not usable", str(error), field=error.field
        )
    log_action(
        "calendar.connected",
        organization=caller.organization,
        target=connection,
        data={"resource": resource.pk, "kind": connection.kind, "name": connection.name},
        now=now,
    )
    return Status(201, _out(connection))


@router.get(
    "/calendars/{connection_id}", response={200: ConnectionOut, **ERRORS}, summary="A calendar"
)
@requires(Permission.CATALOG_READ)
def read_connection(request: HttpRequest, connection_id: IdPath) -> Any:
    connection = _find(request, connection_id)
    if connection is None:
        return _missing()
    return _out(connection)


@router.patch(
    "/calendars/{connection_id}",
    response={200: ConnectionOut, 400: Problem, **ERRORS},
    summary="Change a calendar",
)
@requires(Permission.CATALOG_WRITE)
def update_connection(request: HttpRequest, connection_id: IdPath, data: ConnectionPatch) -> Any:
    connection = _find(request, connection_id)
    if connection is None:
        return _missing()
    changes = data.dict(exclude_unset=True)
    if connection.kind == ConnectionKind.ICS and (
        changes.get("write_calendar") or changes.get("read_calendars")
    ):
        return problem_response(
            400, "invalid-calendar", "Calendar not usable", "An ICS feed has no calendars to pick."
        )
    for field, value in changes.items():
        if value is not None:
            setattr(connection, field, value)
    connection.next_sync_at = timezone.now()  # read again with the new choice
    connection.save()
    return _out(connection)


@router.delete(
    "/calendars/{connection_id}", response={204: None, **ERRORS}, summary="Disconnect a calendar"
)
@requires(Permission.CATALOG_WRITE)
def delete_connection(request: HttpRequest, connection_id: IdPath) -> Any:
    """Its busy times stop blocking slots at once; events already written stay in
    the provider's calendar."""
    caller: Caller = request.auth
    connection = _find(request, connection_id)
    if connection is None:
        return _missing()
    with transaction.atomic():
        log_action(
            "calendar.disconnected",
            organization=caller.organization,
            target=connection,
            data={"resource": connection.resource_id, "name": connection.name},
        )
        connection.delete()
    return Status(204, None)


@router.post(
    "/calendars/{connection_id}/sync",
    response={200: ConnectionOut, **ERRORS},
    summary="Read a calendar now",
)
@requires(Permission.CATALOG_WRITE)
def sync_now(request: HttpRequest, connection_id: IdPath) -> Any:
    """Read it now, whatever its schedule; a failure is in ``last_error``."""
    connection = _find(request, connection_id)
    if connection is None:
        return _missing()
    sync_connection(connection, timezone.now())
    connection.refresh_from_db()
    return _out(connection)


@router.get(
    "/calendars/{connection_id}/copies",
    response={200: list[CopyOut], **ERRORS},
    summary="Bookings written into a calendar",
)
@requires(Permission.CATALOG_READ)
def copies(request: HttpRequest, connection_id: IdPath) -> Any:
    """Each booking written (or to be removed), how it went, and ``drift``: what the
    provider changed of it in their calendar (the booking itself is unchanged)."""
    connection = _find(request, connection_id)
    if connection is None:
        return _missing()
    return list(connection.copies.order_by("-drift_at", "booking_id"))


@router.post(
    "/resources/{resource_id}/feed",
    response={201: FeedOut, **ERRORS},
    summary="Make a resource's calendar feed address",
)
@requires(Permission.CATALOG_WRITE)
def resource_feed(request: HttpRequest, resource_id: IdPath) -> Any:
    """A secret address of the resource's bookings in iCalendar format, to subscribe
    to from any calendar app. Making a new one ends the old one."""
    caller: Caller = request.auth
    resource = Resource.objects.filter(organization=caller.organization, pk=resource_id).first()
    if resource is None:
        return problem_response(404, "not-found", "Not found", "No such resource.")
    with transaction.atomic():
        url = feeds.new_resource_feed(resource)
        log_action(
            "calendar.feed_rotated",
            organization=caller.organization,
            target=resource,
            data={"resource": resource.pk},
        )
    return Status(201, {"url": url})


def _find(request: HttpRequest, connection_id: int) -> CalendarConnection | None:
    caller: Caller = request.auth
    return (
        CalendarConnection.objects.select_related("resource")
        .filter(organization=caller.organization, pk=connection_id)
        .first()
    )


def _missing() -> Any:
    return problem_response(404, "not-found", "Not found", "No such calendar.")


def _out(connection: CalendarConnection) -> dict[str, Any]:
    return {
        "id": connection.pk,
        "resource_id": connection.resource_id,
        "kind": connection.kind,
        "name": connection.name,
        "username": connection.username,
        "read_calendars": connection.read_calendars,
        "write_calendar": connection.write_calendar,
        "active": connection.active,
        "last_attempt_at": connection.last_attempt_at,
        "last_success_at": connection.last_success_at,
        "last_error": connection.last_error,
        "failures": connection.failures,
        "next_sync_at": connection.next_sync_at,
        "busy_times": connection.busy.count(),
    }
