"""Recurring series: named cases per rule and DST change, and a property against dateutil."""

import calendar
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from dateutil.rrule import rrulestr
from hypothesis import given, settings
from hypothesis import strategies as st

from slotwise.scheduling.recurrence import SKIPPED, RecurrenceError, expand
from slotwise.scheduling.zones import DAY, ZoneWindow, local_seconds

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def at(zone: ZoneInfo | str, *fields: int, fold: int = 0) -> datetime:
    if isinstance(zone, str):
        zone = ZoneInfo(zone)
    return datetime(*fields, tzinfo=zone, fold=fold)


def isos(rule: str, first: datetime, **kwargs) -> list[str | None]:
    """Each occurrence's start in ISO form, ``None`` for one that is not bookable."""
    return [o.start.isoformat() if o.start else None for o in expand(rule, first, **kwargs)]


# Weekly across DST changes


def test_weekly_1400_in_berlin_stays_1400_across_spring_forward():
    assert isos("FREQ=WEEKLY;COUNT=3", at(BERLIN, 2026, 3, 23, 14)) == [
        "2026-03-23T14:00:00+01:00",
        "2026-03-30T14:00:00+02:00",
        "2026-04-06T14:00:00+02:00",
    ]


def test_weekly_1400_in_berlin_stays_1400_across_fall_back():
    series = expand("RRULE:FREQ=WEEKLY;COUNT=2", at(BERLIN, 2026, 10, 19, 14))
    assert [o.start.isoformat() for o in series] == [
        "2026-10-19T14:00:00+02:00",
        "2026-10-26T14:00:00+01:00",
    ]
    assert [o.start.astimezone(UTC).hour for o in series] == [12, 13]


def test_every_two_weeks_skips_the_week_between():
    assert isos("FREQ=WEEKLY;INTERVAL=2;COUNT=3", at(BERLIN, 2026, 6, 1, 9)) == [
        "2026-06-01T09:00:00+02:00",
        "2026-06-15T09:00:00+02:00",
        "2026-06-29T09:00:00+02:00",
    ]


def test_every_two_weeks_on_two_weekdays_keeps_both_days_of_the_booked_weeks():
    assert isos("FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TH;COUNT=4", at(BERLIN, 2026, 6, 1, 9)) == [
        "2026-06-01T09:00:00+02:00",
        "2026-06-04T09:00:00+02:00",
        "2026-06-15T09:00:00+02:00",
        "2026-06-18T09:00:00+02:00",
    ]


def test_daily_on_weekdays_skips_the_weekend():
    series = expand("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=6", at(BERLIN, 2026, 6, 4, 8))
    assert [o.wall.day for o in series] == [4, 5, 8, 9, 10, 11]


# Monthly


def test_monthly_second_tuesday():
    assert isos("FREQ=MONTHLY;BYDAY=2TU;COUNT=4", at(BERLIN, 2026, 1, 13, 14)) == [
        "2026-01-13T14:00:00+01:00",
        "2026-02-10T14:00:00+01:00",
        "2026-03-10T14:00:00+01:00",
        "2026-04-14T14:00:00+02:00",
    ]


def test_monthly_last_friday():
    assert isos("FREQ=MONTHLY;BYDAY=-1FR;COUNT=4", at(BERLIN, 2026, 1, 30, 18, 30)) == [
        "2026-01-30T18:30:00+01:00",
        "2026-02-27T18:30:00+01:00",
        "2026-03-27T18:30:00+01:00",
        "2026-04-24T18:30:00+02:00",
    ]


def test_monthly_on_the_31st_skips_months_without_one():
    series = expand("FREQ=MONTHLY;COUNT=3", at(BERLIN, 2026, 1, 31, 10))
    assert [o.wall.date() for o in series] == [
        date(2026, 1, 31),
        date(2026, 3, 31),
        date(2026, 5, 31),
    ]


def test_monthly_on_the_last_day_says_bymonthday_minus_one():
    series = expand("FREQ=MONTHLY;BYMONTHDAY=-1;COUNT=3", at(BERLIN, 2026, 1, 31, 10))
    assert [o.wall.date() for o in series] == [
        date(2026, 1, 31),
        date(2026, 2, 28),
        date(2026, 3, 31),
    ]


# How a series ends


@pytest.mark.parametrize("count", [1, 2, 10, 104])
def test_count_gives_exactly_that_many_occurrences(count):
    series = expand(f"FREQ=WEEKLY;COUNT={count}", at(BERLIN, 2026, 1, 5, 14))
    assert len(series) == count
    assert series[0].start == at(BERLIN, 2026, 1, 5, 14)


def test_until_date_includes_that_day_on_the_providers_wall_clock():
    series = expand("FREQ=WEEKLY;UNTIL=20260413", at(BERLIN, 2026, 3, 23, 14))
    assert [o.wall.date() for o in series] == [
        date(2026, 3, 23),
        date(2026, 3, 30),
        date(2026, 4, 6),
        date(2026, 4, 13),
    ]


def test_until_date_of_the_first_start_gives_one_occurrence():
    assert len(expand("FREQ=DAILY;UNTIL=20260323", at(BERLIN, 2026, 3, 23, 23, 59))) == 1


def test_until_utc_time_is_inclusive_and_compared_with_instants():
    first = at(BERLIN, 2026, 3, 23, 14)  # 13:00 UTC now, 12:00 UTC after the change
    assert len(expand("FREQ=WEEKLY;UNTIL=20260330T120000Z", first)) == 2
    assert len(expand("FREQ=WEEKLY;UNTIL=20260330T115959Z", first)) == 1
    assert len(expand("FREQ=WEEKLY;UNTIL=20260323T130000Z", first)) == 1


def test_until_utc_time_in_a_zone_ahead_of_utc_ends_on_the_instant_not_the_date():
    kathmandu = at("Asia/Kathmandu", 2026, 6, 1, 2)  # 2026-05-31T20:15Z
    series = expand("FREQ=DAILY;UNTIL=20260602T000000Z", kathmandu)
    assert [o.wall.day for o in series] == [1, 2]


def test_max_occurrences_may_be_raised_for_a_long_series():
    series = expand("FREQ=DAILY;COUNT=365", at(BERLIN, 2026, 1, 1, 9), max_occurrences=365)
    assert len(series) == 365
    assert {o.wall.time() for o in series} == {time(9)}


# Gaps and folds


def test_weekly_0230_in_new_york_is_not_bookable_on_the_spring_forward_sunday():
    series = expand("FREQ=WEEKLY;COUNT=3", at(NEW_YORK, 2026, 3, 1, 2, 30))
    assert [o.bookable for o in series] == [True, False, True]
    skipped = series[1]
    assert skipped.wall == datetime(2026, 3, 8, 2, 30)  # noqa: DTZ001 - a wall time
    assert skipped.start is None
    assert skipped.reason == SKIPPED == "the clocks skip this time that day"
    assert series[2].start.isoformat() == "2026-03-15T02:30:00-04:00"
    assert series[0].reason == ""


def test_fold_occurrence_takes_the_first_pass():
    series = expand("FREQ=WEEKLY;COUNT=2", at(NEW_YORK, 2026, 10, 25, 1, 30))
    assert series[1].start.isoformat() == "2026-11-01T01:30:00-04:00"
    assert series[1].start.utcoffset() == timedelta(hours=-4)


def test_first_start_on_the_second_pass_of_a_fold_stays_on_it():
    series = expand("FREQ=WEEKLY;COUNT=2", at(NEW_YORK, 2026, 11, 1, 1, 30, fold=1))
    assert series[0].start.utcoffset() == timedelta(hours=-5)
    assert series[0].start.astimezone(UTC) == datetime(2026, 11, 1, 6, 30, tzinfo=UTC)
    assert series[1].start.isoformat() == "2026-11-08T01:30:00-05:00"


def test_lord_howe_half_hour_gap_skips_0215():
    assert isos("FREQ=WEEKLY;COUNT=3", at("Australia/Lord_Howe", 2026, 9, 27, 2, 15)) == [
        "2026-09-27T02:15:00+10:30",
        None,
        "2026-10-11T02:15:00+11:00",
    ]


def test_lord_howe_half_hour_fold_takes_the_first_pass_of_0145():
    assert isos("FREQ=WEEKLY;COUNT=3", at("Australia/Lord_Howe", 2026, 3, 29, 1, 45)) == [
        "2026-03-29T01:45:00+11:00",
        "2026-04-05T01:45:00+11:00",
        "2026-04-12T01:45:00+10:30",
    ]


def test_chatham_spring_forward_skips_0300_and_keeps_the_quarter_hour_offset():
    assert isos("FREQ=WEEKLY;COUNT=3", at("Pacific/Chatham", 2026, 9, 20, 3)) == [
        "2026-09-20T03:00:00+12:45",
        None,
        "2026-10-04T03:00:00+13:45",
    ]


def test_kathmandu_monthly_keeps_its_45_minute_offset():
    assert isos("FREQ=MONTHLY;BYDAY=1MO;COUNT=3", at("Asia/Kathmandu", 2026, 6, 1, 9, 15)) == [
        "2026-06-01T09:15:00+05:45",
        "2026-07-06T09:15:00+05:45",
        "2026-08-03T09:15:00+05:45",
    ]


# Reading the rule


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=WEEKLY;COUNT=2",
        "RRULE:FREQ=WEEKLY;COUNT=2",
        "rrule:freq=weekly;count=2",
        "  FREQ=WEEKLY; COUNT=2\n",
    ],
)
def test_rule_reads_with_or_without_the_rrule_prefix(rule):
    assert len(expand(rule, at(BERLIN, 2026, 6, 1, 9))) == 2


MONDAY = at(BERLIN, 2026, 3, 2, 14)


@pytest.mark.parametrize(
    ("rule", "message"),
    [
        pytest.param("", "cannot read the rule", id="empty"),
        pytest.param("WEEKLY", "is not a NAME=VALUE part", id="no-equals"),
        pytest.param("FREQ=WEEKLY;;COUNT=2", "is not a NAME=VALUE part", id="empty-part"),
        pytest.param(
            "DTSTART:20260302T140000\nRRULE:FREQ=WEEKLY;COUNT=2",
            "give one RRULE",
            id="icalendar-lines",
        ),
        pytest.param("COUNT=2", "has no FREQ", id="no-freq"),
        pytest.param("FREQ=WEEKLY;COUNT=2;COUNT=3", "gives COUNT twice", id="twice"),
        pytest.param("FREQ=YEARLY;COUNT=2", "FREQ=YEARLY is not supported", id="yearly"),
        pytest.param("FREQ=HOURLY;COUNT=2", "FREQ=HOURLY is not supported", id="hourly"),
        pytest.param("FREQ=FORTNIGHTLY;COUNT=2", "DAILY, WEEKLY or MONTHLY", id="made-up-freq"),
        pytest.param(
            "FREQ=MONTHLY;BYDAY=MO;BYSETPOS=1;COUNT=2", "BYSETPOS is not supported", id="bysetpos"
        ),
        pytest.param("FREQ=DAILY;BYHOUR=9,14;COUNT=2", "BYHOUR is not supported", id="byhour"),
        pytest.param("FREQ=DAILY;BYMINUTE=30;COUNT=2", "BYMINUTE is not supported", id="byminute"),
        pytest.param("FREQ=DAILY;BYSECOND=0;COUNT=2", "BYSECOND is not supported", id="bysecond"),
        pytest.param(
            "FREQ=DAILY;BYYEARDAY=61;COUNT=2", "BYYEARDAY is not supported", id="byyearday"
        ),
        pytest.param("FREQ=WEEKLY;BYWEEKNO=10;COUNT=2", "BYWEEKNO is not supported", id="byweekno"),
        pytest.param("FREQ=DAILY;BYEASTER=0;COUNT=2", "BYEASTER is not supported", id="byeaster"),
        pytest.param("FREQ=MONTHLY;BYMONTH=3;COUNT=2", "BYMONTH is not supported", id="bymonth"),
        pytest.param(
            "FREQ=WEEKLY;DTSTART=20260302T140000;COUNT=2",
            "DTSTART inside the rule is not supported",
            id="dtstart",
        ),
        pytest.param(
            "FREQ=WEEKLY;X-COLOUR=RED;COUNT=2", "unknown rule part 'X-COLOUR'", id="unknown"
        ),
        pytest.param("FREQ=WEEKLY", "neither COUNT nor UNTIL", id="endless"),
        pytest.param("FREQ=WEEKLY;COUNT=2;UNTIL=20261231", "both COUNT and UNTIL", id="both-ends"),
        pytest.param("FREQ=WEEKLY;COUNT=105", "COUNT=105 is more than the 104", id="count-too-big"),
        pytest.param("FREQ=WEEKLY;COUNT=0", "COUNT must be at least 1, got 0", id="count-zero"),
        pytest.param("FREQ=DAILY;UNTIL=20270101", "more than 104 occurrences", id="until-too-far"),
        pytest.param(
            "FREQ=WEEKLY;INTERVAL=0;COUNT=2", "INTERVAL must be at least 1, got 0", id="interval-0"
        ),
        pytest.param(
            "FREQ=WEEKLY;INTERVAL=-2;COUNT=2",
            "INTERVAL must be at least 1, got -2",
            id="interval-neg",
        ),
        pytest.param(
            "FREQ=WEEKLY;INTERVAL=two;COUNT=2",
            "INTERVAL must be a whole number",
            id="interval-word",
        ),
        pytest.param(
            "FREQ=WEEKLY;UNTIL=20260301",
            "UNTIL 2026-03-01 is before the first start",
            id="until-date-before",
        ),
        pytest.param(
            "FREQ=WEEKLY;UNTIL=20260302T125959Z",
            "UNTIL 2026-03-02 12:59:59 UTC is before the first start",
            id="until-utc-before",
        ),
        pytest.param("FREQ=WEEKLY;UNTIL=20260401T140000", "has no zone", id="until-floating"),
        pytest.param("FREQ=WEEKLY;UNTIL=20260231", "is not a real date", id="until-feb-31"),
        pytest.param("FREQ=WEEKLY;UNTIL=next-year", "is neither a date", id="until-word"),
        pytest.param(
            "FREQ=WEEKLY;BYDAY=TU;COUNT=2",
            "does not produce the first start, Monday 2026-03-02 14:00; "
            "its first would be Tuesday 2026-03-03 14:00",
            id="first-start-not-in-rule",
        ),
        pytest.param(
            "FREQ=MONTHLY;BYDAY=2MO;COUNT=2",
            "does not produce the first start",
            id="not-2nd-monday",
        ),
        pytest.param("FREQ=WEEKLY;BYDAY=1MO;COUNT=2", "needs FREQ=MONTHLY", id="numbered-weekly"),
        pytest.param(
            "FREQ=MONTHLY;BYDAY=6MO;COUNT=2", "at most five of each weekday", id="sixth-monday"
        ),
        pytest.param("FREQ=MONTHLY;BYDAY=MONDAY;COUNT=2", "is not a weekday", id="byday-word"),
        pytest.param(
            "FREQ=WEEKLY;BYMONTHDAY=2;COUNT=2",
            "cannot be used with FREQ=WEEKLY",
            id="monthday-weekly",
        ),
        pytest.param(
            "FREQ=MONTHLY;BYMONTHDAY=32;COUNT=2", "is not a day of the month", id="monthday-32"
        ),
        pytest.param("FREQ=WEEKLY;WKST=XX;COUNT=2", "WKST must be one of", id="wkst"),
    ],
)
def test_invalid_rule_is_refused_with_a_readable_message(rule, message):
    with pytest.raises(RecurrenceError) as caught:
        expand(rule, MONDAY)
    assert message in str(caught.value)


@pytest.mark.parametrize(
    ("first", "message"),
    [
        pytest.param(datetime(2026, 3, 2, 14), "zoneinfo.ZoneInfo", id="naive"),  # noqa: DTZ001
        pytest.param(datetime(2026, 3, 2, 14, tzinfo=UTC), "zoneinfo.ZoneInfo", id="fixed-offset"),
        pytest.param(at(BERLIN, 2026, 3, 2, 14, 0, 0, 500), "whole seconds", id="microseconds"),
        pytest.param(
            at(NEW_YORK, 2026, 3, 8, 2, 30),
            "Sunday 2026-03-08 02:30 does not exist in America/New_York",
            id="in-a-gap",
        ),
    ],
)
def test_invalid_first_start_is_refused(first, message):
    with pytest.raises(RecurrenceError, match=message):
        expand("FREQ=WEEKLY;COUNT=2", first)


def test_recurrence_error_is_a_value_error():
    with pytest.raises(ValueError, match="FREQ=YEARLY"):
        expand("FREQ=YEARLY;COUNT=2", MONDAY)


# The property: any series in the hard zones agrees with dateutil on the wall clock
# and with the zone arithmetic the slot finder uses.

HARD_ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",
    "Pacific/Chatham",
    "Asia/Kathmandu",
    "America/St_Johns",
    "America/Santiago",
    "America/Havana",
    "Africa/Casablanca",
]


def epoch(wall: datetime) -> int:
    """A wall time read as if it were UTC: near enough to size a zone window."""
    return int(wall.replace(tzinfo=UTC).timestamp())


def changes(zone: str) -> list[tuple[date, int]]:
    """Each offset change of 2025 to 2027: its local date and wall minute just before it."""
    start, end = (int(datetime(year, 1, 1, tzinfo=UTC).timestamp()) for year in (2025, 2028))
    window = ZoneWindow(ZoneInfo(zone), start, end)
    found = []
    for instant, offset in zip(window.starts[1:], window.offsets, strict=False):
        wall = datetime.fromtimestamp(instant + offset, UTC)
        found.append((wall.date(), wall.hour * 60 + wall.minute))
    return found or [(date(2026, 6, 1), 9 * 60)]


CHANGES = {zone: changes(zone) for zone in HARD_ZONES}
BYDAY_NAMES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


def months_before(day: date, months: int) -> tuple[int, int]:
    index = day.year * 12 + day.month - 1 - months
    return index // 12, index % 12 + 1


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date | None:
    """The ``nth`` ``weekday`` of the month (``-1`` the last), or ``None``."""
    length = calendar.monthrange(year, month)[1]
    if nth > 0:
        dom = 1 + (weekday - date(year, month, 1).weekday()) % 7 + 7 * (nth - 1)
    else:
        dom = length - (date(year, month, length).weekday() - weekday) % 7 + 7 * (nth + 1)
    return date(year, month, dom) if 1 <= dom <= length else None


@st.composite
def series_cases(draw):
    """A zone, a first start and a rule whose series runs over one of the zone's changes."""
    zone = draw(st.sampled_from(HARD_ZONES))
    target, change_minute = draw(st.sampled_from(CHANGES[zone]))
    interval = draw(st.integers(1, 3))
    kind = draw(st.sampled_from(["daily", "weekly", "monthly-nth", "monthly-last", "monthly-day"]))
    steps_before = draw(st.integers(0, 5))
    parts = [f"INTERVAL={interval}"]
    if kind == "daily":
        first_day = target - timedelta(days=interval * steps_before)
        parts.insert(0, "FREQ=DAILY")
    elif kind == "weekly":
        first_day = target - timedelta(weeks=interval * steps_before)
        others = draw(st.sets(st.sampled_from(BYDAY_NAMES)))
        days = sorted({BYDAY_NAMES[first_day.weekday()], *others}, key=BYDAY_NAMES.index)
        parts.insert(0, "FREQ=WEEKLY")
        if len(days) > 1 or draw(st.booleans()):
            parts.append("BYDAY=" + ",".join(days))
    else:
        year, month = months_before(target, interval * steps_before)
        if kind == "monthly-day":
            length = calendar.monthrange(year, month)[1]
            first_day = date(year, month, min(target.day, length))
            parts.append(f"BYMONTHDAY={first_day.day}")
        else:
            nth = -1 if kind == "monthly-last" else (target.day - 1) // 7 + 1
            first_day = nth_weekday(year, month, target.weekday(), nth) or target
            parts.append(f"BYDAY={nth}{BYDAY_NAMES[first_day.weekday()]}")
        parts.insert(0, "FREQ=MONTHLY")
    near_change = st.integers(-6, 6).map(lambda q: min(max(change_minute + q * 15, 0), 1439))
    minute = draw(st.one_of(near_change, st.integers(0, 1439)))
    wall = datetime.combine(first_day, time(minute // 60, minute % 60))
    if draw(st.booleans()):
        count = draw(st.integers(1, 30))
        end, oracle_end = f"COUNT={count}", f"COUNT={count}"
    else:
        until = first_day + timedelta(days=draw(st.integers(0, 400)))
        count = None
        end, oracle_end = f"UNTIL={until:%Y%m%d}", f"UNTIL={until:%Y%m%d}T235959"
    rule = ";".join([*parts, end])
    oracle_rule = ";".join([*parts, oracle_end])
    fold = draw(st.integers(0, 1))
    return ZoneInfo(zone), wall, fold, rule, oracle_rule, count


@settings(max_examples=200, deadline=None)
@given(series_cases())
def test_series_keeps_its_wall_time_and_agrees_with_dateutil_and_the_zone(case):
    zone, wall, fold, rule, oracle_rule, count = case
    expected = list(rrulestr(oracle_rule, dtstart=wall))
    window = ZoneWindow(zone, epoch(expected[0]) - 2 * DAY, epoch(expected[-1]) + 2 * DAY)

    def instants(moment: datetime) -> list[int]:
        seconds = moment.hour * 3600 + moment.minute * 60
        return window.instants_of(local_seconds(moment.date(), seconds))

    first = wall.replace(tzinfo=zone, fold=fold)
    if not instants(wall):
        with pytest.raises(RecurrenceError, match="does not exist"):
            expand(rule, first, max_occurrences=500)
        return
    series = expand(rule, first, max_occurrences=500)

    assert [o.wall for o in series] == expected
    if count is not None:
        assert len(series) == count
    assert series[0].start is first
    assert all(o.wall.time() == wall.time() for o in series)
    assert all(a.wall < b.wall for a, b in pairwise(series))
    starts = [o.start.timestamp() for o in series if o.start is not None]
    assert starts == sorted(set(starts))
    for o in series[1:]:
        found = instants(o.wall)
        if not found:
            assert (o.bookable, o.start, o.reason) == (False, None, SKIPPED)
        else:
            assert o.bookable
            assert o.start.replace(tzinfo=None) == o.wall
            assert o.start.timestamp() == min(found)  # the first pass of a repeated time
