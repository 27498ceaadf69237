"""The invariants the database holds for catalog rows, and the ones validation adds."""

from datetime import date, time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

from slotwise.catalog.models import (
    Closure,
    DateOverride,
    DateOverrideHours,
    Resource,
    Schedule,
    Service,
    ServiceRequirement,
    WeeklyRule,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(make_org):
    return make_org()


@pytest.fixture
def schedule(org):
    return Schedule.objects.create(organization=org, name="Hours")


def refused(create):
    with pytest.raises(IntegrityError), transaction.atomic():
        create()


@pytest.mark.parametrize(
    ("weekday", "start", "end"),
    [
        (7, time(9), time(17)),
        (0, time(17), time(9)),
        (0, time(9), time(9)),
    ],
    ids=["weekday-7", "end-before-start", "empty"],
)
def test_weekly_rule_constraints(schedule, weekday, start, end):
    refused(
        lambda: WeeklyRule.objects.create(schedule=schedule, weekday=weekday, start=start, end=end)
    )


@pytest.mark.parametrize(
    ("start", "end"), [(time(22), time(0)), (time(0), time(0))], ids=["to-midnight", "all-day"]
)
def test_weekly_rule_end_of_midnight_means_end_of_day(schedule, start, end):
    WeeklyRule.objects.create(schedule=schedule, weekday=6, start=start, end=end)


def test_weekly_rule_validity_must_not_end_before_it_starts(schedule):
    refused(
        lambda: WeeklyRule.objects.create(
            schedule=schedule,
            weekday=0,
            start=time(9),
            end=time(17),
            valid_from=date(2026, 6, 1),
            valid_until=date(2026, 5, 31),
        )
    )


def test_date_override_hours_must_end_after_start(schedule):
    override = DateOverride.objects.create(schedule=schedule, date=date(2026, 6, 1))
    refused(
        lambda: DateOverrideHours.objects.create(override=override, start=time(12), end=time(10))
    )


def test_one_override_per_date(schedule):
    DateOverride.objects.create(schedule=schedule, date=date(2026, 6, 1))
    refused(lambda: DateOverride.objects.create(schedule=schedule, date=date(2026, 6, 1)))


def test_closure_must_not_end_before_it_starts(schedule):
    refused(
        lambda: Closure.objects.create(
            schedule=schedule, first=date(2026, 6, 2), last=date(2026, 6, 1)
        )
    )


def test_subdivision_needs_a_country(org):
    refused(lambda: Schedule.objects.create(organization=org, name="x", holiday_subdivision="ENG"))


@pytest.mark.parametrize(("country", "subdivision"), [("ZZ", ""), ("GB", "XX")])
def test_validation_refuses_unknown_holiday_calendars(org, country, subdivision):
    schedule = Schedule(
        organization=org, name="x", holiday_country=country, holiday_subdivision=subdivision
    )
    with pytest.raises(ValidationError, match="holiday calendar"):
        schedule.full_clean()


def test_validation_accepts_a_known_holiday_calendar(org):
    Schedule(
        organization=org, name="x", holiday_country="GB", holiday_subdivision="ENG"
    ).full_clean()


@pytest.mark.parametrize(
    "fields",
    [{"capacity": 0}, {"kind": "robot"}, {"time_zone": ""}],
    ids=["capacity-0", "unknown-kind", "no-zone"],
)
def test_resource_constraints(org, fields):
    defaults = {"name": "Ann", "kind": "person", "time_zone": "Europe/London"}
    refused(lambda: Resource.objects.create(organization=org, **{**defaults, **fields}))


def test_resource_validation_refuses_another_organizations_schedule(org, make_org, schedule):
    resource = Resource(
        organization=make_org(), name="Ann", kind="person", time_zone="UTC", schedule=schedule
    )
    with pytest.raises(ValidationError, match="another organization"):
        resource.full_clean()


def test_resource_validation_refuses_unknown_zone(org):
    resource = Resource(organization=org, name="Ann", kind="person", time_zone="Europe/Paris ")
    with pytest.raises(ValidationError, match="not an IANA time zone"):
        resource.full_clean()


def test_a_schedule_in_use_cannot_be_deleted(org, make_resource, schedule):
    make_resource(org, schedule=schedule)
    with pytest.raises(ProtectedError):
        schedule.delete()


@pytest.mark.parametrize(
    "fields",
    [{"seats_per_slot": 0}, {"step_minutes": 0}, {"price_minor": -1}, {"currency": "EU"}],
    ids=["seats-0", "step-0", "negative-price", "short-currency"],
)
def test_service_constraints(org, fields):
    defaults = {"name": "Cut", "slug": "cut", "durations": [30], "currency": "GBP"}
    refused(lambda: Service.objects.create(organization=org, **{**defaults, **fields}))


def test_service_slugs_are_unique_per_organization(org, make_org, make_service):
    make_service(org, slug="cut")
    make_service(make_org(), slug="cut")
    refused(lambda: make_service(org, slug="cut"))


@pytest.mark.parametrize(
    "durations",
    [[], [0], [30, 30], ["30"], [True], 30, [30.5]],
    ids=["empty", "zero", "repeated", "string", "bool", "not-a-list", "fraction"],
)
def test_service_validation_refuses_bad_durations(org, durations):
    service = Service(organization=org, name="Cut", slug="cut", durations=durations, currency="GBP")
    with pytest.raises(ValidationError) as caught:
        service.full_clean()
    assert "durations" in caught.value.message_dict


def test_service_default_duration_is_the_first(org, make_service):
    assert make_service(org, durations=[90, 60]).default_duration == 90


def test_requirements_have_distinct_orderings(org, make_service):
    service = make_service(org)  # ordering 0: a person
    refused(lambda: ServiceRequirement.objects.create(service=service, kind="room", ordering=0))
