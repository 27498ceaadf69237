"""Can a booking start at this instant, and on which resources? The booking-time check.

:func:`check_start` asks the same questions as :func:`~slotwise.scheduling.find_slots`,
with the same rules (hours, grid, buffers, capacity, group sessions, notice,
horizon, day and week limits), for one start instant. A booking is taken
only when this check passes under the lock of every resource it names, so
what the slots endpoint showed and what the booking engine accepts cannot
drift apart.

The answer lists, per requirement, every resource that can take the
booking, with what it has booked that day; :meth:`StartCheck.pick` chooses
fairly among them: the resource with the least booked time on the local day
of the start, ties broken by the order of the pool (stable).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from slotwise.scheduling.inputs import ResourceCalendar, ServiceRules, instant
from slotwise.scheduling.intervals import contains
from slotwise.scheduling.plan import Query, ResourcePlan
from slotwise.scheduling.zones import DAY, EPOCH_ORDINAL

__all__ = ["Candidate", "Refusal", "StartCheck", "check_start"]


class Refusal(StrEnum):
    """Why a start cannot be booked, most fundamental first."""

    NOT_ON_GRID = "not-on-grid"
    """Inside opening hours but not one of the grid's start times (09:07)."""
    CLOSED = "closed"
    """Outside the opening hours of every resource of the first requirement."""
    TOO_SOON = "too-soon"
    """Before ``now`` plus the minimum notice."""
    TOO_FAR = "too-far"
    """Beyond the booking horizon."""
    TOO_MANY_SEATS = "too-many-seats"
    """More seats than a slot of the service can ever sell."""
    UNAVAILABLE = "unavailable"
    """A slot of the grid, but some requirement has no resource that can take it."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """A resource that can take the booking: its key, seats left, seconds booked that day."""

    key: Hashable
    remaining: int
    booked_that_day: int


@dataclass(frozen=True, slots=True)
class StartCheck:
    """The answer of :func:`check_start`: ``refusal`` is ``None`` when the start is bookable."""

    refusal: Refusal | None
    pools: tuple[tuple[Candidate, ...], ...]

    @property
    def ok(self) -> bool:
        return self.refusal is None

    def pick(self) -> list[Hashable]:
        """One resource key per requirement: the least booked that day, pool order on ties.

        A resource picked for one requirement is not picked again for
        another (a person cannot be both the stylist and the assistant).
        """
        if self.refusal is not None:
            raise ValueError(f"nothing to pick: the start is refused ({self.refusal})")
        chosen: list[Hashable] = []
        for pool in self.pools:
            free = [
                (c.booked_that_day, n, c.key) for n, c in enumerate(pool) if c.key not in chosen
            ]
            if not free:
                raise ValueError("every candidate of a requirement is already picked")
            chosen.append(min(free)[2])
        return chosen


def check_start(
    rules: ServiceRules,
    requirements: Sequence[Sequence[ResourceCalendar]],
    *,
    start: datetime,
    now: datetime,
    seats: int = 1,
) -> StartCheck:
    """Whether a booking of ``seats`` may start at ``start``, and on which resources.

    ``requirements`` are the service's pools as for ``find_slots``, with
    everything that occupies their resources around ``start`` (at least the
    two days either side). The first pool's hours set the grid.

        >>> from datetime import UTC, time
        >>> from zoneinfo import ZoneInfo
        >>> from slotwise.scheduling import ResourceCalendar, Schedule, WeeklyRule
        >>> berlin = Schedule(ZoneInfo("Europe/Berlin"), weekly=(WeeklyRule(0, time(9), time(17)),))
        >>> rules = ServiceRules(duration=timedelta(minutes=60))
        >>> now = datetime(2026, 3, 1, tzinfo=UTC)
        >>> monday_10 = datetime(2026, 3, 30, 10, tzinfo=ZoneInfo("Europe/Berlin"))
        >>> anna = [[ResourceCalendar("anna", berlin)]]
        >>> check_start(rules, anna, start=monday_10, now=now).pick()
        ['anna']
        >>> check_start(rules, anna, start=monday_10 + timedelta(minutes=7), now=now).refusal
        <Refusal.NOT_ON_GRID: 'not-on-grid'>
    """
    if seats < 1:
        raise ValueError("seats must be at least 1")
    if not requirements or any(not pool for pool in requirements):
        raise ValueError("a service needs at least one resource in every pool")
    at = instant(start)
    q = Query(rules, at - DAY, at + DAY, instant(now), seats)
    utc_day = _utc_date(at)
    first, last = utc_day - timedelta(days=2), utc_day + timedelta(days=2)
    plans = [[ResourcePlan(c, first, last, q) for c in pool] for pool in requirements]

    def refused(why: Refusal) -> StartCheck:
        return StartCheck(why, tuple(() for _ in plans))

    end = at + q.duration
    group = rules.seats_per_slot is not None
    on_grid = any(plan.grid([(at, at + 1)], q.step) for plan in plans[0]) or (
        group and any((at, end) in plan.sessions for plan in plans[0])
    )
    if not on_grid:
        inside = any(contains(plan.open, at, at + 1) for plan in plans[0])
        return refused(Refusal.NOT_ON_GRID if inside else Refusal.CLOSED)
    if at < q.earliest:
        return refused(Refusal.TOO_SOON)
    if at >= q.latest:
        return refused(Refusal.TOO_FAR)
    if group and rules.seats_per_slot is not None and seats > rules.seats_per_slot:
        return refused(Refusal.TOO_MANY_SEATS)

    pools: list[tuple[Candidate, ...]] = []
    for pool in plans:
        found = []
        for calendar, plan in zip(requirements[len(pools)], pool, strict=True):
            left = plan.remaining(at, q)
            if left >= seats:
                found.append(Candidate(calendar.key, left, _booked_that_day(plan, at)))
        pools.append(tuple(found))
    if not all(pools):
        return StartCheck(Refusal.UNAVAILABLE, tuple(pools))
    return StartCheck(None, tuple(pools))


def _utc_date(at: int) -> date:
    return date.fromordinal(at // DAY + EPOCH_ORDINAL)


def _booked_that_day(plan: ResourcePlan, at: int) -> int:
    """Seconds of the resource's local day of ``at`` that bookings occupy (events excluded)."""
    window = plan.window
    day = window.wall(at) // DAY
    total = 0
    for lo, hi in window.instants_between(day * DAY, (day + 1) * DAY):
        for busy in plan.busy:
            if busy.units is not None and busy.start < hi and lo < busy.end:
                total += min(busy.end, hi) - max(busy.start, lo)
    return total
