"""Reading the catalog: what can be booked, and its rows as the scheduling core's types.

The slot finder needs a service's rules and, per resource, its opening
hours. Hours are loaded for many schedules at once, restricted to the dates
asked about, in one query however many schedules and rules there are.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import Prefetch

from slotwise import scheduling
from slotwise.catalog.models import (
    Closure,
    DateOverride,
    DateOverrideHours,
    Service,
    WeeklyRule,
)
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

    Only rows that can affect ``first`` to ``last`` are read, with two days'
    margin either side for resources in other zones than the customer's.
    One query whatever the number of schedules: it is on the path of every
    slot query, so weekly rules, overrides and closures come back together
    (``UNION ALL``) as plain rows.
    """
    ids = list(holidays)
    weekly: dict[int, list[scheduling.WeeklyRule]] = defaultdict(list)
    override_hours: dict[tuple[int, date], list[scheduling.Hours]] = {}
    closures: dict[int, list[scheduling.Closure]] = defaultdict(list)
    rows: list[tuple[Any, ...]] = []
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(*_hours_query(ids, first - timedelta(days=2), last + timedelta(days=2)))
            rows = cursor.fetchall()
    for kind, schedule_id, weekday, start, end, day, until, reason, _ in rows:
        if kind == "w":
            weekly[schedule_id].append(
                scheduling.WeeklyRule(weekday, _time(start), _time(end), _date(day), _date(until))
            )
        elif kind == "o":
            # An override without hours comes back once, with empty hours
            # from the outer join: it closes the day.
            ranges = override_hours.setdefault((schedule_id, _date(day)), [])
            if start is not None:
                ranges.append((_time(start), _time(end)))
        else:
            closures[schedule_id].append(scheduling.Closure(_date(day), _date(until), reason))
    overrides: dict[int, list[scheduling.DateOverride]] = defaultdict(list)
    for (schedule_id, day), ranges in override_hours.items():
        overrides[schedule_id].append(scheduling.DateOverride(day, tuple(ranges)))

    return {
        schedule_id: ScheduleHours(
            weekly=tuple(weekly[schedule_id]),
            overrides=tuple(overrides[schedule_id]),
            closures=tuple(closures[schedule_id]),
            holidays=_holiday_calendar(*holidays[schedule_id]),
        )
        for schedule_id in ids
    }


def _hours_query(ids: list[int], lo: date, hi: date) -> tuple[str, list[Any]]:
    """Rows ``(kind, schedule, weekday, start, end, date, until, reason, id)`` of the
    weekly rules (``w``), overrides (``o``, one per hours range) and closures (``c``)
    of schedules ``ids`` that touch ``lo`` to ``hi``, in the order the core reads them."""
    q = connection.ops.quote_name
    weekly, override = WeeklyRule._meta.db_table, DateOverride._meta.db_table
    hours, closure = DateOverrideHours._meta.db_table, Closure._meta.db_table
    in_ids = ", ".join(["%s"] * len(ids))
    sql = (
        f"SELECT 'w', w.schedule_id, w.weekday, w.{q('start')}, w.{q('end')},"  # noqa: S608
        " w.valid_from, w.valid_until, NULL, w.id"
        f" FROM {weekly} w WHERE w.schedule_id IN ({in_ids})"
        " AND (w.valid_from IS NULL OR w.valid_from <= %s)"
        " AND (w.valid_until IS NULL OR w.valid_until >= %s)"
        " UNION ALL"
        f" SELECT 'o', o.schedule_id, NULL, h.{q('start')}, h.{q('end')}, o.{q('date')},"
        " NULL, NULL, o.id"
        f" FROM {override} o LEFT JOIN {hours} h ON h.override_id = o.id"
        f" WHERE o.schedule_id IN ({in_ids}) AND o.{q('date')} >= %s AND o.{q('date')} <= %s"
        " UNION ALL"
        f" SELECT 'c', c.schedule_id, NULL, NULL, NULL, c.{q('first')}, c.{q('last')},"
        " c.reason, c.id"
        f" FROM {closure} c"
        f" WHERE c.schedule_id IN ({in_ids}) AND c.{q('first')} <= %s AND c.{q('last')} >= %s"
        " ORDER BY 1, 3, 6, 4, 9"
    )
    low, high = connection.ops.adapt_datefield_value(lo), connection.ops.adapt_datefield_value(hi)
    return sql, [*ids, high, low, *ids, low, high, *ids, high, low]


def _time(value: time | str) -> time:
    """A time column's value: a ``time`` from PostgreSQL, ISO text from SQLite."""
    return value if isinstance(value, time) else time.fromisoformat(value)


def _date(value: date | str | None) -> date | None:
    """A date column's value (or NULL), as :func:`_time` for dates."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _holiday_calendar(country: str, subdivision: str) -> scheduling.HolidayCalendar | None:
    return scheduling.HolidayCalendar(country, subdivision or None) if country else None
