from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotwise import scheduling
from slotwise.catalog.models import Closure, DateOverride, DateOverrideHours, WeeklyRule
from slotwise.catalog.services import ScheduleHours, load_hours, service_rules

pytestmark = pytest.mark.django_db


def test_service_rules_carry_every_setting(make_org, make_service):
    service = make_service(
        make_org(),
        durations=[60, 90],
        step_minutes=15,
        buffer_before_minutes=5,
        buffer_after_minutes=10,
        min_notice_minutes=120,
        horizon_days=30,
        seats_per_slot=6,
        max_bookings_per_day=3,
        max_minutes_per_day=240,
        max_bookings_per_week=10,
        max_minutes_per_week=600,
    )
    assert service_rules(service, 90) == scheduling.ServiceRules(
        duration=timedelta(minutes=90),
        step=timedelta(minutes=15),
        buffer_before=timedelta(minutes=5),
        buffer_after=timedelta(minutes=10),
        min_notice=timedelta(hours=2),
        horizon=timedelta(days=30),
        seats_per_slot=6,
        limits=scheduling.Limits(3, 240, 10, 600),
    )


def test_service_rules_leave_unset_settings_open(make_org, make_service):
    rules = service_rules(make_service(make_org()), 60)
    assert rules.step is None
    assert rules.horizon is None
    assert rules.seats_per_slot is None
    assert not rules.limits.any


def test_load_hours_reads_only_rows_near_the_dates(make_org, make_schedule):
    schedule = make_schedule(
        make_org(), hours=[(time(9), time(17))], weekdays=[0], holiday_country="GB"
    )
    WeeklyRule.objects.create(
        schedule=schedule,
        weekday=1,
        start=time(8),
        end=time(0),
        valid_until=date(2026, 1, 31),  # long over by June
    )
    override = DateOverride.objects.create(schedule=schedule, date=date(2026, 6, 2))
    DateOverrideHours.objects.create(override=override, start=time(13), end=time(15))
    DateOverrideHours.objects.create(override=override, start=time(10), end=time(12))
    DateOverride.objects.create(schedule=schedule, date=date(2026, 6, 3))  # closed
    DateOverride.objects.create(schedule=schedule, date=date(2026, 9, 1))  # far away
    Closure.objects.create(schedule=schedule, first=date(2026, 5, 30), last=date(2026, 6, 1))
    Closure.objects.create(schedule=schedule, first=date(2026, 1, 1), last=date(2026, 1, 2))

    hours = load_hours({schedule.pk: ("GB", "")}, date(2026, 6, 1), date(2026, 6, 3))[schedule.pk]

    assert hours.weekly == (scheduling.WeeklyRule(0, time(9), time(17)),)
    assert hours.overrides == (
        scheduling.DateOverride(date(2026, 6, 2), ((time(10), time(12)), (time(13), time(15)))),
        scheduling.DateOverride(date(2026, 6, 3), ()),
    )
    assert hours.closures == (scheduling.Closure(date(2026, 5, 30), date(2026, 6, 1)),)
    assert hours.holidays == scheduling.HolidayCalendar("GB")
    schedule_in_tokyo = hours.in_zone(ZoneInfo("Asia/Tokyo"))
    assert schedule_in_tokyo.zone == ZoneInfo("Asia/Tokyo")
    assert schedule_in_tokyo.hours_on(date(2026, 6, 2)) == [(36000, 43200), (46800, 54000)]


def test_load_hours_of_a_schedule_without_rows_is_empty(make_org, make_schedule):
    schedule = make_schedule(make_org(), hours=[])
    hours = load_hours({schedule.pk: ("", "")}, date(2026, 6, 1), date(2026, 6, 3))
    assert hours == {schedule.pk: ScheduleHours()}
