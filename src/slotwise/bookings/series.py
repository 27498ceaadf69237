"""Recurring series: bookings made together from a recurrence rule, and cancelled
together (one occurrence, it and the following, or all).

Each occurrence is checked and written under the same locks and rules as a
single booking (:mod:`slotwise.bookings.services`), in one transaction for
the whole series.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.db import connection, transaction

from slotwise import scheduling
from slotwise.availability.services import (
    load_pools,
    offered_duration,
)
from slotwise.bookings.models import (
    BLOCKING_STATUSES,
    Booking,
    BookingStatus,
    CancelledBy,
    Series,
)
from slotwise.bookings.services import (
    BookingError,
    BookingNotFound,
    Customer,
    InvalidTransition,
    SlotUnavailable,
    StartRefused,
    _allocate,
    _check,
    _check_customer,
    _check_start_and_seats,
    _lock_service,
    _locked,
    _log,
    _release,
    hash_token,
)
from slotwise.bookings.terms import terms_for
from slotwise.catalog.models import Service

__all__ = [
    "MAX_OCCURRENCES",
    "InvalidRecurrence",
    "SeriesBooked",
    "SeriesUnavailable",
    "Skipped",
    "book_series",
    "cancel_series",
    "series_for_token",
    "series_zone",
]


class SeriesUnavailable(BookingError):
    """All-or-nothing was asked and some occurrences cannot be booked (``skipped``)."""

    def __init__(self, message: str, skipped: list[Skipped]) -> None:
        super().__init__(message)
        self.skipped = skipped


class InvalidRecurrence(BookingError):
    """The recurrence rule cannot be used (the message says why)."""


@dataclass(frozen=True, slots=True)
class Skipped:
    """An occurrence not booked: its wall-clock start in the series' zone, and why."""

    wall: datetime
    reason: str


@dataclass(frozen=True, slots=True)
class SeriesBooked:
    series: Series
    bookings: list[Booking]
    skipped: list[Skipped]
    token: str


MAX_OCCURRENCES = 104
"""Two years of a weekly series."""


def series_zone(service: Service) -> ZoneInfo:
    """The wall clock a series of ``service`` runs on: the zone of the resources of its
    first requirement when they share one, else the organization's."""
    pools, resources = load_pools(service)
    zones = {resources[rid].time_zone for rid in (pools[0] if pools else [])}
    name = zones.pop() if len(zones) == 1 else service.organization.time_zone
    return ZoneInfo(name)


def book_series(
    service: Service,
    *,
    first_start: datetime,
    rrule: str,
    customer: Customer,
    now: datetime,
    all_or_nothing: bool = True,
    duration_minutes: int | None = None,
    seats: int = 1,
) -> SeriesBooked:
    """Book every occurrence of ``rrule`` from ``first_start``, in one transaction.

    The rule runs on the wall clock of :func:`series_zone` (a 14:00 weekly
    booking stays 14:00 across DST). Each occurrence is checked like a single
    booking, counting the series' own earlier occurrences (for daily and
    weekly limits). With ``all_or_nothing`` one refused occurrence refuses
    the series (:class:`SeriesUnavailable`, listing them); otherwise the free
    ones are booked and the rest listed as skipped, and at least one must be
    free. The series has one manage token; its bookings are reached through it.
    """
    _check_start_and_seats(first_start, seats, now)
    _check_customer(customer)
    duration = offered_duration(service, duration_minutes)
    zone = series_zone(service)
    try:
        occurrences = scheduling.expand(
            rrule, first_start.astimezone(zone), max_occurrences=MAX_OCCURRENCES
        )
    except scheduling.RecurrenceError as error:
        raise InvalidRecurrence(str(error)) from None
    token = secrets.token_urlsafe(32)
    status = BookingStatus.PENDING if service.requires_approval else BookingStatus.CONFIRMED
    terms = terms_for(service, seats, zone.key)

    def attempt() -> SeriesBooked:
        locked = _lock_service(service, now)
        series = Series.objects.create(
            organization_id=service.organization_id,
            service=service,
            rrule=rrule.strip()[:500],
            time_zone=zone.key,
            manage_token_hash=hash_token(token),
            created_at=now,
        )
        booked: list[Booking] = []
        skipped: list[Skipped] = []
        for occurrence in occurrences:
            if occurrence.start is None:
                skipped.append(Skipped(occurrence.wall, occurrence.reason))
                continue
            start = occurrence.start
            try:
                if start <= now:
                    raise StartRefused("in-past", f"{start.isoformat()} is in the past.")
                picked = _check(locked, start, duration, seats, now)
            except (SlotUnavailable, StartRefused) as refused:
                skipped.append(Skipped(occurrence.wall, str(refused)))
                continue
            booking = Booking.objects.create(
                organization_id=service.organization_id,
                service=service,
                series=series,
                starts_at=start,
                ends_at=start + timedelta(minutes=duration),
                seats=seats,
                status=status,
                customer_name=customer.name,
                customer_email=customer.email,
                customer_phone=customer.phone,
                customer_time_zone=customer.time_zone,
                terms=terms,
                created_at=now,
                updated_at=now,
            )
            _allocate(booking, service, picked, locked.resources)
            _log(booking, "booking.created", CancelledBy.CUSTOMER, now, status=status,
                 series=series.pk)  # fmt: skip
            booked.append(booking)
        if skipped and all_or_nothing:
            raise SeriesUnavailable(
                f"{len(skipped)} of {len(occurrences)} occurrences cannot be booked; "
                "nothing was booked.",
                skipped,
            )
        if not booked:
            raise SeriesUnavailable("No occurrence of the series can be booked.", skipped)
        return SeriesBooked(series, booked, skipped, token)

    return _locked(attempt)


def series_for_token(token: str) -> Series:
    series = (
        Series.objects.with_scopes_disabled()
        .select_related("service")
        .filter(manage_token_hash=hash_token(token))
        .first()
    )
    if series is None:
        raise BookingNotFound("No series has this manage token.")
    return series


def cancel_series(
    series: Series,
    *,
    scope: str,
    by: str,
    now: datetime,
    occurrence: datetime | None = None,
    reason: str = "",
) -> list[Booking]:
    """Cancel ``all`` of a series' bookings still occupying their slots, only the ``one``
    starting at ``occurrence``, or that one and the ``following``; the cancelled ones."""
    if scope not in ("all", "one", "following"):
        raise InvalidTransition(f"Cancel 'all', 'one' or 'following', not {scope!r}.")
    if scope != "all" and occurrence is None:
        raise InvalidTransition(f"Say which occurrence to cancel {scope!r} from.")
    with transaction.atomic():
        bookings = Booking.objects.filter(series=series, status__in=BLOCKING_STATUSES)
        if scope == "one":
            bookings = bookings.filter(starts_at=occurrence)
        elif scope == "following":
            bookings = bookings.filter(starts_at__gte=occurrence)
        if connection.vendor == "postgresql":
            bookings = bookings.select_for_update(of=("self",))
        chosen = list(bookings.select_related("service").order_by("starts_at", "pk"))
        if not chosen:
            raise InvalidTransition("No booking of the series that can be cancelled starts then.")
        return [_release(booking, by, reason, now, "booking.cancelled") for booking in chosen]
