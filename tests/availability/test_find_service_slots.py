"""find_service_slots: the catalog, bookings and busy times as the core sees them.

The provider works Monday to Friday, 09:00 to 12:00 and 13:00 to 17:00 in
London (UTC+1 in June); 1 June 2026 is a Monday. Slots are asked for in
London time unless a test is about zones.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotwise.availability.services import (
    DurationNotOffered,
    InvalidDateRange,
    InvalidSeats,
    InvalidTimeZone,
    RangeTooLong,
    ServiceNotFound,
    customer_zone,
    find_service_slots,
    get_bookable_service,
)
from slotwise.bookings.models import BookingStatus
from slotwise.catalog.models import ResourceKind

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2026, 6, 1)
NOW = datetime(2026, 5, 1, tzinfo=UTC)
FULL_DAY = ["09:00", "10:00", "11:00", "13:00", "14:00", "15:00", "16:00"]


def london(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), LONDON)


def slots(service, first=MONDAY, last=None, zone=LONDON, **kwargs):
    """Local start times per date, for reading; ``first`` alone asks for one date."""
    days = find_service_slots(
        service, first=first, last=last or first, zone=zone, now=kwargs.pop("now", NOW), **kwargs
    )
    return {day.date: [slot.start.strftime("%H:%M") for slot in day.slots] for day in days}


def remaining(service, day=MONDAY, **kwargs):
    (found,) = find_service_slots(service, first=day, last=day, zone=LONDON, now=NOW, **kwargs)
    return {slot.start.strftime("%H:%M"): slot.remaining for slot in found.slots}


@pytest.fixture
def org(make_org):
    return make_org()


@pytest.fixture
def ann(org, make_resource):
    return make_resource(org, name="Ann")


@pytest.fixture
def service(org, ann, make_service):
    return make_service(org)


def test_weekly_hours_with_a_lunch_break(service):
    assert slots(service) == {MONDAY: FULL_DAY}


def test_every_date_is_listed_even_without_slots(service):
    saturday, sunday = MONDAY + timedelta(days=5), MONDAY + timedelta(days=6)
    assert slots(service, MONDAY, sunday)[saturday] == []
    assert list(slots(service, MONDAY, sunday)) == [MONDAY + timedelta(days=n) for n in range(7)]


def test_an_override_replaces_the_days_hours(service, ann, make_override):
    make_override(ann.schedule, MONDAY, [(time(10), time(12))])
    assert slots(service) == {MONDAY: ["10:00", "11:00"]}


def test_an_override_without_hours_closes_the_day(service, ann, make_override):
    make_override(ann.schedule, MONDAY)
    assert slots(service) == {MONDAY: []}


def test_a_closure_closes_its_days(service, ann, make_closure):
    make_closure(ann.schedule, MONDAY - timedelta(days=3), MONDAY, "Refurbishment")
    assert slots(service, MONDAY, MONDAY + timedelta(days=1)) == {
        MONDAY: [],
        MONDAY + timedelta(days=1): FULL_DAY,
    }


def test_public_holidays_close_a_schedule_with_a_holiday_calendar(service, ann):
    spring_bank_holiday = date(2026, 5, 25)
    assert slots(service, spring_bank_holiday) == {spring_bank_holiday: FULL_DAY}
    ann.schedule.holiday_country, ann.schedule.holiday_subdivision = "GB", "ENG"
    ann.schedule.save()
    assert slots(service, spring_bank_holiday) == {spring_bank_holiday: []}


def test_an_override_opens_a_public_holiday(service, ann, make_override):
    ann.schedule.holiday_country = "GB"
    ann.schedule.save()
    make_override(ann.schedule, date(2026, 5, 25), [(time(10), time(11))])
    assert slots(service, date(2026, 5, 25)) == {date(2026, 5, 25): ["10:00"]}


def test_bookings_block_their_time_and_cancelled_ones_do_not(service, ann, make_booking):
    make_booking(service, [ann], london(MONDAY, 10))
    make_booking(service, [ann], london(MONDAY, 14), status=BookingStatus.CANCELLED)
    make_booking(service, [ann], london(MONDAY, 15), status=BookingStatus.HELD)
    assert slots(service) == {MONDAY: ["09:00", "11:00", "13:00", "14:00", "16:00"]}


def test_a_hold_blocks_until_it_expires(service, ann, make_booking):
    make_booking(service, [ann], london(MONDAY, 10), status=BookingStatus.HELD,
                 expires_at=NOW + timedelta(minutes=10))  # fmt: skip
    assert "10:00" not in slots(service)[MONDAY]
    assert "10:00" in slots(service, now=NOW + timedelta(minutes=10))[MONDAY]


def test_a_bookings_buffers_block_too(org, ann, service, make_service, make_booking):
    tidy = make_service(org, buffer_after_minutes=30)
    make_booking(tidy, [ann], london(MONDAY, 9))  # blocks 09:00 to 10:30
    assert slots(service)[MONDAY][:3] == ["11:00", "13:00", "14:00"]


def test_external_busy_blocks_the_whole_resource(org, make_resource, make_service, make_busy):
    table = make_resource(org, kind=ResourceKind.TABLE, capacity=4)
    service = make_service(org, needs=[(ResourceKind.TABLE, None)])
    make_busy(table, london(MONDAY, 13, 30), london(MONDAY, 14))
    assert slots(service)[MONDAY] == ["09:00", "10:00", "11:00", "14:00", "15:00", "16:00"]


def test_slots_are_shown_in_the_customers_zone(service):
    (day,) = find_service_slots(
        service, first=MONDAY, last=MONDAY, zone=ZoneInfo("America/New_York"), now=NOW
    )
    first = day.slots[0]
    assert (first.start_iso(), first.end_iso()) == (
        "2026-06-01T04:00:00-04:00",
        "2026-06-01T05:00:00-04:00",
    )
    assert (first.start_utc_iso(), first.end_utc_iso()) == (
        "2026-06-01T08:00:00Z",
        "2026-06-01T09:00:00Z",
    )


def test_a_pool_of_two_people_offers_a_slot_while_one_is_free(
    org, ann, make_resource, service, make_booking
):
    bob = make_resource(org, name="Bob")
    make_booking(service, [ann], london(MONDAY, 10))
    make_booking(service, [ann], london(MONDAY, 11))
    make_booking(service, [bob], london(MONDAY, 11))
    offered = remaining(service)
    assert offered["09:00"] == 2
    assert offered["10:00"] == 1
    assert "11:00" not in offered


def test_an_explicit_pool_uses_only_its_members(
    org, ann, make_resource, make_service, make_booking
):
    bob = make_resource(org, name="Bob")
    only_bob = make_service(org, needs=[(ResourceKind.PERSON, [bob])])
    make_booking(only_bob, [bob], london(MONDAY, 10))
    assert "10:00" not in slots(only_bob)[MONDAY]
    assert remaining(only_bob)["09:00"] == 1


def test_inactive_and_unscheduled_resources_take_no_part(org, ann, make_resource, service):
    make_resource(org, name="No hours", schedule=None)
    make_resource(org, name="Gone", active=False)
    assert remaining(service)["09:00"] == 1
    ann.active = False
    ann.save()
    assert slots(service) == {MONDAY: []}


def test_resources_of_other_organizations_take_no_part(org, ann, make_org, make_resource, service):
    make_resource(make_org(), name="Elsewhere")
    assert remaining(service)["09:00"] == 1


def test_a_pool_member_of_the_wrong_kind_takes_no_part(org, ann, make_resource, make_service):
    room = make_resource(org, name="Room", kind=ResourceKind.ROOM)
    misfiled = make_service(org, needs=[(ResourceKind.PERSON, [room])])
    assert slots(misfiled) == {MONDAY: []}


def test_a_service_without_requirements_has_no_slots(org, make_service):
    assert slots(make_service(org, needs=[])) == {MONDAY: []}


def test_person_and_room_must_both_be_free(
    org, ann, make_resource, make_schedule, make_service, make_booking
):
    # The room keeps the same office hours in Berlin, an hour ahead: in London
    # time it is open 08:00 to 11:00 and 12:00 to 16:00.
    room = make_resource(
        org, kind=ResourceKind.ROOM, time_zone="Europe/Berlin", schedule=make_schedule(org)
    )
    session = make_service(org, needs=[(ResourceKind.PERSON, None), (ResourceKind.ROOM, [room])])
    make_booking(session, [room], london(MONDAY, 14))
    assert slots(session)[MONDAY] == ["09:00", "10:00", "13:00", "15:00"]


def test_group_sessions_sell_seats(org, make_resource, make_service, make_booking):
    room = make_resource(org, kind=ResourceKind.ROOM)
    workshop = make_service(org, needs=[(ResourceKind.ROOM, None)], seats_per_slot=5)
    make_booking(workshop, [room], london(MONDAY, 10), seats=2)
    make_booking(workshop, [room], london(MONDAY, 10), seats=1)
    offered = remaining(workshop)
    assert offered["09:00"] == 5
    assert offered["10:00"] == 2
    assert remaining(workshop, seats=3).get("10:00") is None


def test_other_services_bookings_block_but_do_not_count_toward_limits(
    org, ann, service, make_service, make_booking
):
    limited = make_service(org, max_bookings_per_day=1)
    make_booking(service, [ann], london(MONDAY, 9))
    assert slots(limited)[MONDAY] == FULL_DAY[1:]
    make_booking(limited, [ann], london(MONDAY, 16))
    assert slots(limited)[MONDAY] == []


def test_weekly_limits_see_bookings_from_earlier_in_the_week(org, ann, make_service, make_booking):
    limited = make_service(org, max_bookings_per_week=1)
    make_booking(limited, [ann], london(MONDAY, 9))
    thursday = MONDAY + timedelta(days=3)
    assert slots(limited, thursday) == {thursday: []}
    assert slots(limited, thursday + timedelta(days=4))[thursday + timedelta(days=4)] == FULL_DAY


def test_minimum_notice_counts_from_now(org, ann, make_service):
    prompt = make_service(org, min_notice_minutes=60)
    assert slots(prompt, now=london(MONDAY, 9, 45))[MONDAY] == FULL_DAY[2:]


def test_other_durations_of_the_service(org, ann, make_service):
    long_or_short = make_service(org, durations=[60, 90], step_minutes=30)
    assert slots(long_or_short, duration_minutes=90)[MONDAY] == [
        "09:00", "09:30", "10:00", "10:30", "13:00", "13:30", "14:00", "14:30", "15:00", "15:30",
    ]  # fmt: skip
    with pytest.raises(DurationNotOffered, match="60, 90 minutes, not 45"):
        slots(long_or_short, duration_minutes=45)


def test_a_fixed_number_of_queries_whatever_the_range_and_bookings(
    org, ann, make_resource, make_service, make_booking, make_busy, make_override,
    make_closure, django_assert_num_queries,
):  # fmt: skip
    room = make_resource(org, kind=ResourceKind.ROOM)
    session = make_service(
        org, needs=[(ResourceKind.PERSON, [ann]), (ResourceKind.ROOM, None)], seats_per_slot=2
    )

    def query(days):
        return find_service_slots(
            session, first=MONDAY, last=MONDAY + timedelta(days=days - 1), zone=LONDON, now=NOW
        )

    with django_assert_num_queries(3):
        query(1)
    for n in range(40):
        day = MONDAY + timedelta(days=n)
        make_booking(session, [ann, room], london(day, 9))
        make_busy(ann, london(day, 13), london(day, 14))
        make_override(room.schedule, day, [(time(9), time(12))])
    make_closure(ann.schedule, MONDAY + timedelta(days=50), MONDAY + timedelta(days=52))
    with django_assert_num_queries(3):
        days = query(93)
    assert [s.start.strftime("%H:%M") for s in days[0].slots] == ["09:00", "10:00", "11:00"]
    assert days[0].slots[0].remaining == 1


@pytest.mark.parametrize(
    ("first", "last", "error"),
    [
        (date(2026, 6, 2), date(2026, 6, 1), InvalidDateRange),
        (date(2026, 6, 1), date(2026, 6, 1) + timedelta(days=93), RangeTooLong),
        (date(1, 1, 1), date(1, 1, 2), InvalidDateRange),
        (date(9999, 12, 30), date(9999, 12, 31), InvalidDateRange),
    ],
    ids=["end-before-start", "94-days", "year-1", "year-9999"],
)
def test_refused_ranges(service, first, last, error):
    with pytest.raises(error):
        find_service_slots(service, first=first, last=last, zone=LONDON, now=NOW)


def test_93_days_are_allowed(service):
    days = find_service_slots(
        service, first=MONDAY, last=MONDAY + timedelta(days=92), zone=LONDON, now=NOW
    )
    assert len(days) == 93


def test_at_least_one_seat(service):
    with pytest.raises(InvalidSeats):
        slots(service, seats=0)


def test_customer_zone_refuses_paths_and_made_up_names():
    assert customer_zone("Asia/Tokyo") == ZoneInfo("Asia/Tokyo")
    for name in ("../../etc/passwd", "Mars/Olympus_Mons", ""):
        with pytest.raises(InvalidTimeZone):
            customer_zone(name)


def test_inactive_and_unknown_services_are_not_found(service):
    assert get_bookable_service(service.pk) == service
    with pytest.raises(ServiceNotFound):
        get_bookable_service(service.pk + 1000)
    service.active = False
    service.save()
    with pytest.raises(ServiceNotFound):
        get_bookable_service(service.pk)
