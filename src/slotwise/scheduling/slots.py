"""Bookable slots: which times can a customer book, shown in their own zone.

:func:`find_slots` answers the core question of slotwise: given a service's
rules, the resources it needs (each with opening hours and what already
occupies it) and the present instant, which slots can a customer book
between two dates of *their* calendar?

How a slot is found, and the choices made where a booking system must choose:

* **The grid is on the wall clock.** Candidate starts are the rule's start,
  then every ``step`` after it in wall-clock time, for each opening range of
  each day (09:00, 09:30, ... and again from 13:00 after lunch). A candidate
  wall time in a DST gap gives no slot; one in a fold gives two slots, one
  per pass. Zones 30 or 45 minutes off UTC keep the grid on the hour, in
  their own wall time.
* **Durations are real time.** A 60-minute slot ends 60 minutes later
  whatever the clocks do.
* **A slot lies inside opening hours; its buffers need not.** Preparation
  and clean-up time (``buffer_before``, ``buffer_after``) may fall outside
  opening hours (a 09:00 first slot with 15 minutes of preparation is
  offered), but the *blocked range* (the slot plus its buffers) must not
  overlap what else occupies the resource beyond its capacity: other
  bookings' blocked ranges and busy events from external calendars.
* **Capacity is counted in units.** A resource holds ``capacity`` units at
  once (1 for a person, 6 for a table for six); each :class:`Busy` entry uses
  ``units`` of it, or all of it (``units=None``, an external busy event). The
  remaining count of a slot is what its blocked range leaves free at its
  fullest moment, capped by the service's ``seats_per_slot``.
* **Group sessions.** A service with ``seats_per_slot`` set sells that many
  seats per slot: bookings of the service at the same slot form one session,
  a customer may join it while seats remain, and joining does not count the
  session's own bookings as a conflict.
* **Minimum notice and horizon** are measured from ``now`` in real time: a
  slot starts no sooner than ``now + min_notice`` and before
  ``now + horizon``.
* **Limits per day and per week** count the service's bookings (and their
  booked minutes, buffers excluded) on each resource, by the resource's
  local date of the booking's start; weeks run Monday to Sunday.
* **Pools.** A service may need several resources at once (a stylist and a
  chair), each from a pool; a slot is offered when every requirement has a
  resource that can take it. Its remaining count is, per requirement, the
  sum over the pool's resources that can take the requested seats, and the
  smallest of those over the requirements.

Results are grouped by the customer's local date, every date of the asked
range present (possibly with no slots), and each :class:`Slot` carries its
instants and the customer's offsets; datetimes and ISO strings are made only
when asked for.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from slotwise.scheduling.inputs import ResourceCalendar, ServiceRules, instant
from slotwise.scheduling.intervals import intersect, normalize
from slotwise.scheduling.output import Slot, SlotDay
from slotwise.scheduling.plan import MARGIN, Query, ResourcePlan
from slotwise.scheduling.zones import DAY, EPOCH_ORDINAL, day_number, zone_window

__all__ = ["find_slots"]


def find_slots(
    rules: ServiceRules,
    requirements: Sequence[Sequence[ResourceCalendar]],
    *,
    first: date,
    last: date,
    zone: ZoneInfo,
    now: datetime,
    seats: int = 1,
) -> list[SlotDay]:
    """Bookable slots from ``first`` to ``last`` (inclusive dates in ``zone``).

    ``requirements`` lists one pool per resource the service needs; the first
    pool's opening hours set the slot grid. ``seats`` is how many seats the
    customer wants; only slots with at least that many remaining are shown.

        >>> from datetime import UTC, time
        >>> from slotwise.scheduling import ResourceCalendar, Schedule, ServiceRules, WeeklyRule
        >>> berlin = Schedule(ZoneInfo("Europe/Berlin"), weekly=(WeeklyRule(0, time(9), time(17)),))
        >>> days = find_slots(
        ...     ServiceRules(duration=timedelta(minutes=60)),
        ...     [[ResourceCalendar("anna", berlin)]],
        ...     first=date(2026, 3, 30), last=date(2026, 3, 30),
        ...     zone=ZoneInfo("America/New_York"), now=datetime(2026, 3, 1, tzinfo=UTC),
        ... )
        >>> days[0].slots[0].start_iso()
        '2026-03-30T03:00:00-04:00'
    """
    if last < first:
        raise ValueError("the last date is before the first")
    if seats < 1:
        raise ValueError("seats must be at least 1")
    if not requirements or any(not pool for pool in requirements):
        raise ValueError("a service needs at least one resource in every pool")
    first_n, last_n = day_number(first), day_number(last)
    customer = zone_window(zone, first_n * DAY - MARGIN, (last_n + 1) * DAY + MARGIN)
    # Every instant of the asked dates lies in [lo, hi); slots are sorted into
    # the customer's dates (and the rest dropped) at the end.
    lo = first_n * DAY - max(customer.offsets)
    hi = (last_n + 1) * DAY - min(customer.offsets)
    q = Query(rules, lo, hi, instant(now), seats)
    if rules.seats_per_slot is not None and seats > rules.seats_per_slot:
        return _empty_days(first_n, last_n)

    # Provider dates that can hold an instant of the asked range, in any zone.
    provider_first = first - timedelta(days=1)
    provider_last = last + timedelta(days=1)
    plans = [
        [ResourcePlan(c, provider_first, provider_last, q) for c in pool] for pool in requirements
    ]

    # A start is valid when every pool has a resource that can take it.
    valid = _pool_valid(plans[0])
    for pool in plans[1:]:
        valid = intersect(valid, _pool_valid(pool))

    candidates: list[int] = []
    for plan in plans[0]:
        candidates.extend(plan.grid(valid, q.step))
        if rules.seats_per_slot is not None:
            candidates.extend(start for start, _ in plan.sessions)
    # Overlapping rules, pools and sessions can offer one start twice.
    candidates = sorted(set(candidates))
    simple = len(plans) == 1 and len(plans[0]) == 1 and rules.seats_per_slot is None
    only = plans[0][0]

    days: dict[int, list[Slot]] = {}
    duration = q.duration
    offset_at = customer.offset_at
    for start in candidates:
        if simple:
            remaining = 1 if only.capacity == 1 else only.remaining(start, q)
        else:
            remaining = _remaining(plans, start, q)
        if remaining < seats:
            continue
        start_offset = offset_at(start)
        local_day = (start + start_offset) // DAY
        if first_n <= local_day <= last_n:
            end = start + duration
            slot = Slot(start, end, start_offset, offset_at(end), remaining, zone)
            days.setdefault(local_day, []).append(slot)
    return [
        SlotDay(date.fromordinal(n + EPOCH_ORDINAL), days.get(n, []))
        for n in range(first_n, last_n + 1)
    ]


def _remaining(plans: list[list[ResourcePlan]], start: int, q: Query) -> int:
    """Per requirement, the seats its pool can still sell; the least of those."""
    least: int | None = None
    for pool in plans:
        total = 0
        for plan in pool:
            left = plan.remaining(start, q)
            if left >= q.seats:
                total += left
        if least is None or total < least:
            least = total
        if not least:
            return 0
    return least or 0


def _pool_valid(pool: list[ResourcePlan]) -> list[tuple[int, int]]:
    if len(pool) == 1:
        return pool[0].valid
    return normalize(span for plan in pool for span in plan.valid)


def _empty_days(first_n: int, last_n: int) -> list[SlotDay]:
    return [SlotDay(date.fromordinal(n + EPOCH_ORDINAL), []) for n in range(first_n, last_n + 1)]
