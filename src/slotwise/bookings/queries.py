"""Reading an organization's bookings: one by id, or a page of those starting on some dates.

Read only, and scoped by construction: every function takes the organization
and sees nothing of another's, so another organization's booking is not
found exactly as a missing one is not. Errors a caller can make are
:class:`BookingQueryError` subclasses, or the date-range errors of
:mod:`slotwise.availability.services` (the same limits as the slots query);
nothing here knows HTTP.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, Q, QuerySet, prefetch_related_objects

from slotwise import cursors
from slotwise.availability.services import check_range
from slotwise.bookings.models import Allocation, Booking, BookingEvent, BookingStatus
from slotwise.bookings.services import BookingNotFound
from slotwise.cursors import MAX_ID
from slotwise.organizations.models import Organization

__all__ = [
    "MAX_ID",
    "BookingQueryError",
    "InvalidCursor",
    "InvalidStatus",
    "Page",
    "access_booking",
    "bookings_starting",
    "load_details",
]

"""The largest id a query may name: PostgreSQL's bigint."""


class BookingQueryError(Exception):
    """A booking query that cannot be answered as asked; the message says why."""


class InvalidStatus(BookingQueryError):
    """Not one of the :class:`~slotwise.bookings.models.BookingStatus` values."""


class InvalidCursor(BookingQueryError):
    """A ``cursor`` that no page of bookings handed out."""


@dataclass(frozen=True, slots=True)
class Page:
    """Bookings in order of start, then id; ``next`` resumes after the last, if more follow."""

    bookings: list[Booking]
    next: str | None


def access_booking(
    organization: Organization, booking_id: int, *, within: frozenset[int] | None = None
) -> Booking:
    """``organization``'s booking ``booking_id`` with its service, or ``BookingNotFound``
    (also when the booking is another organization's, or, given ``within``,
    when it holds none of those resources)."""
    rows = Booking.objects.select_related("service").filter(
        organization=organization, pk=booking_id
    )
    if within is not None:
        rows = rows.filter(pk__in=_holding(within))
    booking = rows.first()
    if booking is None:
        raise BookingNotFound(f"There is no booking {booking_id}.")
    return booking


def bookings_starting(
    organization: Organization,
    *,
    first: date,
    last: date,
    zone: ZoneInfo,
    resource_id: int | None = None,
    service_id: int | None = None,
    status: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
    within: frozenset[int] | None = None,
) -> Page:
    """``organization``'s bookings that start on the dates ``first`` to ``last`` in ``zone``.

    Only those holding ``resource_id`` (a booking that no longer occupies
    anything, such as a cancelled one, holds no resource), of ``service_id``
    or in ``status``, when given, and holding one of the resources ``within``
    if that is given (a staff member's own); at most ``limit`` of them, after
    ``cursor`` (a page's ``next``). Each comes with its service and the
    resources it holds (:func:`load_details`): two queries, however many
    bookings.

        >>> page = bookings_starting(org, first=date(2026, 6, 1), last=date(2026, 6, 7),
        ...                          zone=ZoneInfo("Europe/London"), status="pending")
        >>> page.bookings[0].allocations.all()[0].resource.name
        'Ann'
    """
    check_range(first, last)
    if status is not None and status not in BookingStatus.values:
        raise InvalidStatus(
            f"{status[:32]!r} is not a booking status; it is one of "
            f"{', '.join(BookingStatus.values)}."
        )
    rows = Booking.objects.select_related("service").filter(
        organization=organization,
        starts_at__gte=_first_instant(first, zone),
        starts_at__lt=_first_instant(last + timedelta(days=1), zone),
    )
    if resource_id is not None:
        rows = rows.filter(pk__in=_holding({resource_id}))
    if within is not None:
        rows = rows.filter(pk__in=_holding(within))
    if service_id is not None:
        rows = rows.filter(service_id=service_id)
    if status is not None:
        rows = rows.filter(status=status)
    if cursor is not None:
        starts_at, pk = _decode(cursor)
        rows = rows.filter(Q(starts_at__gt=starts_at) | Q(starts_at=starts_at, pk__gt=pk))
    found = list(rows.order_by("starts_at", "pk")[: limit + 1])
    page = found[:limit]
    load_details(page)
    return Page(page, _encode(page[-1]) if len(found) > limit else None)


def load_details(bookings: Sequence[Booking], *, events: bool = False) -> None:
    """Fetch, for all ``bookings`` at once, the resources they hold (as
    ``booking.allocations.all()``, each with its ``resource``, in resource id
    order) and, if ``events``, their history (``booking.events.all()``, oldest
    first). One query each."""
    lookups = [
        Prefetch(
            "allocations",
            queryset=Allocation.objects.select_related("resource").order_by("resource_id"),
        )
    ]
    if events:
        lookups.append(Prefetch("events", queryset=BookingEvent.objects.order_by("at", "id")))
    prefetch_related_objects(list(bookings), *lookups)


def _holding(resource_ids: Collection[int]) -> QuerySet[Allocation, int]:
    return Allocation.objects.filter(resource_id__in=resource_ids).values("booking_id")


def _first_instant(day: date, zone: ZoneInfo) -> datetime:
    """The first instant of ``day`` on the wall clock of ``zone``.

    Midnight with ``fold=0`` is that instant even when the clocks change at
    midnight: where they skip it, zoneinfo reads the skipped time with the offset before the
    change, which lands on the first instant after it; where midnight
    happens twice, ``fold=0`` is the first time.
    """
    return datetime.combine(day, time.min, zone)


def _encode(row: Booking) -> str:
    return cursors.encode(row.starts_at, row.pk)


def _decode(cursor: str) -> tuple[datetime, int]:
    decoded = cursors.decode(cursor)
    if decoded is None:
        raise InvalidCursor("The cursor is not one a page of bookings gave; start again.")
    return decoded
