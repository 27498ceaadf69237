"""The public booking endpoints: book, then read, confirm, move or cancel by manage token.

A customer never sees a booking's database id: the answer to a booking
carries a manage token (256 random bits, shown once, stored only as a hash),
which is the booking's address from then on. Every POST takes an
``Idempotency-Key``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Body, Header, Path, Router, Schema
from pydantic import Field

from slotwise.api.idempotency import HEADER, idempotent
from slotwise.api.problems import Problem, ValidationProblem, problem_response
from slotwise.availability.services import (
    MAX_DAYS,
    DurationNotOffered,
    InvalidTimeZone,
    ServiceNotFound,
    SlotQueryError,
    customer_zone,
    find_service_slots,
    get_bookable_service,
)
from slotwise.bookings import services
from slotwise.bookings.models import Booking, CancelledBy
from slotwise.catalog.models import Service
from slotwise.scheduling import Refusal

router = Router(tags=["bookings"])

TokenPath = Annotated[str, Path(min_length=20, max_length=100, description="The manage token.")]
IdempotencyHeader = Annotated[
    str | None,
    Header(
        alias=HEADER,
        description="A random value (a UUID) that makes retrying this POST safe.",
    ),
]
SUGGESTIONS = 3


class CustomerIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=254)
    phone: str = Field(default="", max_length=40)
    time_zone: str = Field(max_length=64, description="IANA zone the customer sees times in.")


class BookingIn(Schema):
    service_id: int = Field(ge=1, le=2**63 - 1)
    start: datetime = Field(description="ISO 8601 with an offset, e.g. 2026-07-01T09:00:00+01:00.")
    duration: int | None = Field(default=None, ge=1, description="Minutes; default the first.")
    seats: int = Field(default=1, ge=1, le=services.MAX_SEATS)
    hold: bool = Field(
        default=False,
        description=f"Reserve for {services.HOLD_MINUTES} minutes during checkout, "
        "then confirm with /bookings/manage/{token}/confirm.",
    )
    customer: CustomerIn


class CancelIn(Schema):
    reason: str = Field(default="", max_length=500)


class RescheduleIn(Schema):
    start: datetime = Field(description="ISO 8601 with an offset.")


class EventOut(Schema):
    at: str
    action: str


class BookingOut(Schema):
    status: str
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
    history: list[EventOut]
    manage_token: str | None = Field(default=None, description="Only in the answer to a booking.")


ERRORS = {401: Problem, 404: Problem, 409: Problem, 410: Problem, 422: ValidationProblem}


@router.post(
    "",
    response={201: BookingOut, 400: Problem, **ERRORS, 503: Problem},
    summary="Book a slot",
)
def create_booking(
    request: HttpRequest, data: BookingIn, idempotency_key: IdempotencyHeader = None
) -> HttpResponse:
    """Book ``seats`` of a service from ``start``, checked under lock against every rule.

    ``201`` with the booking and its ``manage_token``. A slot taken in the
    meantime is ``409 slot-unavailable`` with ``suggestions``: the next free
    starts.
    """

    def run() -> HttpResponse:
        try:
            zone = customer_zone(data.customer.time_zone)
            service = get_bookable_service(data.service_id)
            booking, token = services.book(
                service,
                start=data.start,
                customer=services.Customer(
                    name=data.customer.name,
                    email=str(data.customer.email),
                    phone=data.customer.phone,
                    time_zone=data.customer.time_zone,
                ),
                now=timezone.now(),
                duration_minutes=data.duration,
                seats=data.seats,
                hold=data.hold,
            )
        except (SlotQueryError, services.BookingError) as error:
            return _problem(
                error,
                suggest=(data.service_id, data.start, data.customer.time_zone, data.seats),
                duration=data.duration,
            )
        return _booking_response(booking, zone.key, status=201, token=token)

    return idempotent(request, "public", run)


@router.get("/manage/{token}", response={200: BookingOut, **ERRORS}, summary="Read a booking")
def read_booking(request: HttpRequest, token: TokenPath) -> HttpResponse:
    try:
        booking = services.booking_for_token(token)
    except services.BookingError as error:
        return _problem(error)
    return _booking_response(booking)


@router.post(
    "/manage/{token}/confirm",
    response={200: BookingOut, **ERRORS},
    summary="Confirm a held booking",
)
def confirm_booking(
    request: HttpRequest, token: TokenPath, idempotency_key: IdempotencyHeader = None
) -> HttpResponse:
    """A hold becomes ``confirmed`` (or ``pending`` when the service needs approval)."""
    return _manage(request, token, lambda b, now: services.confirm_hold(b, now=now))


@router.post(
    "/manage/{token}/cancel", response={200: BookingOut, **ERRORS}, summary="Cancel a booking"
)
def cancel_booking(
    request: HttpRequest,
    token: TokenPath,
    data: Annotated[CancelIn, Body()] = CancelIn(),  # noqa: B008 (a schema default)
    idempotency_key: IdempotencyHeader = None,
) -> HttpResponse:
    return _manage(
        request,
        token,
        lambda b, now: services.cancel(b, by=CancelledBy.CUSTOMER, now=now, reason=data.reason),
    )


@router.post(
    "/manage/{token}/reschedule",
    response={200: BookingOut, 400: Problem, **ERRORS, 503: Problem},
    summary="Move a booking",
)
def reschedule_booking(
    request: HttpRequest,
    token: TokenPath,
    data: RescheduleIn,
    idempotency_key: IdempotencyHeader = None,
) -> HttpResponse:
    """Move to ``start`` atomically; if that slot cannot be had, nothing changes."""
    return _manage(
        request,
        token,
        lambda b, now: services.reschedule(b, start=data.start, now=now),
        wanted=data.start,
    )


def _manage(
    request: HttpRequest,
    token: str,
    operation: Callable[[Booking, datetime], Booking],
    wanted: datetime | None = None,
) -> HttpResponse:
    """Run ``operation`` on the booking of ``token``; ``wanted`` is the start asked for,
    for suggestions when it is taken."""

    def run() -> HttpResponse:
        try:
            booking = services.booking_for_token(token)
        except services.BookingError as error:
            return _problem(error)
        try:
            booking = operation(booking, timezone.now())
        except (SlotQueryError, services.BookingError) as error:
            zone = booking.customer_time_zone or "UTC"
            start = wanted or booking.starts_at
            minutes = int((booking.ends_at - booking.starts_at).total_seconds() // 60)
            return _problem(
                error, suggest=(booking.service_id, start, zone, booking.seats), duration=minutes
            )
        return _booking_response(booking)

    return idempotent(request, f"manage:{services.hash_token(token)}", run)


# Answers


def _booking_response(
    booking: Booking, zone_name: str | None = None, *, status: int = 200, token: str | None = None
) -> HttpResponse:
    zone = customer_zone(zone_name or booking.customer_time_zone or "UTC")
    service: Service = booking.service
    body = {
        "status": booking.status,
        "service": {"id": service.pk, "name": service.name},
        "start": booking.starts_at.astimezone(zone).isoformat(),
        "end": booking.ends_at.astimezone(zone).isoformat(),
        "start_utc": _utc(booking.starts_at),
        "end_utc": _utc(booking.ends_at),
        "time_zone": zone.key,
        "seats": booking.seats,
        "expires_at": _utc(booking.expires_at) if booking.expires_at else None,
        "customer": {
            "name": booking.customer_name,
            "email": booking.customer_email,
            "phone": booking.customer_phone,
        },
        "cancelled_at": _utc(booking.cancelled_at) if booking.cancelled_at else None,
        "cancelled_by": booking.cancelled_by,
        "cancel_reason": booking.cancel_reason,
        "history": [
            {"at": _utc(at), "action": action}
            for at, action in booking.events.order_by("at", "id").values_list("at", "action")
        ],
    }
    if token is not None:
        body["manage_token"] = token
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


_START_PROBLEMS = {
    "naive": ("naive-time", "Time without offset"),
    "in-past": ("start-in-past", "Start in the past"),
    "seats": ("invalid-seats", "Invalid number of seats"),
    Refusal.NOT_ON_GRID: ("start-not-on-grid", "Not a start time of the service"),
    Refusal.CLOSED: ("outside-hours", "Outside opening hours"),
    Refusal.TOO_SOON: ("too-short-notice", "Too short notice"),
    Refusal.TOO_FAR: ("beyond-horizon", "Too far ahead"),
    Refusal.TOO_MANY_SEATS: ("invalid-seats", "Invalid number of seats"),
}


def _problem(
    error: SlotQueryError | services.BookingError,
    *,
    suggest: tuple[int, datetime, str, int] | None = None,
    duration: int | None = None,
) -> HttpResponse:
    """The problem answer for an error of the availability or booking services.

    ``suggest`` (service id, start, zone, seats) lets a taken slot answer
    with the next free ones.
    """
    if isinstance(error, ServiceNotFound | services.BookingNotFound):
        return problem_response(404, "not-found", "Not found", str(error))
    if isinstance(error, InvalidTimeZone):
        return problem_response(400, "invalid-timezone", "Invalid time zone", str(error))
    if isinstance(error, DurationNotOffered):
        return problem_response(400, "duration-not-offered", "Duration not offered", str(error))
    if isinstance(error, services.StartRefused):
        kind, title = _START_PROBLEMS[error.refusal]
        return problem_response(400, kind, title, str(error))
    if isinstance(error, services.SlotUnavailable):
        suggestions = _suggestions(*suggest, duration) if suggest else []
        return problem_response(
            409, "slot-unavailable", "Slot unavailable", str(error), suggestions=suggestions
        )
    if isinstance(error, services.InvalidCustomer):
        return problem_response(400, "invalid-customer", "Invalid customer details", str(error))
    if isinstance(error, services.HoldExpired):
        return problem_response(410, "hold-expired", "Hold expired", str(error))
    if isinstance(error, services.InvalidTransition):
        return problem_response(409, "invalid-transition", "Not possible now", str(error))
    if isinstance(error, services.ResourcesBusy):
        response = problem_response(503, "resources-busy", "Busy, try again", str(error))
        response["Retry-After"] = "1"
        return response
    return problem_response(400, "invalid-request", "Invalid request", str(error))


def _suggestions(
    service_id: int, start: datetime, zone_name: str, seats: int, duration: int | None
) -> list[dict[str, str]]:
    """The next few free starts after ``start``, within a week, in the customer's zone."""
    try:
        zone = customer_zone(zone_name)
        service = get_bookable_service(service_id)
        first = start.astimezone(zone).date()
        days = find_service_slots(
            service,
            first=first,
            last=first + timedelta(days=min(7, MAX_DAYS) - 1),
            zone=zone,
            now=timezone.now(),
            duration_minutes=duration,
            seats=seats,
        )
    except SlotQueryError:
        return []
    after = int(start.timestamp())
    found = [
        {"start": slot.start_iso(), "end": slot.end_iso()}
        for day in days
        for slot in day.slots
        if slot.start_ts > after
    ]
    return found[:SUGGESTIONS]
