"""One resource prepared for the slot finder's questions (internal).

The work is done on span lists: where may a new booking *start* so that the
slot lies in opening hours, its blocked range finds enough free units, and
the day and week limits leave room? That set is a handful of spans however
many candidates the grid has, so the grid is walked only where it can
succeed, and the cost grows with the number of busy entries (one sort), not
with the number of candidate slots times busy entries.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date

from slotwise.scheduling.inputs import Busy, ResourceCalendar, ServiceRules
from slotwise.scheduling.intervals import contains, intersect, normalize, subtract
from slotwise.scheduling.rules import spans_of
from slotwise.scheduling.zones import DAY, zone_window

MARGIN = 2 * DAY  # beyond any UTC offset and any reasonable buffer


class ResourcePlan:
    """One resource, prepared for the questions the slot finder asks of it.

    The work is done on span lists: where may a new booking *start* so that
    the slot lies in opening hours, its blocked range finds enough free
    units, and the day and week limits leave room? That set (``valid``) is a
    handful of spans however many candidates the grid has, so the grid is
    walked only where it can succeed.
    """

    __slots__ = (
        "anchors",
        "bounds",
        "busy",
        "capacity",
        "day_count",
        "day_minutes",
        "free",
        "open",
        "sessions",
        "valid",
        "week_count",
        "week_minutes",
        "window",
    )

    def __init__(self, calendar: ResourceCalendar, first: date, last: date, q: Query) -> None:
        schedule = calendar.schedule
        self.window = window = zone_window(schedule.zone, q.lo - MARGIN, q.hi + MARGIN)
        self.anchors = schedule.wall_ranges(first, last)
        self.open = spans_of(self.anchors, window)
        self.capacity = capacity = calendar.capacity
        self.busy = calendar.busy
        rules = q.rules

        self.sessions: dict[tuple[int, int], list[Busy]] = {}
        self.day_count: dict[int, int] = {}
        self.day_minutes: dict[int, int] = {}
        self.week_count: dict[int, int] = {}
        self.week_minutes: dict[int, int] = {}
        if rules.limits.any or rules.seats_per_slot is not None:
            self._count_bookings(rules)

        # Free units as a step function: free[i] holds from bounds[i] to bounds[i + 1].
        far = q.lo - 2 * MARGIN
        bounds = [far]
        free = [capacity]
        busy = calendar.busy
        if capacity == 1:
            # Anything blocks a resource of one unit: the step function is the
            # complement of the busy spans.
            for start, end in normalize([(b.start, b.end) for b in busy]):
                bounds.append(start)
                free.append(0)
                bounds.append(end)
                free.append(1)
        else:
            events: list[tuple[int, int]] = []
            for b in busy:
                units = capacity if b.units is None or b.units > capacity else b.units
                events.append((b.start, units))
                events.append((b.end, -units))
            events.sort()
            load = 0
            i = 0
            n = len(events)
            while i < n:
                t = events[i][0]
                while i < n and events[i][0] == t:
                    load += events[i][1]
                    i += 1
                level = capacity - load if load < capacity else 0
                if level != free[-1]:
                    bounds.append(t)
                    free.append(level)
        self.bounds = bounds
        self.free = free
        self.valid = self._valid_starts(q)

    def _count_bookings(self, rules: ServiceRules) -> None:
        """Group sessions and the day and week tallies of the service's own bookings."""
        group = rules.seats_per_slot is not None
        offset_at = self.window.offset_at
        for busy in self.busy:
            booked = busy.booking
            if booked is None:
                continue
            if group:
                self.sessions.setdefault((booked.start, booked.end), []).append(busy)
            day = (booked.start + offset_at(booked.start)) // DAY
            week = (day + 3) // 7
            minutes = (booked.end - booked.start) // 60
            self.day_count[day] = self.day_count.get(day, 0) + 1
            self.day_minutes[day] = self.day_minutes.get(day, 0) + minutes
            self.week_count[week] = self.week_count.get(week, 0) + 1
            self.week_minutes[week] = self.week_minutes.get(week, 0) + minutes

    def _valid_starts(self, q: Query) -> list[tuple[int, int]]:
        """Where a new booking (or a new group session) may start on this resource."""
        duration, before, after = q.duration, q.before, q.after
        # The slot within one open span: start in [a, b - duration].
        fits_open = [(a, b - duration + 1) for a, b in self.open if b - a >= duration]
        # The blocked range within one stretch with enough free units.
        need = 1 if q.rules.seats_per_slot is not None else q.seats
        blocked = before + duration + after
        bounds, free = self.bounds, self.free
        fits_free = []
        stretch_start: int | None = None
        for i, level in enumerate(free):
            if level >= need:
                if stretch_start is None:
                    stretch_start = bounds[i]
            elif stretch_start is not None:
                if bounds[i] - stretch_start >= blocked:
                    fits_free.append((stretch_start + before, bounds[i] - duration - after + 1))
                stretch_start = None
        if stretch_start is not None:
            fits_free.append((stretch_start + before, q.hi + MARGIN))
        valid = intersect(intersect(fits_open, fits_free), [(q.earliest, q.latest)])
        limits = q.rules.limits
        if limits.any and valid:
            valid = subtract(valid, self._exhausted(q))
        return valid

    def _exhausted(self, q: Query) -> list[tuple[int, int]]:
        """Instants of the local days and weeks whose limits leave no room."""
        limits = q.rules.limits
        minutes = q.duration // 60
        window = self.window
        if (
            limits.bookings_per_day == 0
            or limits.bookings_per_week == 0
            or (limits.minutes_per_day is not None and limits.minutes_per_day < minutes)
            or (limits.minutes_per_week is not None and limits.minutes_per_week < minutes)
        ):
            return [(q.lo - MARGIN, q.hi + MARGIN)]
        closed: list[tuple[int, int]] = []
        for day, count in self.day_count.items():
            if (limits.bookings_per_day is not None and count + 1 > limits.bookings_per_day) or (
                limits.minutes_per_day is not None
                and self.day_minutes[day] + minutes > limits.minutes_per_day
            ):
                closed.extend(window.instants_between(day * DAY, (day + 1) * DAY))
        for week, count in self.week_count.items():
            if (limits.bookings_per_week is not None and count + 1 > limits.bookings_per_week) or (
                limits.minutes_per_week is not None
                and self.week_minutes[week] + minutes > limits.minutes_per_week
            ):
                monday = week * 7 - 3
                closed.extend(window.instants_between(monday * DAY, (monday + 7) * DAY))
        return normalize(closed)

    def free_units(self, start: int, end: int) -> int:
        """Units free throughout ``[start, end)``."""
        bounds = self.bounds
        free = self.free
        i = bisect_right(bounds, start) - 1
        least = free[i]
        i += 1
        n = len(bounds)
        while i < n and bounds[i] < end and least:
            least = min(least, free[i])
            i += 1
        return least

    def remaining(self, start: int, q: Query) -> int:
        """Seats this resource can still sell for the slot starting at ``start``, or 0."""
        rules = q.rules
        end = start + q.duration
        if rules.seats_per_slot is None:
            if not _inside(self.valid, start):
                return 0
            return self.free_units(start - q.before, end + q.after)
        session = self.sessions.get((start, end))
        if session is None:
            return rules.seats_per_slot if _inside(self.valid, start) else 0
        # Joining an existing session: the slot must still be open and within limits
        # (the session itself does not count against them twice), and the resource
        # free of anything but the session.
        if not contains(self.open, start, end) or not (q.earliest <= start < q.latest):
            return 0
        if self._free_without(start - q.before, end + q.after, session) < 1:
            return 0
        taken = sum(b.booking.seats for b in session if b.booking is not None)
        return max(rules.seats_per_slot - taken, 0)

    def _free_without(self, start: int, end: int, session: list[Busy]) -> int:
        """Units free throughout ``[start, end)``, not counting the session's own bookings."""
        own = {id(b) for b in session}
        events: list[tuple[int, int]] = []
        for busy in self.busy:
            if busy.start < end and start < busy.end and id(busy) not in own:
                units = self.capacity if busy.units is None else min(busy.units, self.capacity)
                events.append((max(busy.start, start), units))
                events.append((min(busy.end, end), -units))
        events.sort()
        load = peak = 0
        for _, delta in events:
            load += delta
            peak = max(peak, load)
        return max(self.capacity - peak, 0)

    def grid(self, valid: list[tuple[int, int]], step: int) -> list[int]:
        """Start instants on this resource's wall-clock grid that lie in ``valid``."""
        found: list[int] = []
        if not valid:
            return found
        window = self.window
        for wall_start, wall_end in self.anchors:
            for a, b in window.instants_between(wall_start, wall_end):
                offset = window.offset_at(a)
                i = bisect_right(valid, (a, a)) - 1
                i = max(i, 0)
                while i < len(valid) and valid[i][0] < b:
                    lo = max(a, valid[i][0])
                    hi = min(b, valid[i][1])
                    if lo < hi:
                        # The first instant at or after lo whose wall time is on the grid.
                        first = lo + (wall_start - lo - offset) % step
                        found.extend(range(first, hi, step))
                    i += 1
        return found


def _inside(spans: list[tuple[int, int]], point: int) -> bool:
    i = bisect_right(spans, (point, _FAR)) - 1
    return i >= 0 and point < spans[i][1]


_FAR = 1 << 62


class Query:
    """The numbers of one query, computed once."""

    __slots__ = ("after", "before", "duration", "earliest", "hi", "latest", "lo", "rules", "seats",
                 "step")  # fmt: skip

    def __init__(self, rules: ServiceRules, lo: int, hi: int, now: int, seats: int) -> None:
        self.rules = rules
        self.lo, self.hi = lo, hi
        self.seats = seats
        self.duration = int(rules.duration.total_seconds())
        self.step = int((rules.step or rules.duration).total_seconds())
        self.before = int(rules.buffer_before.total_seconds())
        self.after = int(rules.buffer_after.total_seconds())
        self.earliest = max(now + int(rules.min_notice.total_seconds()), lo)
        self.latest = hi  # exclusive
        if rules.horizon is not None:
            self.latest = min(hi, now + int(rules.horizon.total_seconds()) + 1)
