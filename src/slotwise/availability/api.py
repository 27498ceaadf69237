"""``GET /services/{id}/slots``: bookable slots of a service, in the customer's zone."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Path, Query, Router, Schema

from slotwise.api.problems import Problem, ValidationProblem, problem_response
from slotwise.api.ratelimits import READ, ClientRate, check_organization_rate
from slotwise.availability.services import (
    MAX_DAYS,
    DurationNotOffered,
    InvalidDateRange,
    InvalidSeats,
    InvalidTimeZone,
    RangeTooLong,
    ServiceNotFound,
    SlotQueryError,
    customer_zone,
    find_service_slots,
    get_bookable_service,
)
from slotwise.catalog.models import Service
from slotwise.organizations.tenancy import enter_tenant, entered_on_lookup
from slotwise.scheduling import SlotDay
from slotwise.scheduling.refunds import parse_policy, policy_dict

# Every route here is a public read, limited per client address.
router = Router(tags=["availability"], throttle=ClientRate(READ))
# Public: each operation enters the organization of what it finds (see tenancy).
router.add_decorator(entered_on_lookup)

# Problem type, status and title for each error a slot query can meet.
PROBLEMS: dict[type[SlotQueryError], tuple[str, int, str]] = {
    ServiceNotFound: ("not-found", 404, "Not found"),
    InvalidDateRange: ("invalid-date-range", 400, "Invalid date range"),
    RangeTooLong: ("range-too-long", 400, "Date range too long"),
    InvalidTimeZone: ("invalid-timezone", 400, "Invalid time zone"),
    DurationNotOffered: ("duration-not-offered", 400, "Duration not offered"),
    InvalidSeats: ("invalid-seats", 400, "Invalid number of seats"),
}

_MAX_ID = 2**63 - 1


class ServiceOut(Schema):
    id: int
    name: str
    durations: list[int]
    currency: str
    price_minor: int


class SlotOut(Schema):
    start: str
    end: str
    start_utc: str
    end_utc: str
    remaining: int


class DayOut(Schema):
    date: date
    slots: list[SlotOut]


class SlotsOut(Schema):
    service: ServiceOut
    timezone: str
    start: date
    end: date
    days: list[DayOut]


@router.get(
    "/{service_id}/slots",
    response={200: SlotsOut, 400: Problem, 404: Problem, 422: ValidationProblem, 429: Problem},
    summary="Bookable slots of a service",
)
def service_slots(
    request: HttpRequest,
    service_id: Annotated[int, Path(ge=1, le=_MAX_ID)],
    start: Annotated[date, Query(description="First date, in the customer's zone.")],
    end: Annotated[date, Query(description=f"Last date (inclusive); at most {MAX_DAYS} dates.")],
    tz: Annotated[
        str,
        Query(max_length=64, description="The customer's IANA time zone, e.g. Asia/Tokyo."),
    ],
    duration: Annotated[
        int | None, Query(ge=1, description="Minutes; one of the service's durations.")
    ] = None,
    seats: Annotated[int, Query(ge=1, le=10_000, description="Seats wanted.")] = 1,
) -> HttpResponse:
    """Slots that start on the dates ``start`` to ``end`` of the customer's calendar.

    Every date of the range is listed, with or without slots. Each slot has its
    start and end in the customer's zone and in UTC, and ``remaining``: how
    many more seats (or parallel bookings) it can take.

    Errors are problem details whose ``type`` is ``urn:slotwise:problem:``
    followed by ``invalid-timezone``, ``invalid-date-range``, ``range-too-long``
    or ``duration-not-offered`` (400), ``not-found`` (404, also for an inactive
    service) or ``request-validation`` (422, with ``errors`` per parameter).
    Too many requests from one address, or for one organization, are
    ``rate-limited`` (429, with ``Retry-After``).
    """
    try:
        zone = customer_zone(tz)
        service = get_bookable_service(service_id)
        enter_tenant(service.organization_id)
        check_organization_rate(service.organization_id, READ)
        days = find_service_slots(
            service,
            first=start,
            last=end,
            zone=zone,
            now=timezone.now(),
            duration_minutes=duration,
            seats=seats,
        )
    except SlotQueryError as exc:
        kind, status, title = PROBLEMS[type(exc)]
        return problem_response(status, kind, title, str(exc))
    # Written by hand rather than through SlotsOut: hundreds of slots need no
    # second validation, and the strings come ready-made from the core.
    body = json.dumps(_slots_body(service, tz, start, end, days))
    return HttpResponse(body, content_type="application/json")


def _slots_body(service: Service, tz: str, start: date, end: date, days: list[SlotDay]) -> dict:
    return {
        "service": {
            "id": service.pk,
            "name": service.name,
            "durations": service.durations,
            "currency": service.currency,
            "price_minor": service.price_minor,
            # The terms a booking made now is made on, shown before booking.
            "payment_mode": service.payment_mode if service.price_minor else "none",
            "deposit_percent": service.deposit_percent,
            "deposit_minor": service.deposit_minor,
            "cancellation_policy": policy_dict(parse_policy(service.cancellation_policy)),
        },
        "timezone": tz,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "days": [
            {
                "date": day.date.isoformat(),
                "slots": [
                    {
                        "start": slot.start_iso(),
                        "end": slot.end_iso(),
                        "start_utc": slot.start_utc_iso(),
                        "end_utc": slot.end_utc_iso(),
                        "remaining": slot.remaining,
                    }
                    for slot in day.slots
                ],
            }
            for day in days
        ],
    }
