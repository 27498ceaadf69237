"""Bookable slots of a service, from the database to the scheduling core and back.

:func:`find_service_slots` is the one operation: it reads the service's
resources, their hours and what occupies them in seven queries whatever the
range or the number of bookings (the busy ones are in
:mod:`slotwise.availability.busy`), builds the core's calendars and asks
:func:`slotwise.scheduling.find_slots`. Errors a caller can make are
:class:`SlotQueryError` subclasses; nothing here knows HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import connection

from slotwise import scheduling
from slotwise.availability.busy import load_busy
from slotwise.catalog.models import Resource as ResourceRow
from slotwise.catalog.models import Schedule, Service, ServiceRequirement
from slotwise.catalog.services import load_hours, service_rules
from slotwise.operations.metrics import SLOT_QUERY_SECONDS
from slotwise.organizations.validators import zone_named

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_DAYS",
    "DurationNotOffered",
    "InvalidDateRange",
    "InvalidSeats",
    "InvalidTimeZone",
    "RangeTooLong",
    "ServiceNotFound",
    "SlotQueryError",
    "check_range",
    "customer_zone",
    "find_service_slots",
    "get_bookable_service",
    "load_calendars",
    "load_pools",
    "offered_duration",
]

MAX_DAYS = 93
"""Most dates one query may cover, both ends counted: a quarter of a year."""

EARLIEST = date(1970, 1, 1)
LATEST = date(2199, 12, 31)
"""Dates outside these are refused: nobody books there, and they keep date
arithmetic near ``date.min`` and ``date.max`` out of reach."""


class SlotQueryError(Exception):
    """A slot query that cannot be answered as asked; the message says why."""


class ServiceNotFound(SlotQueryError):
    """No active service with that id (a missing and an inactive one look the same)."""


class InvalidDateRange(SlotQueryError):
    """The last date is before the first."""


class RangeTooLong(SlotQueryError):
    """More than :data:`MAX_DAYS` dates asked for at once."""


class InvalidTimeZone(SlotQueryError):
    """Not a zone of the IANA database."""


class DurationNotOffered(SlotQueryError):
    """The service is not sold for that many minutes."""


class InvalidSeats(SlotQueryError):
    """Fewer than one seat asked for."""


def get_bookable_service(service_id: int) -> Service:
    """The active service ``service_id``, or :class:`ServiceNotFound`."""
    # Any organization's: a service's id is public. The caller then enters its tenant.
    service = Service.objects.with_scopes_disabled().filter(pk=service_id, active=True).first()
    if service is None:
        raise ServiceNotFound(f"There is no bookable service {service_id}.")
    return service


def customer_zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``Asia/Tokyo``), or :class:`InvalidTimeZone`."""
    try:
        return zone_named(name)
    except ValueError:
        raise InvalidTimeZone(
            f"{name[:64]!r} is not an IANA time zone name such as Europe/London."
        ) from None


def find_service_slots(
    service: Service,
    *,
    first: date,
    last: date,
    zone: ZoneInfo,
    now: datetime,
    duration_minutes: int | None = None,
    seats: int = 1,
) -> list[scheduling.SlotDay]:
    """Slots of ``service`` starting on the dates ``first`` to ``last`` in ``zone``.

    ``duration_minutes`` defaults to the service's first duration; ``seats``
    is how many the customer wants (slots with fewer remaining are left
    out). Every date of the range is in the answer, with or without slots. A
    service with no requirement, or a requirement with no active resource
    with hours, has no slots.

    For a London provider open from 09:00, asked for in Tokyo time::

        days = find_service_slots(service, first=date(2026, 7, 1), last=date(2026, 7, 31),
                                  zone=ZoneInfo("Asia/Tokyo"), now=timezone.now())
        days[0].slots[0].start_iso()  # '2026-07-01T17:00:00+09:00'
    """
    with SLOT_QUERY_SECONDS.time():
        return _find_service_slots(service, first, last, zone, now, duration_minutes, seats)


def _find_service_slots(
    service: Service,
    first: date,
    last: date,
    zone: ZoneInfo,
    now: datetime,
    duration_minutes: int | None,
    seats: int,
) -> list[scheduling.SlotDay]:
    check_range(first, last)
    if seats < 1:
        raise InvalidSeats("At least one seat must be asked for.")
    rules = service_rules(service, offered_duration(service, duration_minutes))
    pools, resources = load_pools(service)
    if not pools or not all(pools):
        return [
            scheduling.SlotDay(first + timedelta(days=n), [])
            for n in range((last - first).days + 1)
        ]
    lo, hi = _busy_window(first, last, zone, rules)
    calendars = load_calendars(service, pools, resources, lo, hi, now=now)
    return scheduling.find_slots(
        rules, calendars, first=first, last=last, zone=zone, now=now, seats=seats
    )


def offered_duration(service: Service, minutes: int | None) -> int:
    """``minutes``, or the service's default when ``None``; :class:`DurationNotOffered`
    when the service is not sold for that long."""
    duration = service.default_duration if minutes is None else minutes
    if duration not in service.durations:
        offered = ", ".join(str(m) for m in service.durations)
        raise DurationNotOffered(f"{service.name} lasts {offered} minutes, not {duration}.")
    return duration


def load_calendars(
    service: Service,
    pools: list[list[int]],
    resources: dict[int, Resource],
    lo: datetime,
    hi: datetime,
    *,
    now: datetime,
    exclude_booking: int | None = None,
) -> list[list[scheduling.ResourceCalendar]]:
    """The core's calendars of ``pools``: hours for the dates around ``lo`` to
    ``hi`` and what occupies each resource then, leaving out ``exclude_booking``
    (a booking being moved or re-checked does not conflict with itself). Two queries."""
    busy = load_busy(service.pk, list(resources), lo, hi, now=now, exclude_booking=exclude_booking)
    hours = load_hours(
        {r.schedule_id: (r.holiday_country, r.holiday_subdivision) for r in resources.values()},
        lo.date() - timedelta(days=1),
        hi.date() + timedelta(days=1),
    )
    calendars = {
        r.id: scheduling.ResourceCalendar(
            r.id,
            hours[r.schedule_id].in_zone(ZoneInfo(r.time_zone)),
            r.capacity,
            tuple(busy[r.id]),
        )
        for r in resources.values()
    }
    return [[calendars[rid] for rid in pool] for pool in pools]


def check_range(first: date, last: date) -> None:
    """Refuse a range of dates a query may not cover (:data:`MAX_DAYS`, the era)."""
    if last < first:
        raise InvalidDateRange(f"The end date {last} is before the start date {first}.")
    if first < EARLIEST or last > LATEST:
        raise InvalidDateRange(f"Dates must lie between {EARLIEST} and {LATEST}.")
    days = (last - first).days + 1
    if days > MAX_DAYS:
        raise RangeTooLong(f"{days} days asked for; at most {MAX_DAYS} at once.")


@dataclass(frozen=True, slots=True)
class Resource:
    """What the slot path needs of a resource row."""

    id: int
    kind: str
    capacity: int
    time_zone: str
    schedule_id: int
    holiday_country: str
    holiday_subdivision: str


def load_pools(service: Service) -> tuple[list[list[int]], dict[int, Resource]]:
    """Resource ids per requirement, in requirement order, and the resources. One query.

    A requirement's pool is its listed resources if it lists any, else every
    resource of its kind; either way only active resources of that kind of
    the service's organization with a schedule. A requirement that nobody
    can meet comes back as an empty pool.
    """
    requirement = ServiceRequirement._meta.db_table
    pool = ServiceRequirement.pool.through._meta.db_table
    resource, schedule = ResourceRow._meta.db_table, Schedule._meta.db_table
    # Only table names and placeholders are formatted in; every value is a parameter.
    sql = (
        "SELECT q.id, r.id, r.kind, r.capacity, r.time_zone, r.schedule_id,"  # noqa: S608
        " s.holiday_country, s.holiday_subdivision"
        f" FROM {requirement} q"
        f" LEFT JOIN ({resource} r JOIN {schedule} s ON s.id = r.schedule_id)"
        " ON r.organization_id = %s AND r.kind = q.kind AND r.active"
        f" AND (NOT EXISTS (SELECT 1 FROM {pool} p WHERE p.servicerequirement_id = q.id)"
        f" OR EXISTS (SELECT 1 FROM {pool} p"
        " WHERE p.servicerequirement_id = q.id AND p.resource_id = r.id))"
        " WHERE q.service_id = %s"
        " ORDER BY q.ordering, q.id, r.id"
    )
    pools: dict[int, list[int]] = {}
    resources: dict[int, Resource] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [service.organization_id, service.pk])
        for requirement_id, *row in cursor.fetchall():
            members = pools.setdefault(requirement_id, [])
            if row[0] is not None:
                members.append(row[0])
                resources[row[0]] = Resource(*row)
    return list(pools.values()), resources


def _busy_window(
    first: date, last: date, zone: ZoneInfo, rules: scheduling.ServiceRules
) -> tuple[datetime, datetime]:
    """The instants whose busy entries can matter to slots on ``first`` to ``last``.

    The asked dates in the customer's zone, widened by a day for resources in
    other zones, by the slot and its buffers, and by a week either side when
    weekly limits count the service's bookings of the whole week.
    """
    margin = timedelta(days=8 if rules.limits.any else 1)
    lo = datetime.combine(first, time.min, zone) - margin - rules.buffer_before
    hi = (
        datetime.combine(last + timedelta(days=1), time.min, zone)
        + margin
        + rules.duration
        + rules.buffer_after
    )
    return lo, hi
