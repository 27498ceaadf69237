"""Named cases for the slot rules: buffers, notice, horizon, capacity, limits, pools."""

from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotwise.scheduling import (
    Booked,
    Busy,
    Closure,
    DateOverride,
    HolidayCalendar,
    Limits,
    ResourceCalendar,
    Schedule,
    WeeklyRule,
    find_slots,
)
from tests.scheduling.helpers import LONG_AGO, at, calendar, every_day, rules, starts

MONDAY = date(2026, 6, 1)
BERLIN = "Europe/Berlin"


def hours(found):
    return [s[11:16] for s in found]


def test_lunch_break_restarts_the_grid_after_lunch():
    anna = calendar(BERLIN, (time(9), time(12)), (time(13, 15), time(15)))
    assert hours(starts(anna, MONDAY, service=rules(45))) == [
        "09:00",
        "09:45",
        "10:30",
        "11:15",
        "13:15",
        "14:00",
    ]


def test_step_shorter_than_duration_overlaps_candidates():
    anna = calendar(BERLIN, (time(9), time(11)))
    assert hours(starts(anna, MONDAY, service=rules(60, step=30))) == ["09:00", "09:30", "10:00"]


def test_booking_blocks_its_slot_and_its_buffers_block_neighbours():
    booking = Busy.between(
        at("2026-06-01T10:00+02:00"), at("2026-06-01T11:15+02:00")
    )  # 10-11 plus 15 min after
    anna = calendar(BERLIN, (time(9), time(13)), busy=(booking,))
    assert hours(starts(anna, MONDAY)) == ["09:00", "12:00"]
    assert hours(starts(anna, MONDAY, service=rules(60, step=15, buffer_before=15))) == [
        "09:00",
        "11:30",
        "11:45",
        "12:00",
    ]


def test_buffers_may_reach_outside_opening_hours():
    anna = calendar(BERLIN, (time(9), time(11)))
    service = rules(60, buffer_before=30, buffer_after=30)
    assert hours(starts(anna, MONDAY, service=service)) == ["09:00", "10:00"]


def test_buffer_may_not_overlap_an_external_busy_event():
    event = Busy.between(at("2026-06-01T08:30+02:00"), at("2026-06-01T09:00+02:00"), units=None)
    anna = calendar(BERLIN, (time(9), time(11)), busy=(event,))
    assert hours(starts(anna, MONDAY, service=rules(60, buffer_before=15))) == ["10:00"]


def test_minimum_notice_and_horizon_are_measured_from_now():
    anna = calendar(BERLIN, (time(9), time(17)))
    now = at("2026-06-01T09:20+02:00")
    service = rules(60, min_notice=120, horizon=24 * 60 + 60)
    assert hours(starts(anna, MONDAY, service=service, now=now)) == [
        "12:00",
        "13:00",
        "14:00",
        "15:00",
        "16:00",
    ]
    # The horizon ends at 10:20 the next day: 09:00 and 10:00 start before it.
    assert hours(starts(anna, MONDAY + timedelta(days=1), service=service, now=now)) == [
        "09:00",
        "10:00",
    ]


def test_capacity_counts_units_and_reports_remaining():
    two = Busy.between(at("2026-06-01T09:00+02:00"), at("2026-06-01T10:00+02:00"), units=2)
    table = calendar(BERLIN, (time(9), time(11)), capacity=6, busy=(two,))
    (day,) = find_slots(
        rules(60), [[table]], first=MONDAY, last=MONDAY, zone=ZoneInfo(BERLIN), now=LONG_AGO
    )
    assert [(s.start_iso()[11:16], s.remaining) for s in day.slots] == [("09:00", 4), ("10:00", 6)]
    (day,) = find_slots(
        rules(60),
        [[table]],
        first=MONDAY,
        last=MONDAY,
        zone=ZoneInfo(BERLIN),
        now=LONG_AGO,
        seats=5,
    )
    assert [s.start_iso()[11:16] for s in day.slots] == ["10:00"]


def test_remaining_is_the_fullest_moment_of_the_blocked_range():
    busy = (
        Busy.between(at("2026-06-01T09:00+02:00"), at("2026-06-01T09:30+02:00"), units=1),
        Busy.between(at("2026-06-01T09:30+02:00"), at("2026-06-01T10:00+02:00"), units=2),
    )
    room = calendar(BERLIN, (time(9), time(10)), capacity=3, busy=busy)
    (day,) = find_slots(
        rules(60), [[room]], first=MONDAY, last=MONDAY, zone=ZoneInfo(BERLIN), now=LONG_AGO
    )
    assert [s.remaining for s in day.slots] == [1]


def test_external_event_blocks_whole_capacity():
    event = Busy.between(at("2026-06-01T09:00+02:00"), at("2026-06-01T10:00+02:00"), units=None)
    room = calendar(BERLIN, (time(9), time(11)), capacity=10, busy=(event,))
    assert hours(starts(room, MONDAY)) == ["10:00"]


def test_group_session_sells_its_seats_and_can_be_joined():
    start, end = at("2026-06-01T09:00+02:00"), at("2026-06-01T10:00+02:00")
    class_of_three = [
        Busy.between(start, end, booking=Booked.between(start, end, seats=1)) for _ in range(2)
    ]
    teacher = calendar(BERLIN, (time(9), time(11)), busy=tuple(class_of_three))
    service = rules(60, seats_per_slot=3)
    (day,) = find_slots(
        service, [[teacher]], first=MONDAY, last=MONDAY, zone=ZoneInfo(BERLIN), now=LONG_AGO
    )
    assert [(s.start_iso()[11:16], s.remaining) for s in day.slots] == [("09:00", 1), ("10:00", 3)]
    full = (*class_of_three, Busy.between(start, end, booking=Booked.between(start, end, seats=1)))
    teacher = calendar(BERLIN, (time(9), time(11)), busy=full)
    assert hours(starts(teacher, MONDAY, service=service)) == ["10:00"]


def test_group_session_cannot_start_while_the_resource_does_something_else():
    other = Busy.between(at("2026-06-01T09:30+02:00"), at("2026-06-01T10:00+02:00"))
    teacher = calendar(BERLIN, (time(9), time(11)), busy=(other,))
    assert hours(starts(teacher, MONDAY, service=rules(60, seats_per_slot=12))) == ["10:00"]


def _booked(text_start, text_end):
    start, end = at(text_start), at(text_end)
    return Busy.between(start, end, booking=Booked.between(start, end))


@pytest.mark.parametrize(
    ("limits", "expected"),
    [
        (Limits(bookings_per_day=2), []),
        (Limits(bookings_per_day=3), ["11:00", "12:00"]),
        (Limits(minutes_per_day=150), []),
        (Limits(minutes_per_day=180), ["11:00", "12:00"]),
        (Limits(bookings_per_week=3), []),
        (Limits(minutes_per_week=240), ["11:00", "12:00"]),
    ],
    ids=["day_count_full", "day_count_room", "day_minutes_full", "day_minutes_room",
         "week_count_full", "week_minutes_room"],
)  # fmt: skip
def test_limits_count_bookings_by_local_day_and_week(limits, expected):
    busy = (
        _booked("2026-06-01T09:00+02:00", "2026-06-01T10:00+02:00"),
        _booked("2026-06-01T10:00+02:00", "2026-06-01T11:00+02:00"),
        # Sunday 31 May 23:30 in Berlin is still last week and another day.
        _booked("2026-05-31T23:30+02:00", "2026-06-01T00:00+02:00"),
        _booked("2026-06-07T10:00+02:00", "2026-06-07T10:30+02:00"),  # Sunday, same week
    )
    anna = calendar(BERLIN, (time(9), time(13)), busy=busy)
    assert hours(starts(anna, MONDAY, service=rules(60, limits=limits))) == expected


def test_limits_use_the_providers_local_day_not_utc():
    # 23:30 on 1 June in New York is 03:30 UTC on 2 June: it counts for 1 June.
    late = _booked("2026-06-01T23:30-04:00", "2026-06-02T00:00-04:00")
    anna = calendar("America/New_York", (time(9), time(10)), busy=(late,))
    service = rules(60, limits=Limits(bookings_per_day=1))
    assert starts(anna, MONDAY, service=service) == []
    assert hours(starts(anna, MONDAY + timedelta(days=1), service=service)) == ["09:00"]


def test_override_beats_closure_beats_holiday_beats_weekly():
    schedule = Schedule(
        ZoneInfo(BERLIN),
        weekly=every_day((time(9), time(11))),
        overrides=(DateOverride(date(2026, 12, 24), hours=((time(10), time(11)),)),
                   DateOverride(date(2026, 12, 28))),
        closures=(Closure(date(2026, 12, 23), date(2026, 12, 24), "winter break"),),
        holidays=HolidayCalendar("DE", "BE"),
    )  # fmt: skip
    anna = ResourceCalendar("anna", schedule)
    assert hours(starts(anna, date(2026, 12, 22))) == ["09:00", "10:00"]
    assert starts(anna, date(2026, 12, 23)) == []  # closure
    assert hours(starts(anna, date(2026, 12, 24))) == ["10:00"]  # override inside the closure
    assert starts(anna, date(2026, 12, 25)) == []  # Christmas Day, public holiday
    assert starts(anna, date(2026, 12, 28)) == []  # closed by override


def test_override_applies_to_the_providers_date_when_customer_is_elsewhere():
    schedule = Schedule(
        ZoneInfo("Pacific/Auckland"),
        weekly=every_day((time(9), time(10))),
        overrides=(DateOverride(date(2026, 6, 2)),),
    )
    provider = ResourceCalendar("p", schedule)
    # Auckland 2 June 09:00 is 1 June 17:00 in New York: that slot is gone, 2 June's is not.
    assert starts(provider, date(2026, 6, 1), zone="America/New_York") == []
    assert hours(starts(provider, date(2026, 6, 2), zone="America/New_York")) == ["17:00"]


def test_weekly_rule_validity_dates_switch_hours():
    schedule = Schedule(
        ZoneInfo(BERLIN),
        weekly=(
            WeeklyRule(0, time(9), time(10), valid_until=date(2026, 6, 7)),
            WeeklyRule(0, time(14), time(15), valid_from=date(2026, 6, 8)),
        ),
    )
    anna = ResourceCalendar("anna", schedule)
    assert hours(starts(anna, MONDAY)) == ["09:00"]
    assert hours(starts(anna, MONDAY + timedelta(days=7))) == ["14:00"]


def test_pool_offers_a_slot_when_any_resource_is_free_and_sums_remaining():
    booking = Busy.between(at("2026-06-01T09:00+02:00"), at("2026-06-01T10:00+02:00"))
    anna = calendar(BERLIN, (time(9), time(11)), busy=(booking,))
    ben = calendar(BERLIN, (time(9), time(11)))
    (day,) = find_slots(
        rules(60), [[anna, ben]], first=MONDAY, last=MONDAY, zone=ZoneInfo(BERLIN), now=LONG_AGO
    )
    assert [(s.start_iso()[11:16], s.remaining) for s in day.slots] == [("09:00", 1), ("10:00", 2)]


def test_person_and_room_must_both_be_free():
    anna = calendar(BERLIN, (time(9), time(12)))
    room_busy = Busy.between(at("2026-06-01T10:00+02:00"), at("2026-06-01T11:00+02:00"))
    room = calendar(BERLIN, (time(8), time(20)), busy=(room_busy,))
    (day,) = find_slots(
        rules(60), [[anna], [room]], first=MONDAY, last=MONDAY, zone=ZoneInfo(BERLIN), now=LONG_AGO
    )
    assert [s.start_iso()[11:16] for s in day.slots] == ["09:00", "11:00"]


def test_room_opening_hours_limit_the_persons_grid():
    anna = calendar(BERLIN, (time(9), time(12)))
    room = calendar(BERLIN, (time(10), time(20)))
    (day,) = find_slots(
        rules(60), [[anna], [room]], first=MONDAY, last=MONDAY, zone=ZoneInfo(BERLIN), now=LONG_AGO
    )
    assert [s.start_iso()[11:16] for s in day.slots] == ["10:00", "11:00"]


def test_every_asked_date_is_present_even_without_slots():
    anna = Schedule(ZoneInfo(BERLIN), weekly=(WeeklyRule(0, time(9), time(10)),))
    days = find_slots(
        rules(60),
        [[ResourceCalendar("anna", anna)]],
        first=MONDAY,
        last=MONDAY + timedelta(days=6),
        zone=ZoneInfo(BERLIN),
        now=LONG_AGO,
    )
    assert [d.date for d in days] == [MONDAY + timedelta(days=n) for n in range(7)]
    assert [len(d.slots) for d in days] == [1, 0, 0, 0, 0, 0, 0]


def test_slot_carries_customer_and_utc_instants():
    anna = calendar(BERLIN, (time(9), time(10)))
    (day,) = find_slots(
        rules(60), [[anna]], first=MONDAY, last=MONDAY, zone=ZoneInfo("Asia/Kolkata"), now=LONG_AGO
    )
    (slot,) = day.slots
    assert (slot.start_iso(), slot.end_iso()) == (
        "2026-06-01T12:30:00+05:30",
        "2026-06-01T13:30:00+05:30",
    )
    assert (slot.start_utc_iso(), slot.end_utc_iso()) == (
        "2026-06-01T07:00:00Z",
        "2026-06-01T08:00:00Z",
    )
    assert slot.start == at("2026-06-01T12:30+05:30")
    assert slot.start.tzinfo == ZoneInfo("Asia/Kolkata")
    assert slot.end_utc == at("2026-06-01T08:00+00:00")


@pytest.mark.parametrize(
    "bad",
    [
        lambda: rules(0),
        lambda: rules(60, step=0),
        lambda: rules(60, buffer_before=-5),
        lambda: rules(60, seats_per_slot=0),
        lambda: WeeklyRule(7, time(9), time(10)),
        lambda: WeeklyRule(0, time(10), time(9)),
        lambda: Closure(date(2026, 1, 2), date(2026, 1, 1)),
        lambda: HolidayCalendar("XX"),
        lambda: calendar(BERLIN, (time(9), time(10)), capacity=0),
    ],
)
def test_invalid_rules_are_refused_with_a_clear_error(bad):
    with pytest.raises(ValueError, match=r"\w"):
        bad()


def test_naive_now_is_refused():
    anna = calendar(BERLIN, (time(9), time(10)))
    with pytest.raises(ValueError, match="naive"):
        find_slots(rules(), [[anna]], first=MONDAY, last=MONDAY, zone=ZoneInfo(BERLIN),
                   now=LONG_AGO.replace(tzinfo=None))  # fmt: skip


def test_midnight_end_means_end_of_day_and_overnight_rules_join():
    schedule = Schedule(
        ZoneInfo(BERLIN),
        weekly=(WeeklyRule(0, time(22), time(0)), WeeklyRule(1, time(0), time(2))),
    )
    bar = ResourceCalendar("bar", schedule)
    (day,) = find_slots(
        rules(120, step=60), [[bar]], first=MONDAY, last=MONDAY, zone=ZoneInfo(BERLIN), now=LONG_AGO
    )
    assert [s.start_iso()[11:16] for s in day.slots] == ["22:00", "23:00"]
