"""Reading the catalog: what can be booked, and its rows as the scheduling core's types.

The slot finder needs a service's rules and, per resource, its opening
hours. Hours are loaded for many schedules at once, restricted to the dates
asked about, in three queries however many schedules and rules there are.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Prefetch

from slotwise import scheduling
from slotwise.catalog.models import Closure, DateOverride, Service, WeeklyRule
from slotwise.organizations.models import Organization

__all__ = ["ScheduleHours", "bookable_offerings", "load_hours", "service_rules"]


def bookable_offerings() -> list[Organization]:
    """Organizations by name, each with ``bookable_services``: its active services
    by name. Two queries."""
    active = Service.objects.filter(active=True).order_by("name", "id")
    return list(
        Organization.objects.order_by("name", "id").prefetch_related(
            Prefetch("services", queryset=active, to_attr="bookable_services")
        )
    )


def service_rules(service: Service, duration_minutes: int) -> scheduling.ServiceRules:
    """The core's view of ``service`` for a booking of ``duration_minutes``.

    The caller checks that the duration is one the service offers.
    """
    minutes = timedelta(minutes=1)
    return scheduling.ServiceRules(
        duration=duration_minutes * minutes,
        step=None if service.step_minutes is None else service.step_minutes * minutes,
        buffer_before=service.buffer_before_minutes * minutes,
        buffer_after=service.buffer_after_minutes * minutes,
        min_notice=service.min_notice_minutes * minutes,
        horizon=None if service.horizon_days is None else timedelta(days=service.horizon_days),
        seats_per_slot=service.seats_per_slot,
        limits=scheduling.Limits(
            bookings_per_day=service.max_bookings_per_day,
            minutes_per_day=service.max_minutes_per_day,
            bookings_per_week=service.max_bookings_per_week,
            minutes_per_week=service.max_minutes_per_week,
        ),
    )


@dataclass(frozen=True, slots=True)
class ScheduleHours:
    """One schedule's rows for a range of dates, not yet tied to a zone."""

    weekly: tuple[scheduling.WeeklyRule, ...] = ()
    overrides: tuple[scheduling.DateOverride, ...] = ()
    closures: tuple[scheduling.Closure, ...] = ()
    holidays: scheduling.HolidayCalendar | None = None

    def in_zone(self, zone: ZoneInfo) -> scheduling.Schedule:
        """The schedule as it applies to a resource in ``zone``."""
        return scheduling.Schedule(
            zone,
            weekly=self.weekly,
            overrides=self.overrides,
            closures=self.closures,
            holidays=self.holidays,
        )


def load_hours(
    holidays: dict[int, tuple[str, str]], first: date, last: date
) -> dict[int, ScheduleHours]:
    """Hours of the schedules keyed in ``holidays`` (id to country and subdivision).

    Only rows that can affect ``first`` to ``last`` are read, with a day's
    margin either side for resources in other zones than the customer's.
    Three queries whatever the number of schedules.
    """
    ids = list(holidays)
    lo, hi = first - timedelta(days=2), last + timedelta(days=2)
    weekly: dict[int, list[scheduling.WeeklyRule]] = defaultdict(list)
    for schedule_id, weekday, start, end, valid_from, valid_until in (
        WeeklyRule.objects.filter(schedule_id__in=ids)
        .exclude(valid_from__gt=hi)
        .exclude(valid_until__lt=lo)
        .order_by("weekday", "start", "id")
        .values_list("schedule_id", "weekday", "start", "end", "valid_from", "valid_until")
    ):
        weekly[schedule_id].append(
            scheduling.WeeklyRule(weekday, start, end, valid_from, valid_until)
        )

    # One row per override and hours range; an override without hours comes
    # back once with empty hours from the outer join and means closed.
    override_hours: dict[tuple[int, date], list[scheduling.Hours]] = {}
    for schedule_id, day, start, end in (
        DateOverride.objects.filter(schedule_id__in=ids, date__gte=lo, date__lte=hi)
        .order_by("date", "hours__start")
        .values_list("schedule_id", "date", "hours__start", "hours__end")
    ):
        ranges = override_hours.setdefault((schedule_id, day), [])
        if start is not None:
            ranges.append((start, end))
    overrides: dict[int, list[scheduling.DateOverride]] = defaultdict(list)
    for (schedule_id, day), ranges in override_hours.items():
        overrides[schedule_id].append(scheduling.DateOverride(day, tuple(ranges)))

    closures: dict[int, list[scheduling.Closure]] = defaultdict(list)
    for schedule_id, closure_first, closure_last, reason in Closure.objects.filter(
        schedule_id__in=ids, first__lte=hi, last__gte=lo
    ).values_list("schedule_id", "first", "last", "reason"):
        closures[schedule_id].append(scheduling.Closure(closure_first, closure_last, reason))

    return {
        schedule_id: ScheduleHours(
            weekly=tuple(weekly[schedule_id]),
            overrides=tuple(overrides[schedule_id]),
            closures=tuple(closures[schedule_id]),
            holidays=_holiday_calendar(*holidays[schedule_id]),
        )
        for schedule_id in ids
    }


def _holiday_calendar(country: str, subdivision: str) -> scheduling.HolidayCalendar | None:
    return scheduling.HolidayCalendar(country, subdivision or None) if country else None
