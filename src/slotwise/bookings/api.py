"""The public booking endpoints: book, then read, confirm, move or cancel by manage token.

A customer never sees a booking's database id: the answer to a booking
carries a manage token (256 random bits, shown once, stored only as a hash),
which is the booking's address from then on. Every POST takes an
``Idempotency-Key``. Every route is rate limited per client address and per
organization (``slotwise.api.ratelimits``): reads and writes apart.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Body, Path, Router, Schema
from pydantic import Field

from slotwise.api.idempotency import IdempotencyHeader, idempotent
from slotwise.api.problems import Problem, ValidationProblem
from slotwise.api.ratelimits import READ, WRITE, ClientRate, Kind, check_organization_rate
from slotwise.availability.services import (
    SlotQueryError,
    customer_zone,
    get_bookable_service,
)
from slotwise.bookings import series as recurring
from slotwise.bookings import services
from slotwise.bookings.answers import booking_response, series_response
from slotwise.bookings.models import Booking, CancelledBy, Series
from slotwise.bookings.placing import place
from slotwise.calendars import feeds
from slotwise.organizations.tenancy import enter_tenant, entered_on_lookup
from slotwise.payments import services as payments
from slotwise.payments.answers import problem_for, quote_body

# Routes count as writes per client address unless they say they read.
router = Router(tags=["bookings"], throttle=ClientRate(WRITE))
# Public: each operation enters the organization of what it finds (see tenancy).
router.add_decorator(entered_on_lookup)
CLIENT_READS = ClientRate(READ)

TokenPath = Annotated[str, Path(min_length=20, max_length=100, description="The manage token.")]


class CustomerIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=254)
    phone: str = Field(default="", max_length=40)
    time_zone: str = Field(max_length=64, description="IANA zone the customer sees times in.")


class BookingIn(Schema):
    service_id: int = Field(ge=1, le=2**63 - 1)
    start: datetime = Field(description="ISO 8601 with an offset, e.g. 2026-07-01T09:00:00+01:00.")
    duration: int | None = Field(default=None, ge=1, description="Minutes; default the first.")
    seats: int = Field(default=1, description=f"1 to {services.MAX_SEATS}.")
    hold: bool = Field(
        default=False,
        description=f"Reserve for {services.HOLD_MINUTES} minutes during checkout, "
        "then confirm with /bookings/manage/{token}/confirm.",
    )
    customer: CustomerIn


class ReasonIn(Schema):
    reason: str = Field(default="", max_length=500, description="Kept with the booking.")


class CancelIn(ReasonIn):
    expected_refund_minor: int | None = Field(
        default=None, ge=0, description="The refund the customer was shown; see /cancellation."
    )


class QuoteOut(Schema):
    refund_minor: int
    refund: str = Field(description="The amount with its currency, e.g. 12.50 EUR.")
    charge_minor: int = Field(description="A late-cancellation fee charged to a saved card.")
    paid_minor: int
    currency: str
    percent: int
    rule: str
    valid_until: str | None = Field(description="The last instant (UTC) this quote holds.")


class RescheduleIn(Schema):
    start: datetime = Field(description="ISO 8601 with an offset, e.g. 2026-07-01T09:00:00+01:00.")


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
    terms: dict[str, Any] | None = Field(
        description="Price, payment and cancellation policy, as when it was booked."
    )
    payment: dict[str, Any] | None = Field(
        default=None,
        description="What was asked and paid; checkout carries what the browser needs to pay.",
    )
    manage_token: str | None = Field(default=None, description="Only in the answer to a booking.")


ERRORS = {
    401: Problem,
    402: Problem,
    404: Problem,
    409: Problem,
    410: Problem,
    422: ValidationProblem,
    429: Problem,
    503: Problem,
}


@router.post(
    "",
    response={201: BookingOut, 400: Problem, **ERRORS},
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
            booking, token, zone = place(
                data.service_id,
                start=data.start,
                customer=_customer(data.customer),
                now=timezone.now(),
                duration=data.duration,
                seats=data.seats,
                hold=data.hold,
            )
        except (SlotQueryError, services.BookingError, payments.PaymentError) as error:
            return problem_for(
                error,
                suggest=(data.service_id, data.start, data.customer.time_zone, data.seats),
                duration=data.duration,
            )
        return booking_response(booking, zone.key, status=201, token=token)

    return idempotent(request, "public", run)


class RecurrenceIn(Schema):
    rrule: str = Field(
        max_length=500,
        description="RFC 5545 RRULE: FREQ=DAILY, WEEKLY or MONTHLY (BYDAY=2TU, -1FR), "
        "INTERVAL, and COUNT or UNTIL; e.g. FREQ=WEEKLY;INTERVAL=2;COUNT=6.",
    )
    mode: Literal["all-or-nothing", "available"] = Field(
        default="all-or-nothing",
        description="Book only if every occurrence is free, or book the free ones and "
        "list the rest under skipped.",
    )


class SeriesIn(Schema):
    service_id: int = Field(ge=1, le=2**63 - 1)
    start: datetime = Field(description="The first occurrence, ISO 8601 with an offset.")
    duration: int | None = Field(default=None, ge=1)
    seats: int = Field(default=1, description=f"1 to {services.MAX_SEATS}.")
    recurrence: RecurrenceIn
    customer: CustomerIn


class SkippedOut(Schema):
    date: str
    time: str
    reason: str


class SeriesOut(Schema):
    rrule: str
    time_zone: str = Field(description="The wall clock the rule runs on.")
    service: dict[str, Any]
    bookings: list[BookingOut]
    skipped: list[SkippedOut] | None = None
    manage_token: str | None = Field(default=None, description="Only in the answer to booking.")


class SeriesReasonIn(Schema):
    scope: Literal["one", "following", "all"]
    occurrence: datetime | None = Field(
        default=None, description="Start of the occurrence, for one and following."
    )
    reason: str = Field(default="", max_length=500)


@router.post(
    "/series",
    response={201: SeriesOut, 400: Problem, **ERRORS},
    summary="Book a recurring series",
)
def create_series(
    request: HttpRequest, data: SeriesIn, idempotency_key: IdempotencyHeader = None
) -> HttpResponse:
    """Book every occurrence of ``recurrence.rrule`` from ``start``, in one transaction.

    The rule runs on the provider's wall clock: a weekly 14:00 stays 14:00
    across DST. ``all-or-nothing`` answers ``409 series-unavailable`` with
    the dates that cannot be had when any cannot; ``available`` books the
    free ones and lists the others under ``skipped``.
    """

    def run() -> HttpResponse:
        try:
            zone = customer_zone(data.customer.time_zone)
            service = get_bookable_service(data.service_id)
            enter_tenant(service.organization_id)
            check_organization_rate(service.organization_id, WRITE)
            if payments.checkout_needed(service):
                raise payments.PaymentsUnavailable(
                    f"{service.name} is paid when booking; book its occurrences one by one."
                )
            booked = recurring.book_series(
                service,
                first_start=data.start,
                rrule=data.recurrence.rrule,
                customer=_customer(data.customer),
                now=timezone.now(),
                all_or_nothing=data.recurrence.mode == "all-or-nothing",
                duration_minutes=data.duration,
                seats=data.seats,
            )
        except (SlotQueryError, services.BookingError, payments.PaymentError) as error:
            return problem_for(error)
        return series_response(
            booked.series, booked.bookings, booked.skipped,
            zone_name=zone.key, status=201, token=booked.token,
        )  # fmt: skip

    return idempotent(request, "public", run)


@router.get(
    "/series/{token}",
    response={200: SeriesOut, **ERRORS},
    summary="Read a recurring series",
    throttle=CLIENT_READS,
)
def read_series(request: HttpRequest, token: TokenPath) -> HttpResponse:
    series = _by_token(recurring.series_for_token, token, READ)
    if isinstance(series, HttpResponse):
        return series
    return series_response(series, list(series.bookings.order_by("starts_at", "pk")))


@router.post(
    "/series/{token}/cancel",
    response={200: SeriesOut, **ERRORS},
    summary="Cancel one occurrence, it and the following, or all",
)
def cancel_series(
    request: HttpRequest,
    token: TokenPath,
    data: SeriesReasonIn,
    idempotency_key: IdempotencyHeader = None,
) -> HttpResponse:
    """Answers the series with the cancelled bookings only."""

    def run() -> HttpResponse:
        try:
            series = recurring.series_for_token(token)
            enter_tenant(series.organization_id)
            check_organization_rate(series.organization_id, WRITE)
            cancelled = recurring.cancel_series(
                series,
                scope=data.scope,
                occurrence=data.occurrence,
                by=CancelledBy.CUSTOMER,
                now=timezone.now(),
                reason=data.reason,
            )
        except services.BookingError as error:
            return problem_for(error)
        return series_response(series, cancelled)

    return idempotent(request, f"series:{services.hash_token(token)}", run)


def _by_token[T: (Booking, Series)](
    find: Callable[[str], T], token: str, rate: Kind
) -> T | HttpResponse:
    """The booking or series of ``token``, in its organization's tenant and rate
    limit; or the problem (404) to answer."""
    try:
        found = find(token)
    except services.BookingError as error:
        return problem_for(error)
    enter_tenant(found.organization_id)
    check_organization_rate(found.organization_id, rate)
    return found


def _json(body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(json.dumps(body), content_type="application/json")


def _customer(data: CustomerIn) -> services.Customer:
    return services.Customer(
        name=data.name, email=data.email, phone=data.phone, time_zone=data.time_zone
    )


@router.get(
    "/manage/{token}",
    response={200: BookingOut, **ERRORS},
    summary="Read a booking",
    throttle=CLIENT_READS,
)
def read_booking(request: HttpRequest, token: TokenPath) -> HttpResponse:
    booking = _by_token(services.booking_for_token, token, READ)
    return booking if isinstance(booking, HttpResponse) else booking_response(booking)


@router.post(
    "/manage/{token}/confirm",
    response={200: BookingOut, **ERRORS},
    summary="Confirm a held booking",
)
def confirm_booking(
    request: HttpRequest, token: TokenPath, idempotency_key: IdempotencyHeader = None
) -> HttpResponse:
    """A hold becomes ``confirmed`` (or ``pending`` when the service needs approval).

    A booking that waits for its payment is confirmed only once the payment
    provider reports it paid (re-read from the provider, never taken from the
    request): ``402 payment-required`` until then.
    """
    return _manage(request, token, lambda b, now: payments.confirm_checkout(b, now))


@router.get(
    "/manage/{token}/calendar.ics",
    response={200: str, **ERRORS},
    summary="The booking as a calendar file",
    throttle=CLIENT_READS,
    openapi_extra={"responses": {"200": {"content": {"text/calendar": {}}}}},
)
def booking_calendar(request: HttpRequest, token: TokenPath) -> HttpResponse:
    """To add the booking to any calendar app (the same event as the emails' files)."""
    booking = _by_token(services.booking_for_token, token, READ)
    return booking if isinstance(booking, HttpResponse) else feeds.booking_calendar(booking)


@router.get(
    "/manage/{token}/cancellation",
    response={200: QuoteOut, **ERRORS},
    summary="What cancelling now would refund",
    throttle=CLIENT_READS,
)
def cancellation_quote(request: HttpRequest, token: TokenPath) -> HttpResponse:
    """The exact refund (or late-cancellation fee) of cancelling now, by the terms the
    booking was made on, and ``valid_until``: the last instant it holds. Pass
    ``refund_minor`` as ``expected_refund_minor`` when cancelling to be sure of it."""
    booking = _by_token(services.booking_for_token, token, READ)
    if isinstance(booking, HttpResponse):
        return booking
    return _json(quote_body(payments.cancellation_quote(booking, timezone.now())))


@router.post(
    "/manage/{token}/cancel", response={200: BookingOut, **ERRORS}, summary="Cancel a booking"
)
def cancel_booking(
    request: HttpRequest,
    token: TokenPath,
    data: Annotated[CancelIn, Body()] = CancelIn(),  # noqa: B008 (a schema default)
    idempotency_key: IdempotencyHeader = None,
) -> HttpResponse:
    """Cancel; the refund follows the booking's terms (see ``/cancellation``). With
    ``expected_refund_minor``, a refund that is no longer that amount (a deadline
    passed meanwhile) answers ``409 refund-changed`` with the new quote, and
    nothing is cancelled."""

    def cancel(booking: Booking, now: datetime) -> Booking:
        if data.expected_refund_minor is not None:
            quote = payments.cancellation_quote(booking, now)
            if quote.outcome.refund_minor != data.expected_refund_minor:
                raise payments.RefundChanged(
                    f"Cancelling now refunds {quote_body(quote)['refund']}, not the "
                    "amount expected; nothing was cancelled.",
                    quote,
                )
        return services.cancel(booking, by=CancelledBy.CUSTOMER, now=now, reason=data.reason)

    return _manage(request, token, cancel)


@router.post(
    "/manage/{token}/reschedule",
    response={200: BookingOut, 400: Problem, **ERRORS},
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
        booking = _by_token(services.booking_for_token, token, WRITE)
        if isinstance(booking, HttpResponse):
            return booking
        try:
            booking = operation(booking, timezone.now())
        except (SlotQueryError, services.BookingError, payments.PaymentError) as error:
            zone = booking.customer_time_zone or "UTC"
            start = wanted or booking.starts_at
            minutes = int((booking.ends_at - booking.starts_at).total_seconds() // 60)
            return problem_for(
                error, suggest=(booking.service_id, start, zone, booking.seats), duration=minutes
            )
        return booking_response(booking)

    return idempotent(request, f"manage:{services.hash_token(token)}", run)
