"""/api/v1/me/bookings: a signed-in customer's bookings, across organizations, theirs only."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.test import Client

from slotwise.bookings.models import BookingStatus

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
TEN = datetime(2026, 6, 1, 9, tzinfo=UTC)
MINE = "/api/v1/me/bookings"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def book(make_org, make_resource, make_service, make_booking):
    def make(email, starts_at=TEN, org=None):
        org = org or make_org()
        booking = make_booking(make_service(org), [make_resource(org)], starts_at)
        booking.customer_email = email
        booking.customer_time_zone = "Asia/Tokyo"
        booking.save()
        return booking

    return make


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_a_customer_sees_their_bookings_in_every_organization(make_member, book):
    ada = make_member(email="ada@example.com")
    first = book("ada@example.com")
    second = book("ADA@example.com", TEN + timedelta(days=1))  # booked as a guest, any case
    book("bob@example.com")
    listed = signed_in(ada).get(MINE).json()
    assert [b["id"] for b in listed] == [first.pk, second.pk]
    assert listed[0]["organization"] == first.organization.name
    assert listed[0]["start"] == "2026-06-01T18:00:00+09:00"


def test_only_verified_addresses_count(make_member, book):
    ada = make_member(email="ada@example.com")
    EmailAddress.objects.create(user=ada, email="claimed@example.com", verified=False)
    book("claimed@example.com")
    assert signed_in(ada).get(MINE).json() == []


def test_past_bookings_are_listed_apart_newest_first(make_member, book):
    ada = make_member(email="ada@example.com")
    old = book("ada@example.com", NOW - timedelta(days=3))
    older = book("ada@example.com", NOW - timedelta(days=9))
    upcoming = book("ada@example.com")
    client = signed_in(ada)
    assert [b["id"] for b in client.get(MINE).json()] == [upcoming.pk]
    assert [b["id"] for b in client.get(f"{MINE}?past=true").json()] == [old.pk, older.pk]


def test_a_customer_cancels_their_own_booking_and_nobody_elses(make_member, book):
    ada = make_member(email="ada@example.com")
    mine, theirs = book("ada@example.com"), book("bob@example.com")
    client = signed_in(ada)
    other = client.post(f"{MINE}/{theirs.pk}/cancel", {}, content_type="application/json")
    assert other.status_code == 404
    done = client.post(
        f"{MINE}/{mine.pk}/cancel", {"reason": "ill"}, content_type="application/json"
    )
    assert (done.status_code, done.json()["status"]) == (200, BookingStatus.CANCELLED)
    again = client.post(f"{MINE}/{mine.pk}/cancel", {}, content_type="application/json")
    assert again.status_code == 409
    theirs.refresh_from_db()
    assert theirs.status == BookingStatus.CONFIRMED


def test_signed_out_is_401_and_a_session_needs_its_csrf_token(make_member, book):
    assert Client().get(MINE).status_code == 401
    ada = make_member(email="ada@example.com")
    mine = book("ada@example.com")
    client = Client(enforce_csrf_checks=True)
    client.force_login(ada)
    refused = client.post(f"{MINE}/{mine.pk}/cancel", {}, content_type="application/json")
    assert refused.status_code == 403
