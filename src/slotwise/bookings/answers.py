"""How the booking API answers: a booking as JSON, and a problem for each refusal.

Shared by the public endpoints (:mod:`slotwise.bookings.api`) and the staff
ones, so a booking and a refusal read the same whoever asked.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from django.http import HttpResponse
from django.utils import timezone

from slotwise.api.problems import problem_response
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
from slotwise.bookings import hooks, services
from slotwise.bookings import series as recurring
from slotwise.bookings.models import Booking, Series
from slotwise.catalog.models import Service
from slotwise.operations.metrics import BOOKING_CONFLICTS
from slotwise.scheduling import Refusal

__all__ = [
    "SUGGESTIONS",
    "booking_body",
    "booking_response",
    "problem_for",
    "series_response",
    "skipped_body",
    "utc",
]

SUGGESTIONS = 3


def booking_response(
    booking: Booking, zone_name: str | None = None, *, status: int = 200, token: str | None = None
) -> HttpResponse:
    body = booking_body(booking, zone_name)
    if token is not None:
        body["manage_token"] = token
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def booking_body(
    booking: Booking, zone_name: str | None = None, *, history: bool = True
) -> dict[str, Any]:
    """The booking as the API shows it, its times in ``zone_name`` (default: the
    customer's zone) and in UTC; ``history`` (one query) unless asked not to."""
    zone = customer_zone(zone_name or booking.customer_time_zone or "UTC")
    service: Service = booking.service
    body = {
        "status": booking.status,
        "service": {"id": service.pk, "name": service.name},
        "start": booking.starts_at.astimezone(zone).isoformat(),
        "end": booking.ends_at.astimezone(zone).isoformat(),
        "start_utc": utc(booking.starts_at),
        "end_utc": utc(booking.ends_at),
        "time_zone": zone.key,
        "seats": booking.seats,
        "expires_at": utc(booking.expires_at) if booking.expires_at else None,
        "customer": {
            "name": booking.customer_name,
            "email": booking.customer_email,
            "phone": booking.customer_phone,
        },
        "cancelled_at": utc(booking.cancelled_at) if booking.cancelled_at else None,
        "cancelled_by": booking.cancelled_by,
        "cancel_reason": booking.cancel_reason,
        "terms": booking.terms or None,
        **hooks.describe(booking),
    }
    if history:
        body["history"] = [
            {"at": utc(at), "action": action}
            for at, action in booking.events.order_by("at", "id").values_list("at", "action")
        ]
    return body


def utc(moment: datetime) -> str:
    """``2026-06-01T09:00:00Z``."""
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


def problem_for(
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
        BOOKING_CONFLICTS.inc()
        suggestions = _suggestions(*suggest, duration) if suggest else []
        return problem_response(
            409, "slot-unavailable", "Slot unavailable", str(error), suggestions=suggestions
        )
    if isinstance(error, services.InvalidCustomer):
        return problem_response(400, "invalid-customer", "Invalid customer details", str(error))
    if isinstance(error, recurring.InvalidRecurrence):
        return problem_response(400, "invalid-recurrence", "Invalid recurrence rule", str(error))
    if isinstance(error, recurring.SeriesUnavailable):
        return problem_response(
            409,
            "series-unavailable",
            "Series unavailable",
            str(error),
            skipped=[skipped_body(s) for s in error.skipped],
        )
    if isinstance(error, services.HoldExpired):
        return problem_response(410, "hold-expired", "Hold expired", str(error))
    if isinstance(error, services.RescheduleRefused):
        return problem_response(
            409, "reschedule-not-allowed", "Cannot be moved", str(error), refusal=error.refusal
        )
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


def skipped_body(skipped: recurring.Skipped) -> dict[str, str]:
    """An occurrence not booked: its date and wall-clock time on the series' clock, and why."""
    return {
        "date": skipped.wall.date().isoformat(),
        "time": skipped.wall.strftime("%H:%M"),
        "reason": skipped.reason,
    }


def series_response(
    series: Series,
    bookings: list[Booking],
    skipped: list[recurring.Skipped] | None = None,
    *,
    zone_name: str | None = None,
    status: int = 200,
    token: str | None = None,
) -> HttpResponse:
    """A series with its bookings (times in ``zone_name``, default each customer's zone)."""
    body: dict[str, Any] = {
        "rrule": series.rrule,
        "time_zone": series.time_zone,
        "service": {"id": series.service_id, "name": series.service.name},
        "bookings": [booking_body(b, zone_name) for b in bookings],
    }
    if skipped is not None:
        body["skipped"] = [skipped_body(s) for s in skipped]
    if token is not None:
        body["manage_token"] = token
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")
