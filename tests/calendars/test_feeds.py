"""Calendar feeds out of slotwise: a resource's bookings, a customer's, one booking."""

from datetime import UTC, datetime

import icalendar
import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.test import Client

from slotwise.accounts.permissions import Role
from slotwise.bookings import services
from slotwise.organizations.tenancy import tenant

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
START = datetime(2026, 6, 1, 9, tzinfo=UTC)
ADA = services.Customer(name="Ada", email="ada@example.com", time_zone="Europe/Paris")


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def org(make_org):
    return make_org(name="Harbour & Pine")


@pytest.fixture
def ann(org, make_resource):
    return make_resource(org, name="Ann")


@pytest.fixture
def booked(org, ann, make_service):
    service = make_service(org, name="Portrait")
    with tenant(org):
        booking, token = services.book(service, start=START, customer=ADA, now=NOW)
        services.book(
            service, start=START.replace(hour=10), customer=ADA, now=NOW, hold=True
        )  # a hold is in the resource's feed (it occupies the time) but not the customer's
    return booking, token


def events(response):
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    calendar = icalendar.Calendar.from_ical(response.content)
    return sorted(
        (str(e["UID"]), e["DTSTART"].dt, str(e["SUMMARY"])) for e in calendar.walk("VEVENT")
    )


def staff(org, make_member):
    client = Client()
    client.force_login(make_member(org, Role.OWNER, mfa=True))
    return client


def test_a_resource_feed_lists_its_bookings_behind_a_secret_that_rotates(
    org, ann, booked, make_member
):
    client = staff(org, make_member)
    first = client.post(f"/api/v1/staff/resources/{ann.pk}/feed").json()["url"]
    path = first.removeprefix("http://127.0.0.1:8000")

    listed = events(Client().get(path))

    booking, _ = booked
    assert listed[0] == (f"slotwise-booking-{booking.pk}@slotwise", START, "Portrait: Ada")
    assert len(listed) == 2
    second = client.post(f"/api/v1/staff/resources/{ann.pk}/feed").json()["url"]
    assert second != first
    assert Client().get(path).status_code == 404
    assert Client().get("/calendars/resource/not-a-token.ics").status_code == 404


def test_a_customer_subscribes_to_their_own_bookings(booked, make_member):
    user = make_member(email="someone@example.com")
    EmailAddress.objects.create(user=user, email="ADA@example.com", verified=True)
    client = Client()
    client.force_login(user)

    url = client.post("/api/v1/me/calendar-feed").json()["url"]
    listed = events(Client().get(url.removeprefix("http://127.0.0.1:8000")))

    booking, _ = booked
    assert listed == [
        (f"slotwise-booking-{booking.pk}@slotwise", START, "Portrait, Harbour & Pine")
    ]


def test_one_booking_downloads_as_a_calendar_file(client, booked):
    booking, token = booked

    listed = events(client.get(f"/api/v1/bookings/manage/{token}/calendar.ics"))

    assert listed == [
        (f"slotwise-booking-{booking.pk}@slotwise", START, "Portrait, Harbour & Pine")
    ]
