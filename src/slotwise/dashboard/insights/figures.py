"""The numbers behind the reports page: bookings, no-shows and utilisation per period.

Periods are weeks (Monday first) or calendar months in the organization's
zone, ending with the current one. Counting is done by the database
(``Trunc`` and ``Count``); opening hours come from the same code the slot
finder uses (:func:`slotwise.catalog.services.load_hours` and the core's
:class:`~slotwise.scheduling.Schedule`). A staff member (a caller with
``resource_ids``) is shown the bookings of their own resources only, as the
staff bookings API shows them; a cancelled booking holds no resource, so
theirs are not counted.

Five queries, whatever the range or the number of bookings and resources.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncMonth, TruncWeek

from slotwise import scheduling
from slotwise.bookings.models import Allocation, Booking, BookingStatus
from slotwise.catalog.models import Resource
from slotwise.catalog.services import load_hours
from slotwise.organizations.models import Organization
from slotwise.scheduling.intervals import intersect, normalize, total
from slotwise.scheduling.zones import zone_window

__all__ = ["DEFAULT_RANGE", "RANGES", "Period", "Report", "build_report", "periods"]

RANGES: dict[str, tuple[int, str]] = {"4w": (4, "week"), "12w": (12, "week"), "12m": (12, "month")}
"""The ranges one may choose: how many periods of which kind, up to the current one."""
DEFAULT_RANGE = "4w"

STATUSES: tuple[str, ...] = tuple(BookingStatus.values)
TOOK_PLACE = (BookingStatus.CONFIRMED, BookingStatus.COMPLETED, BookingStatus.NO_SHOW)
"""Bookings that were due to happen: the no-show rate is taken over these."""
OCCUPYING = (*TOOK_PLACE, BookingStatus.PENDING)
"""Bookings whose time counts as booked for utilisation (not holds, not cancelled)."""


@dataclass(frozen=True, slots=True)
class Period:
    """The local dates ``start`` to ``end`` (exclusive): a week or a month."""

    start: date
    end: date
    unit: str

    @property
    def last(self) -> date:
        return self.end - timedelta(days=1)


@dataclass(frozen=True, slots=True)
class PeriodCounts:
    period: Period
    created: dict[str, int]
    no_shows: int
    due: int

    @property
    def created_total(self) -> int:
        return sum(self.created.values())

    @property
    def no_show_percent(self) -> float | None:
        """No-shows out of the bookings due in the period, or ``None`` when none were due."""
        return None if not self.due else 100 * self.no_shows / self.due


@dataclass(frozen=True, slots=True)
class Utilisation:
    resource: Resource
    open_minutes: int
    booked_minutes: int

    @property
    def percent(self) -> float | None:
        """Booked time within opening hours, out of the opening hours; ``None`` when closed."""
        return None if not self.open_minutes else 100 * self.booked_minutes / self.open_minutes


@dataclass(slots=True)
class Report:
    zone: ZoneInfo
    periods: list[Period]
    rows: list[PeriodCounts] = field(default_factory=list)
    utilisation: list[Utilisation] = field(default_factory=list)

    @property
    def first(self) -> date:
        return self.periods[0].start

    @property
    def last(self) -> date:
        return self.periods[-1].last


def periods(choice: str, today: date) -> list[Period]:
    """The periods of range ``choice`` (a key of :data:`RANGES`) up to the one of ``today``."""
    count, unit = RANGES[choice]
    if unit == "week":
        monday = today - timedelta(days=today.weekday())
        starts = [monday - timedelta(weeks=n) for n in range(count - 1, -1, -1)]
        return [Period(s, s + timedelta(weeks=1), unit) for s in starts]
    index = today.year * 12 + today.month - 1
    months = [index - n for n in range(count - 1, -1, -1)]
    return [Period(_month(m), _month(m + 1), unit) for m in months]


def _month(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone)


def build_report(
    organization: Organization,
    choice: str,
    now: datetime,
    *,
    within: Collection[int] | None = None,
) -> Report:
    """Everything the reports page shows for range ``choice`` as of ``now``."""
    zone = ZoneInfo(organization.time_zone)
    report = Report(zone, periods(choice, now.astimezone(zone).date()))
    since, until = _midnight(report.first, zone), _midnight(report.periods[-1].end, zone)
    unit = report.periods[0].unit
    bookings = Booking.objects.filter(organization=organization)
    if within is not None:
        holding = Allocation.objects.filter(resource_id__in=within).values("booking_id")
        bookings = bookings.filter(pk__in=holding)

    created = _by_period(
        bookings.filter(created_at__gte=since, created_at__lt=until), "created_at", unit, zone
    ).values("period", "status")
    created_counts: dict[date, dict[str, int]] = defaultdict(dict)
    for row in created.annotate(n=Count("id")).order_by():
        created_counts[_local_date(row["period"], zone)][row["status"]] = row["n"]

    # Only what was due by now: a booking later this week cannot have been missed yet.
    due = _by_period(
        bookings.filter(starts_at__gte=since, starts_at__lt=min(until, now), status__in=TOOK_PLACE),
        "starts_at",
        unit,
        zone,
    ).values("period")
    due_counts = {
        _local_date(row["period"], zone): (row["no_shows"], row["due"])
        for row in due.annotate(
            due=Count("id"), no_shows=Count("id", filter=Q(status=BookingStatus.NO_SHOW))
        ).order_by()
    }
    for period in report.periods:
        counts = created_counts.get(period.start, {})
        no_shows, due_count = due_counts.get(period.start, (0, 0))
        report.rows.append(
            PeriodCounts(period, {s: counts.get(s, 0) for s in STATUSES}, no_shows, due_count)
        )
    report.utilisation = utilisation(organization, since, until, within=within)
    return report


def _by_period(rows: QuerySet[Booking], column: str, unit: str, zone: ZoneInfo) -> QuerySet:
    trunc = TruncWeek if unit == "week" else TruncMonth
    return rows.annotate(period=trunc(column, tzinfo=zone))


def _local_date(value: date | datetime, zone: ZoneInfo) -> date:
    return value.astimezone(zone).date() if isinstance(value, datetime) else value


def utilisation(
    organization: Organization,
    since: datetime,
    until: datetime,
    *,
    within: Collection[int] | None = None,
) -> list[Utilisation]:
    """Per active resource with hours: minutes open from ``since`` to ``until`` (weekly
    hours, overrides, closures and public holidays, in the resource's own zone) and
    minutes of them booked (bookings overlapping each other count once). Three queries."""
    resources = Resource.objects.filter(
        organization=organization, active=True, schedule__isnull=False
    ).select_related("schedule")
    if within is not None:
        resources = resources.filter(pk__in=within)
    found = list(resources.order_by("name", "pk"))
    if not found:
        return []
    lo, hi = scheduling.instant(since), scheduling.instant(until)
    first, last = since.date() - timedelta(days=1), until.date() + timedelta(days=1)
    hours = load_hours(
        {
            r.schedule_id: (r.schedule.holiday_country, r.schedule.holiday_subdivision)
            for r in found
            if r.schedule is not None and r.schedule_id is not None
        },
        first,
        last,
    )
    booked: dict[int, list[tuple[int, int]]] = defaultdict(list)
    taken = (
        Allocation.objects.filter(
            resource_id__in=[r.pk for r in found],
            booking__status__in=OCCUPYING,
            booking__starts_at__lt=until,
            booking__ends_at__gt=since,
        )
        .values_list("resource_id", "booking__starts_at", "booking__ends_at")
        .distinct()
    )
    for resource_id, start, end in taken:
        booked[resource_id].append((scheduling.instant(start), scheduling.instant(end)))
    answer = []
    for resource in found:
        zone = ZoneInfo(resource.time_zone)
        window = zone_window(zone, lo - 2 * 86400, hi + 2 * 86400)
        schedule = hours[resource.schedule_id].in_zone(zone)  # type: ignore[index]
        opened = intersect(schedule.open_spans(first, last, window), [(lo, hi)])
        used = intersect(normalize(booked[resource.pk]), opened)
        answer.append(Utilisation(resource, total(opened) // 60, total(used) // 60))
    return answer
