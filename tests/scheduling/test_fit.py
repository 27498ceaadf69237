"""check_start, the booking-time check, agrees with the slot finder and picks fairly."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings

from slotwise.scheduling import (
    Booked,
    Busy,
    Refusal,
    ResourceCalendar,
    Schedule,
    ServiceRules,
    WeeklyRule,
    check_start,
    find_slots,
)
from tests.scheduling.oracle import oracle_grid
from tests.scheduling.test_properties import cases

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 3, 1, tzinfo=UTC)
MONDAY = date(2026, 3, 30)
HOURS = Schedule(
    BERLIN, weekly=(WeeklyRule(0, time(9), time(12)), WeeklyRule(0, time(13), time(17)))
)
HOUR = ServiceRules(duration=timedelta(hours=1))


def at(hour, minute=0, day=MONDAY):
    return datetime.combine(day, time(hour, minute), BERLIN)


def person(key, *busy, capacity=1):
    return ResourceCalendar(key, HOURS, capacity, tuple(busy))


def booked(hour, minutes=60, seats=1, units=1, own=True):
    start, end = at(hour), at(hour) + timedelta(minutes=minutes)
    return Busy.between(start, end, units, Booked.between(start, end, seats) if own else None)


def check(pools, start, rules=HOUR, seats=1, now=NOW):
    return check_start(rules, pools, start=start, now=now, seats=seats)


def test_a_free_grid_start_is_bookable():
    result = check([[person("ann")]], at(10))
    assert result.ok
    assert result.pick() == ["ann"]


@pytest.mark.parametrize(
    ("start", "refusal"),
    [
        (at(10, 7), Refusal.NOT_ON_GRID),
        (at(12, 0), Refusal.CLOSED),
        (at(18, 0), Refusal.CLOSED),
        (at(10, 0, day=MONDAY + timedelta(days=1)), Refusal.CLOSED),
    ],
    ids=["0907-inside-hours", "lunch", "evening", "tuesday-closed"],
)
def test_starts_off_the_grid_or_outside_hours_are_refused_with_their_reason(start, refusal):
    assert check([[person("ann")]], start).refusal is refusal


def test_notice_and_horizon():
    rules = ServiceRules(
        duration=timedelta(hours=1), min_notice=timedelta(hours=2), horizon=timedelta(days=10)
    )
    assert check([[person("ann")]], at(10), rules, now=at(9)).refusal is Refusal.TOO_SOON
    assert check([[person("ann")]], at(11), rules, now=at(9)).ok
    assert check([[person("ann")]], at(10), rules, now=NOW).refusal is Refusal.TOO_FAR


def test_a_taken_slot_is_unavailable_and_names_no_candidate():
    result = check([[person("ann", booked(10))]], at(10))
    assert result.refusal is Refusal.UNAVAILABLE
    assert result.pools == ((),)
    with pytest.raises(ValueError, match="refused"):
        result.pick()


def test_buffers_of_the_new_booking_must_fit_beside_existing_ones():
    rules = ServiceRules(duration=timedelta(hours=1), buffer_after=timedelta(minutes=15))
    assert check([[person("ann", booked(11))]], at(10), rules).refusal is Refusal.UNAVAILABLE
    assert check([[person("ann", booked(11))]], at(9), rules).ok


def test_the_least_booked_person_that_day_is_picked_and_ties_go_to_pool_order():
    ann = person("ann", booked(9), booked(13))
    bob = person("bob", booked(14))
    cat = person("cat", booked(15))
    assert check([[ann, bob, cat]], at(10)).pick() == ["bob"]
    assert check([[cat, bob]], at(10)).pick() == ["cat"]


def test_busy_people_are_never_picked_however_idle_they_were():
    ann = person("ann", booked(10))
    bob = person("bob", booked(9), booked(13), booked(14), booked(15))
    assert check([[ann, bob]], at(10)).pick() == ["bob"]


def test_one_resource_is_not_picked_for_two_requirements():
    ann, bob = person("ann"), person("bob")
    assert check([[ann, bob], [ann, bob]], at(10)).pick() == ["ann", "bob"]


def test_seats_on_a_resource_with_capacity():
    table = person("table", booked(10, units=4), capacity=6)
    assert check([[table]], at(10), seats=2).pools[0][0].remaining == 2
    assert check([[table]], at(10), seats=3).refusal is Refusal.UNAVAILABLE


def test_group_sessions_sell_their_seats_and_no_more():
    rules = ServiceRules(duration=timedelta(hours=1), seats_per_slot=8)
    room = person("room", booked(10, seats=5))
    assert check([[room]], at(10), rules, seats=3).ok
    assert check([[room]], at(10), rules, seats=4).refusal is Refusal.UNAVAILABLE
    assert check([[room]], at(10), rules, seats=9).refusal is Refusal.TOO_MANY_SEATS


def test_spring_forward_gap_has_no_0230_start():
    night = Schedule(BERLIN, weekly=(WeeklyRule(6, time(0), time(6)),))
    rules = ServiceRules(duration=timedelta(minutes=30))
    calendar = [[ResourceCalendar("night", night)]]
    midnight = datetime(2026, 3, 28, 23, tzinfo=UTC)  # Sunday 29 March, 00:00 CET
    starts = [midnight + timedelta(minutes=30 * n) for n in range(10)]
    ok = [
        s.astimezone(BERLIN).strftime("%H:%M")
        for s in starts
        if check_start(rules, calendar, start=s, now=NOW).ok
    ]
    assert ok == ["00:00", "00:30", "01:00", "01:30", "03:00", "03:30", "04:00", "04:30",
                  "05:00", "05:30"]  # fmt: skip


@settings(max_examples=250, deadline=None)
@given(cases(pools=((1, 2), (1, 2))))
def test_check_start_accepts_exactly_the_listed_slots(case):
    rules, requirements, first, last, customer, now, seats = case
    days = find_slots(rules, requirements, first=first, last=last, zone=customer, now=now,
                      seats=seats)  # fmt: skip
    listed = {s.start_ts: s.remaining for d in days for s in d.slots}
    grid = set().union(*(oracle_grid(rules, r, first, last) for r in requirements[0]))
    for minute in sorted(grid):
        start = datetime.fromtimestamp(minute * 60, UTC)
        if not first <= start.astimezone(customer).date() <= last:
            continue
        result = check_start(rules, requirements, start=start, now=now, seats=seats)
        if minute * 60 in listed:
            assert result.ok, result
            remaining = min(sum(c.remaining for c in pool) for pool in result.pools)
            assert remaining == listed[minute * 60]
            picked = result.pick() if len(requirements) == 1 else None
            assert picked is None or picked[0] in {c.key for c in result.pools[0]}
        else:
            assert not result.ok, (start, result)
