"""Named cases for time zones and DST: each test says what it proves."""

from datetime import date, time
from zoneinfo import ZoneInfo

import pytest

from slotwise.scheduling import ResourceCalendar, Schedule, WeeklyRule
from tests.scheduling.helpers import calendar, rules, starts


def test_spring_forward_gap_has_no_0230_slot():
    new_york = calendar("America/New_York", (time(1), time(4)))
    assert starts(new_york, date(2026, 3, 8), service=rules(30)) == [
        "2026-03-08T01:00:00-05:00",
        "2026-03-08T01:30:00-05:00",
        "2026-03-08T03:00:00-04:00",
        "2026-03-08T03:30:00-04:00",
    ]


def test_fall_back_fold_offers_the_repeated_hour_twice():
    new_york = calendar("America/New_York", (time(0), time(3)))
    assert starts(new_york, date(2026, 11, 1)) == [
        "2026-11-01T00:00:00-04:00",
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T02:00:00-05:00",
    ]


@pytest.mark.parametrize(
    ("zone", "day", "offsets"),
    [
        ("Europe/London", date(2026, 3, 29), {"+01:00"}),  # 23-hour day
        ("Europe/London", date(2026, 10, 25), {"+00:00"}),  # 25-hour day
        ("America/New_York", date(2026, 3, 8), {"-04:00"}),
        ("America/New_York", date(2026, 11, 1), {"-05:00"}),
    ],
)
def test_nine_to_five_is_nine_to_five_on_23_and_25_hour_days(zone, day, offsets):
    shop = calendar(zone, (time(9), time(17)))
    found = starts(shop, day)
    assert [s[11:16] for s in found] == [f"{h:02d}:00" for h in range(9, 17)]
    assert {s[19:] for s in found} == offsets


def test_rule_spanning_spring_forward_is_an_hour_shorter_in_real_time():
    london = calendar("Europe/London", (time(0), time(6)))
    assert len(starts(london, date(2026, 3, 29))) == 5
    assert len(starts(london, date(2026, 10, 25))) == 7


def test_rule_wholly_inside_the_gap_is_closed_that_day():
    new_york = calendar("America/New_York", (time(2), time(3)))
    assert starts(new_york, date(2026, 3, 8), service=rules(15)) == []
    assert len(starts(new_york, date(2026, 3, 9), service=rules(15))) == 4


def test_rule_starting_inside_the_gap_opens_when_the_clocks_jump():
    new_york = calendar("America/New_York", (time(2, 30), time(4)))
    assert starts(new_york, date(2026, 3, 8), service=rules(30)) == [
        "2026-03-08T03:00:00-04:00",
        "2026-03-08T03:30:00-04:00",
    ]


def test_rule_ending_inside_the_fold_covers_both_passes_up_to_its_end():
    new_york = calendar("America/New_York", (time(0), time(1, 30)))
    assert starts(new_york, date(2026, 11, 1), service=rules(30)) == [
        "2026-11-01T00:00:00-04:00",
        "2026-11-01T00:30:00-04:00",
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
    ]


def test_lord_howe_half_hour_shift_in_spring():
    lord_howe = calendar("Australia/Lord_Howe", (time(1), time(4)))
    assert starts(lord_howe, date(2026, 10, 4), service=rules(30)) == [
        "2026-10-04T01:00:00+10:30",
        "2026-10-04T01:30:00+10:30",
        "2026-10-04T02:30:00+11:00",
        "2026-10-04T03:00:00+11:00",
        "2026-10-04T03:30:00+11:00",
    ]


def test_lord_howe_half_hour_fold_in_autumn():
    lord_howe = calendar("Australia/Lord_Howe", (time(1), time(3)))
    assert starts(lord_howe, date(2026, 4, 5), service=rules(30)) == [
        "2026-04-05T01:00:00+11:00",
        "2026-04-05T01:30:00+11:00",
        "2026-04-05T01:30:00+10:30",
        "2026-04-05T02:00:00+10:30",
        "2026-04-05T02:30:00+10:30",
    ]


def test_kathmandu_grid_stays_on_its_own_hour():
    kathmandu = calendar("Asia/Kathmandu", (time(9), time(11)))
    assert starts(kathmandu, date(2026, 6, 1), zone="UTC") == [
        "2026-06-01T03:15:00+00:00",
        "2026-06-01T04:15:00+00:00",
    ]
    assert starts(kathmandu, date(2026, 6, 1)) == [
        "2026-06-01T09:00:00+05:45",
        "2026-06-01T10:00:00+05:45",
    ]


def test_chatham_slot_across_the_245_jump_lasts_real_minutes():
    chatham = calendar("Pacific/Chatham", (time(2), time(5)))
    # 02:45 +12:45 becomes 03:45 +13:45: three wall hours are two real hours.
    assert starts(chatham, date(2026, 9, 27), service=rules(30)) == [
        "2026-09-27T02:00:00+12:45",
        "2026-09-27T02:30:00+12:45",
        "2026-09-27T04:00:00+13:45",
        "2026-09-27T04:30:00+13:45",
    ]


def test_st_johns_half_hour_offset_seen_from_new_york():
    st_johns = calendar("America/St_Johns", (time(9), time(10)))
    assert starts(st_johns, date(2026, 7, 1), zone="America/New_York") == [
        "2026-07-01T07:30:00-04:00"
    ]


def test_casablanca_ramadan_shift_keeps_wall_hours():
    # Morocco leaves +01:00 for +00:00 during Ramadan (2026-02-15 to 2026-03-22).
    casablanca = calendar("Africa/Casablanca", (time(9), time(10)))
    assert starts(casablanca, date(2026, 2, 10), zone="UTC") == ["2026-02-10T08:00:00+00:00"]
    assert starts(casablanca, date(2026, 3, 1), zone="UTC") == ["2026-03-01T09:00:00+00:00"]


def test_customer_east_of_provider_sees_slot_on_next_date():
    wednesdays = Schedule(
        ZoneInfo("America/Los_Angeles"), weekly=(WeeklyRule(2, time(16), time(18)),)
    )
    los_angeles = ResourceCalendar("r", wednesdays)
    # 16:00 on Wednesday 1 July in Los Angeles is 08:00 on 2 July in Tokyo.
    assert starts(los_angeles, date(2026, 7, 2), zone="Asia/Tokyo") == [
        "2026-07-02T08:00:00+09:00",
        "2026-07-02T09:00:00+09:00",
    ]
    assert starts(los_angeles, date(2026, 7, 1), zone="Asia/Tokyo") == []


def test_duration_across_fall_back_is_real_time():
    new_york = calendar("America/New_York", (time(0), time(4)))
    found = starts(new_york, date(2026, 11, 1), service=rules(120, step=60))
    # Four wall hours are five real hours: 2-hour slots start at 00:00, 01:00 (twice), 02:00.
    assert found == [
        "2026-11-01T00:00:00-04:00",
        "2026-11-01T01:00:00-04:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T02:00:00-05:00",
    ]
