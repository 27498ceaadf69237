"""The slot finder against the minute-by-minute oracle, over zones and DST changes."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from slotwise.scheduling import (
    Booked,
    Busy,
    Closure,
    DateOverride,
    Limits,
    ResourceCalendar,
    Schedule,
    ServiceRules,
    WeeklyRule,
    find_slots,
)
from tests.scheduling.oracle import oracle_grid, oracle_slots, transition_days

ZONES = [
    "America/New_York",
    "Europe/London",
    "Australia/Lord_Howe",
    "Asia/Kathmandu",
    "America/St_Johns",
    "Pacific/Chatham",
    "Africa/Casablanca",
    "America/Santiago",
    "America/Havana",
    "Europe/Berlin",
    "Asia/Kolkata",
    "UTC",
]
YEARS = (date(2025, 1, 1), date(2027, 12, 31))
TRANSITIONS = {
    zone: transition_days(ZoneInfo(zone), *YEARS) or [date(2026, 6, 1)] for zone in ZONES
}


def quarter_hours(lo: int = 0, hi: int = 96):
    return st.integers(lo, hi).map(lambda q: q * 15)


def as_time(minutes: int) -> time:
    return time(0) if minutes == 1440 else time(minutes // 60, minutes % 60)


@st.composite
def hours_ranges(draw, max_size=2):
    ranges = []
    for _ in range(draw(st.integers(0, max_size))):
        start = draw(quarter_hours(0, 95))
        end = draw(quarter_hours(start // 15 + 1, 96))
        ranges.append((as_time(start), as_time(end)))
    return tuple(ranges)


@st.composite
def resources(draw, zone, first):
    weekly = tuple(
        WeeklyRule(weekday, start, end)
        for weekday in range(7)
        for start, end in draw(hours_ranges())
    )
    overrides = ()
    if draw(st.booleans()):
        overrides = (DateOverride(first + timedelta(days=draw(st.integers(-1, 3))),
                                  draw(hours_ranges(max_size=1))),)  # fmt: skip
    closures = ()
    if draw(st.integers(0, 4)) == 0:
        day = first + timedelta(days=draw(st.integers(-1, 3)))
        closures = (Closure(day, day),)
    schedule = Schedule(ZoneInfo(zone), weekly=weekly, overrides=overrides, closures=closures)

    base = int(datetime.combine(first, time(0), UTC).timestamp())
    capacity = draw(st.integers(1, 3))
    busy = []
    for _ in range(draw(st.integers(0, 8))):
        start = base + draw(st.integers(-24 * 4, 96 * 4)) * 900
        length = draw(st.integers(1, 16)) * 900
        units = draw(st.sampled_from([None, 1, 1, 2]))
        booking = None
        if units is not None and draw(st.booleans()):
            booking = Booked(start, start + length)
        busy.append(Busy(start, start + length, units=units, booking=booking))
    return ResourceCalendar(draw(st.uuids()), schedule, capacity=capacity, busy=tuple(busy))


@st.composite
def services(draw):
    minutes = st.sampled_from([15, 30, 45, 60, 90, 120])
    limits = Limits()
    if draw(st.integers(0, 3)) == 0:
        limits = Limits(
            bookings_per_day=draw(st.none() | st.integers(0, 3)),
            minutes_per_day=draw(st.none() | st.integers(0, 240)),
            bookings_per_week=draw(st.none() | st.integers(0, 5)),
            minutes_per_week=draw(st.none() | st.integers(0, 600)),
        )
    return ServiceRules(
        duration=timedelta(minutes=draw(minutes)),
        step=draw(st.none() | minutes.map(lambda m: timedelta(minutes=m))),
        buffer_before=timedelta(minutes=draw(st.sampled_from([0, 0, 15, 30]))),
        buffer_after=timedelta(minutes=draw(st.sampled_from([0, 0, 15, 30]))),
        min_notice=timedelta(minutes=draw(st.sampled_from([0, 60, 600]))),
        horizon=draw(st.none() | st.integers(1, 96).map(lambda h: timedelta(hours=h))),
        limits=limits,
    )


@st.composite
def cases(draw, pools=((1, 1),)):
    zone = draw(st.sampled_from(ZONES))
    near = draw(st.sampled_from(TRANSITIONS[zone]))
    first = near + timedelta(days=draw(st.integers(-2, 1)))
    last = first + timedelta(days=draw(st.integers(0, 2)))
    requirements = [
        [
            draw(resources(draw(st.sampled_from([zone, zone, *ZONES])) if n else zone, first))
            for n in range(draw(st.integers(*size)))
        ]
        for size in pools
    ]
    service = draw(services())
    base = int(datetime.combine(first, time(0), UTC).timestamp())
    now = datetime.fromtimestamp(base + draw(st.integers(-48, 72)) * 1800, UTC)
    customer = ZoneInfo(draw(st.sampled_from(ZONES)))
    seats = draw(st.integers(1, 2))
    return service, requirements, first, last, customer, now, seats


@settings(max_examples=1500, deadline=None)
@given(cases())
def test_find_slots_matches_minute_by_minute_oracle(case):
    service, [[calendar]], first, last, customer, now, seats = case
    days = find_slots(
        service, [[calendar]], first=first, last=last, zone=customer, now=now, seats=seats
    )
    expected = oracle_slots(
        service, calendar, first=first, last=last, zone=customer, now=now, seats=seats
    )
    assert [d.date for d in days] == [
        first + timedelta(days=n) for n in range((last - first).days + 1)
    ]
    got = {d.date: [(s.start_ts, s.end_ts, s.remaining) for s in d.slots] for d in days if d.slots}
    assert got == expected
    for day in days:
        for slot in day.slots:
            assert slot.start.date() == day.date
            assert slot.start.utcoffset() == timedelta(seconds=slot.start_offset)
            # Subtracting datetimes of one zone is wall-clock arithmetic in Python; compare in UTC.
            assert slot.end_utc - slot.start_utc == service.duration


@settings(max_examples=300, deadline=None)
@given(cases(pools=((1, 2), (1, 2))))
def test_pools_offer_a_slot_when_every_requirement_has_a_free_resource(case):
    service, requirements, first, last, customer, now, seats = case
    days = find_slots(
        service, requirements, first=first, last=last, zone=customer, now=now, seats=seats
    )
    grid = set().union(*(oracle_grid(service, r, first, last) for r in requirements[0]))
    per_resource = [
        [
            {
                start: remaining
                for slots in oracle_slots(
                    service, r, first=first, last=last, zone=customer, now=now, seats=seats,
                    candidates=grid,
                ).values()
                for start, _, remaining in slots
            }
            for r in pool
        ]
        for pool in requirements
    ]  # fmt: skip
    expected = {}
    for minute in sorted(grid):
        start = minute * 60
        remaining = min(sum(r.get(start, 0) for r in pool) for pool in per_resource)
        if remaining:
            expected[start] = remaining
    got = {s.start_ts: s.remaining for d in days for s in d.slots}
    assert got == expected
