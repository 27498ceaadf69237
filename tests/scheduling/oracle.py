"""A slow, obviously right slot finder to test the real one against.

It walks the window minute by minute, asks ``zoneinfo`` for each minute's
wall time, and checks every rule on every minute. It shares no code with
the scheduling core beyond the input types; inputs must be whole minutes.
"""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from slotwise.scheduling import ResourceCalendar, ServiceRules

MINUTE = 60


def _minutes(t) -> int:
    return t.hour * 60 + t.minute


def day_hours(calendar: ResourceCalendar, day: date) -> list[tuple[int, int]]:
    """Opening ranges of ``day`` in minutes after midnight, by the documented precedence."""
    schedule = calendar.schedule
    for override in schedule.overrides:
        if override.date == day:
            return [(_minutes(s), _minutes(e) or 1440) for s, e in override.hours]
    if any(c.first <= day <= c.last for c in schedule.closures):
        return []
    if schedule.holidays and day in schedule.holidays.dates(day, day):
        return []
    return [
        (_minutes(r.start), _minutes(r.end) or 1440)
        for r in schedule.weekly
        if r.weekday == day.weekday()
        and (r.valid_from is None or r.valid_from <= day)
        and (r.valid_until is None or day <= r.valid_until)
    ]


def oracle_slots(
    service: ServiceRules,
    calendar: ResourceCalendar,
    *,
    first: date,
    last: date,
    zone: ZoneInfo,
    now: datetime,
    seats: int = 1,
    candidates: set[int] | None = None,
) -> dict[date, list[tuple[int, int, int]]]:
    """``{customer date: [(start, end, remaining), ...]}`` in epoch seconds.

    Slots start on the resource's own wall-clock grid, or at ``candidates``
    (epoch minutes) when given.
    """
    provider = calendar.schedule.zone
    duration = int(service.duration.total_seconds()) // MINUTE
    step = int((service.step or service.duration).total_seconds()) // MINUTE
    before = int(service.buffer_before.total_seconds()) // MINUTE
    after = int(service.buffer_after.total_seconds()) // MINUTE
    start_min = int(datetime.combine(first, datetime.min.time(), UTC).timestamp()) // MINUTE
    start_min -= 15 * 60 + before + duration
    end_min = int(datetime.combine(last, datetime.min.time(), UTC).timestamp()) // MINUTE
    end_min += 39 * 60 + after + duration

    hours_cache: dict[date, list[tuple[int, int]]] = {}
    opened: dict[int, bool] = {}
    on_grid: dict[int, bool] = {}
    local_day: dict[int, date] = {}
    for m in range(start_min, end_min):
        wall = datetime.fromtimestamp(m * MINUTE, provider)
        day = wall.date()
        if day not in hours_cache:
            hours_cache[day] = day_hours(calendar, day)
        tod = wall.hour * 60 + wall.minute
        ranges = hours_cache[day]
        opened[m] = any(s <= tod < e for s, e in ranges)
        on_grid[m] = any(s <= tod < e and (tod - s) % step == 0 for s, e in ranges)
        local_day[m] = day

    def free(m: int) -> int:
        load = 0
        for busy in calendar.busy:
            if busy.start <= m * MINUTE < busy.end:
                units = calendar.capacity if busy.units is None else busy.units
                load += min(units, calendar.capacity)
        return max(calendar.capacity - load, 0)

    def counted(day: date, week: tuple[int, int]) -> tuple[int, int, int, int]:
        n_day = min_day = n_week = min_week = 0
        for busy in calendar.busy:
            if busy.booking is None:
                continue
            booked_day = datetime.fromtimestamp(busy.booking.start, provider).date()
            minutes = (busy.booking.end - busy.booking.start) // MINUTE
            if booked_day == day:
                n_day += 1
                min_day += minutes
            if booked_day.isocalendar()[:2] == week:
                n_week += 1
                min_week += minutes
        return n_day, min_day, n_week, min_week

    limits = service.limits
    now_min = now.timestamp() / MINUTE
    notice = service.min_notice.total_seconds() / MINUTE
    found: dict[date, list[tuple[int, int, int]]] = {}
    for m in range(start_min, end_min - duration - after):
        on = on_grid[m] if candidates is None else m in candidates
        if not on or m < now_min + notice:
            continue
        if service.horizon is not None and m > now_min + service.horizon.total_seconds() / MINUTE:
            continue
        customer_day = datetime.fromtimestamp(m * MINUTE, zone).date()
        if not first <= customer_day <= last:
            continue
        if not all(opened[k] for k in range(m, m + duration)):
            continue
        if limits.any:
            day = local_day[m]
            n_day, min_day, n_week, min_week = counted(day, day.isocalendar()[:2])
            if (
                (limits.bookings_per_day is not None and n_day + 1 > limits.bookings_per_day)
                or (limits.minutes_per_day is not None
                    and min_day + duration > limits.minutes_per_day)
                or (limits.bookings_per_week is not None and n_week + 1 > limits.bookings_per_week)
                or (limits.minutes_per_week is not None
                    and min_week + duration > limits.minutes_per_week)
            ):  # fmt: skip
                continue
        remaining = min(free(k) for k in range(m - before, m + duration + after))
        if remaining >= seats:
            found.setdefault(customer_day, []).append(
                (m * MINUTE, (m + duration) * MINUTE, remaining)
            )
    return found


def oracle_grid(service: ServiceRules, calendar: ResourceCalendar, first: date, last: date):
    """Epoch minutes on the resource's wall-clock grid around the dates."""
    provider = calendar.schedule.zone
    step = int((service.step or service.duration).total_seconds()) // MINUTE
    start_min = int(datetime.combine(first, datetime.min.time(), UTC).timestamp()) // MINUTE
    end_min = int(datetime.combine(last, datetime.min.time(), UTC).timestamp()) // MINUTE
    grid = set()
    for m in range(start_min - 2 * 1440, end_min + 3 * 1440):
        wall = datetime.fromtimestamp(m * MINUTE, provider)
        tod = wall.hour * 60 + wall.minute
        if any(s <= tod < e and (tod - s) % step == 0 for s, e in day_hours(calendar, wall.date())):
            grid.add(m)
    return grid


def transition_days(zone: ZoneInfo, first: date, last: date) -> list[date]:
    """Local dates on which ``zone`` changes its offset."""
    days = []
    day = first
    while day <= last:
        noon = datetime.combine(day, datetime.min.time(), zone)
        if noon.utcoffset() != (noon + timedelta(days=1)).utcoffset():
            days.append(day + timedelta(days=1))
        day += timedelta(days=1)
    return days
