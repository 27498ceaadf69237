"""The staff API for bookings: list them, read one with its history, and act on it.

Mounted at ``/api/v1/staff/bookings``. Every operation needs an organization
API key (``Authorization: Bearer <key>``) and sees only that organization's
bookings: another organization's booking id answers 404 ``not-found``,
exactly as a missing one does. A booking is shown as the public API shows it,
plus its ``id``, the ``resources`` it holds and ``created_at``; its times are
in the zone asked for (``tz``), else in the organization's, and in UTC.

Each action calls the operation of :mod:`slotwise.bookings.services` of the
same name and answers the booking, or the same problems as the public API
(409 ``invalid-transition`` when the booking's status does not allow it, 409
``slot-unavailable`` with ``suggestions`` when an approval or a move no
longer fits). Every POST takes an ``Idempotency-Key``, so a retried approve
is answered as the first one was.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Body, Path, Query, Schema
from pydantic import Field

from slotwise.accounts.access import Caller
from slotwise.accounts.permissions import Permission
from slotwise.api.idempotency import IdempotencyHeader, idempotent
from slotwise.api.problems import Problem, ValidationProblem, problem_response
from slotwise.availability.api import PROBLEMS as SLOT_PROBLEMS
from slotwise.availability.services import MAX_DAYS, SlotQueryError, customer_zone
from slotwise.bookings import queries, services
from slotwise.bookings.answers import booking_body, problem_for, utc
from slotwise.bookings.api import ReasonIn, RescheduleIn
from slotwise.bookings.models import Booking, BookingStatus, CancelledBy
from slotwise.organizations.auth import StaffRouter, requires

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "router"]

router = StaffRouter(tags=["staff: bookings"])

DEFAULT_LIMIT = 100
MAX_LIMIT = 500

# Problem type and title for each error of a booking query (all 400).
PROBLEMS: dict[type[queries.BookingQueryError], tuple[str, str]] = {
    queries.InvalidStatus: ("invalid-status", "Invalid status"),
    queries.InvalidCursor: ("invalid-cursor", "Invalid cursor"),
}

IdPath = Annotated[int, Path(ge=1, le=queries.MAX_ID, description="The booking's id.")]
IdQuery = Annotated[int | None, Query(ge=1, le=queries.MAX_ID)]
ZoneQuery = Annotated[
    str | None,
    Query(max_length=64, description="IANA zone to show times in; default the organization's."),
]

# Bodies and answers


class HeldResourceOut(Schema):
    id: int
    name: str


class StaffEventOut(Schema):
    at: str
    action: str
    actor: str = Field(description="customer, staff or system.")
    data: dict[str, Any]


class ListedBookingOut(Schema):
    id: int
    status: BookingStatus
    service: dict[str, Any]
    start: str
    end: str
    start_utc: str
    end_utc: str
    time_zone: str
    seats: int
    expires_at: str | None
    customer: dict[str, str]
    cancelled_at: str | None
    cancelled_by: str
    cancel_reason: str
    resources: list[HeldResourceOut] = Field(
        description="What the booking occupies; none once it stops occupying (cancelled...)."
    )
    created_at: str


class StaffBookingOut(ListedBookingOut):
    history: list[StaffEventOut] = Field(description="Oldest first.")


class BookingPageOut(Schema):
    time_zone: str
    start: date
    end: date
    bookings: list[ListedBookingOut]
    next: str | None = Field(description="The cursor of the next page; none after the last.")


READ = {401: Problem, 404: Problem, 422: ValidationProblem}
ACT = {**READ, 409: Problem}
MOVE = {**ACT, 400: Problem, 503: Problem}

# Reading


@router.get(
    "",
    response={200: BookingPageOut, 400: Problem, 401: Problem, 422: ValidationProblem},
    summary="Bookings starting on some dates",
)
@requires(Permission.BOOKINGS_READ)
def list_bookings(
    request: HttpRequest,
    start: Annotated[date, Query(description="First date, in the zone `tz`.")],
    end: Annotated[date, Query(description=f"Last date (inclusive); at most {MAX_DAYS} dates.")],
    tz: ZoneQuery = None,
    resource_id: IdQuery = None,
    service_id: IdQuery = None,
    status: Annotated[str | None, Query(description="One of the booking statuses.")] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(max_length=100, description="A page's `next`.")] = None,
) -> HttpResponse:
    """The organization's bookings whose start falls on the dates ``start`` to
    ``end`` in ``tz``, in order of start then id, without their history.

    ``resource_id`` keeps those that hold the resource (a cancelled booking
    holds nothing), ``service_id`` and ``status`` those of the service and in
    the status. At most ``limit``; when more follow, ``next`` is the
    ``cursor`` that asks for them. Errors are 400 problems:
    ``invalid-timezone``, ``invalid-date-range``, ``range-too-long`` (as for
    slots), ``invalid-status`` and ``invalid-cursor``.
    """
    caller: Caller = request.auth
    organization = caller.organization
    try:
        zone = customer_zone(tz or organization.time_zone)
        page = queries.bookings_starting(
            organization,
            first=start,
            last=end,
            zone=zone,
            resource_id=resource_id,
            service_id=service_id,
            status=status,
            limit=limit,
            cursor=cursor,
            within=caller.resource_ids,
        )
    except SlotQueryError as error:
        kind, code, title = SLOT_PROBLEMS[type(error)]
        return problem_response(code, kind, title, str(error))
    except queries.BookingQueryError as error:
        kind, title = PROBLEMS[type(error)]
        return problem_response(400, kind, title, str(error))
    return _json(
        {
            "time_zone": zone.key,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "bookings": [_listed(booking, zone) for booking in page.bookings],
            "next": page.next,
        }
    )


@router.get(
    "/{booking_id}",
    response={200: StaffBookingOut, 400: Problem, **READ},
    summary="A booking and its history",
)
@requires(Permission.BOOKINGS_READ)
def read_booking(request: HttpRequest, booking_id: IdPath, tz: ZoneQuery = None) -> HttpResponse:
    caller: Caller = request.auth
    try:
        zone = customer_zone(tz or caller.organization.time_zone)
        booking = queries.access_booking(
            caller.organization, booking_id, within=caller.resource_ids
        )
    except (SlotQueryError, services.BookingError) as error:
        return problem_for(error)
    return _json(_staff_view(booking, zone.key))


# Acting


@router.post(
    "/{booking_id}/approve",
    response={200: StaffBookingOut, **MOVE},
    summary="Approve a pending booking",
)
@requires(Permission.BOOKINGS_WRITE)
def approve_booking(
    request: HttpRequest, booking_id: IdPath, idempotency_key: IdempotencyHeader = None
) -> HttpResponse:
    """Confirm a pending booking, once it is checked, under lock, that it still fits.

    If it no longer does (a busy time was added since it was asked for...),
    ``409 slot-unavailable`` with ``suggestions``, and it stays pending, to be
    moved or rejected.
    """
    return _act(request, booking_id, lambda b, now: services.approve(b, now=now))


@router.post(
    "/{booking_id}/reject",
    response={200: StaffBookingOut, **ACT},
    summary="Reject a pending booking",
)
@requires(Permission.BOOKINGS_WRITE)
def reject_booking(
    request: HttpRequest,
    booking_id: IdPath,
    data: Annotated[ReasonIn, Body()] = ReasonIn(),  # noqa: B008 (a schema default)
    idempotency_key: IdempotencyHeader = None,
) -> HttpResponse:
    """Turn down a pending booking: cancelled by staff, its slot freed."""
    return _act(request, booking_id, lambda b, now: services.reject(b, now=now, reason=data.reason))


@router.post(
    "/{booking_id}/cancel", response={200: StaffBookingOut, **ACT}, summary="Cancel a booking"
)
@requires(Permission.BOOKINGS_WRITE)
def cancel_booking(
    request: HttpRequest,
    booking_id: IdPath,
    data: Annotated[ReasonIn, Body()] = ReasonIn(),  # noqa: B008 (a schema default)
    idempotency_key: IdempotencyHeader = None,
) -> HttpResponse:
    """Cancel a held, pending or confirmed booking on the organization's side."""
    return _act(
        request,
        booking_id,
        lambda b, now: services.cancel(b, by=CancelledBy.STAFF, now=now, reason=data.reason),
    )


@router.post(
    "/{booking_id}/reschedule",
    response={200: StaffBookingOut, **MOVE},
    summary="Move a booking",
)
@requires(Permission.BOOKINGS_WRITE)
def reschedule_booking(
    request: HttpRequest,
    booking_id: IdPath,
    data: RescheduleIn,
    idempotency_key: IdempotencyHeader = None,
) -> HttpResponse:
    """Move to ``start`` atomically, checked as a new booking would be; if that
    slot cannot be had, nothing changes."""
    return _act(
        request,
        booking_id,
        lambda b, now: services.reschedule(b, start=data.start, now=now, by=CancelledBy.STAFF),
        wanted=data.start,
    )


@router.post(
    "/{booking_id}/complete",
    response={200: StaffBookingOut, **ACT},
    summary="Mark a booking completed",
)
@requires(Permission.BOOKINGS_WRITE)
def complete_booking(
    request: HttpRequest, booking_id: IdPath, idempotency_key: IdempotencyHeader = None
) -> HttpResponse:
    """A confirmed booking that has started took place."""
    return _act(
        request, booking_id, lambda b, now: services.mark(b, BookingStatus.COMPLETED, now=now)
    )


@router.post(
    "/{booking_id}/no-show",
    response={200: StaffBookingOut, **ACT},
    summary="Mark a booking a no-show",
)
@requires(Permission.BOOKINGS_WRITE)
def no_show_booking(
    request: HttpRequest, booking_id: IdPath, idempotency_key: IdempotencyHeader = None
) -> HttpResponse:
    """The customer of a confirmed booking that has started did not come."""
    return _act(
        request, booking_id, lambda b, now: services.mark(b, BookingStatus.NO_SHOW, now=now)
    )


def _act(
    request: HttpRequest,
    booking_id: int,
    operation: Callable[[Booking, datetime], Booking],
    wanted: datetime | None = None,
) -> HttpResponse:
    """Run ``operation`` on the organization's booking ``booking_id``, once per
    ``Idempotency-Key``; ``wanted`` is the start asked for, for suggestions
    when it is taken."""
    caller: Caller = request.auth
    organization = caller.organization

    def run() -> HttpResponse:
        try:
            booking = queries.access_booking(organization, booking_id, within=caller.resource_ids)
        except services.BookingError as error:
            return problem_for(error)
        try:
            booking = operation(booking, timezone.now())
        except (SlotQueryError, services.BookingError) as error:
            start = wanted or booking.starts_at
            minutes = int((booking.ends_at - booking.starts_at).total_seconds() // 60)
            return problem_for(
                error,
                suggest=(booking.service_id, start, organization.time_zone, booking.seats),
                duration=minutes,
            )
        return _json(_staff_view(booking, organization.time_zone))

    return idempotent(request, f"staff:{organization.pk}", run)


# From rows to JSON


def _staff_view(booking: Booking, zone_name: str) -> dict[str, Any]:
    """The booking as the public API shows it, with what staff see besides."""
    queries.load_details([booking], events=True)
    body = booking_body(booking, zone_name, history=False)
    return {
        "id": booking.pk,
        **body,
        **_staff_fields(booking),
        "history": [
            {"at": utc(event.at), "action": event.action, "actor": event.actor, "data": event.data}
            for event in booking.events.all()
        ],
    }


def _listed(booking: Booking, zone: ZoneInfo) -> dict[str, Any]:
    """:func:`_staff_view` without the history, from rows already loaded."""
    return {"id": booking.pk, **booking_body(booking, zone.key, history=False),
            **_staff_fields(booking)}  # fmt: skip


def _staff_fields(booking: Booking) -> dict[str, Any]:
    return {
        "resources": [
            {"id": allocation.resource.pk, "name": allocation.resource.name}
            for allocation in booking.allocations.all()
        ],
        "created_at": utc(booking.created_at),
    }


def _json(body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(json.dumps(body), content_type="application/json")
