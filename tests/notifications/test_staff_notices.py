"""Members hear of new, cancelled and moved bookings of their own resources, or of all."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from slotwise.accounts.models import Membership
from slotwise.accounts.permissions import Role
from slotwise.bookings import services
from slotwise.bookings.models import CancelledBy
from slotwise.notifications import dispatch
from slotwise.notifications.models import Message, MessageKind

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
TEN = datetime(2026, 6, 1, 14, tzinfo=UTC)  # Monday, 10:00 in New York
ADA = services.Customer(name="Ada", email="ada@example.com", time_zone="Asia/Tokyo")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def team(make_org, make_member, make_resource, make_service):
    org = make_org(time_zone="Europe/London")
    ann = make_member(org, Role.STAFF, email="ann@example.com")
    bob = make_member(org, Role.STAFF, email="bob@example.com")
    owner = make_member(org, Role.OWNER, mfa=True, email="owner@example.com")
    anns = make_resource(org, name="Ann", user=ann, time_zone="America/New_York")
    make_resource(org, name="Bob", user=bob)
    service = make_service(org, needs=[("person", [anns])])
    return org, ann, bob, owner, service


def notices(kind):
    return sorted(Message.objects.filter(kind=kind).values_list("recipient", flat=True))


def test_the_provider_hears_of_a_new_booking_in_their_own_zone(team, smtp_server):
    _, _, _, _, service = team
    services.book(service, start=TEN, customer=ADA, now=NOW)
    assert notices(MessageKind.STAFF_NEW) == ["ann@example.com"]
    dispatch.deliver_due(NOW)
    [notice] = [m for m in smtp_server.inbox.received if m["To"] == "ann@example.com"]
    # 14:00 UTC is 10:00 in New York, where Ann's resource is.
    assert notice["Subject"].startswith("New booking: ")
    assert "Mon 1 Jun, 10:00 (America/New_York), Ada" in notice["Subject"]
    assert "ada@example.com" in notice.as_string()


def test_an_owner_who_asks_for_everything_hears_of_everything(team):
    _, _, _, owner, service = team
    Membership.objects.filter(user=owner).update(notify_all_bookings=True)
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    services.reschedule(booking, start=TEN + timedelta(hours=4), now=NOW)
    services.cancel(booking, by=CancelledBy.CUSTOMER, now=NOW, reason="Ill")
    for kind in (MessageKind.STAFF_NEW, MessageKind.STAFF_RESCHEDULED, MessageKind.STAFF_CANCELLED):
        assert notices(kind) == ["ann@example.com", "owner@example.com"]
    cancelled = Message.objects.get(kind=MessageKind.STAFF_CANCELLED, recipient="ann@example.com")
    assert cancelled.context["resources"] == ["Ann"]
    assert cancelled.context["reason"] == "Ill"


def test_a_provider_can_switch_their_notices_off(team):
    _, ann, _, _, service = team
    client = Client()
    client.force_login(ann)
    url = "/api/v1/staff/members/me/notifications"
    assert client.get(url).json() == {
        "notify_own_bookings": True,
        "notify_all_bookings": False,
        "daily_agenda": False,
    }
    switched = client.patch(url, {"notify_own_bookings": False}, content_type="application/json")
    assert switched.json()["notify_own_bookings"] is False
    services.book(service, start=TEN, customer=ADA, now=NOW)
    assert notices(MessageKind.STAFF_NEW) == []


def test_a_hold_is_news_only_once_confirmed(team):
    _, _, _, _, service = team
    held, _ = services.book(service, start=TEN, customer=ADA, now=NOW, hold=True)
    assert notices(MessageKind.STAFF_NEW) == []
    services.confirm_hold(held, now=NOW)
    assert notices(MessageKind.STAFF_NEW) == ["ann@example.com"]


def test_a_hold_given_up_is_no_news(team):
    _, _, _, _, service = team
    held, _ = services.book(service, start=TEN, customer=ADA, now=NOW, hold=True)
    services.cancel(held, by=CancelledBy.CUSTOMER, now=NOW)
    assert notices(MessageKind.STAFF_CANCELLED) == []


def test_api_keys_have_no_notices_of_their_own(team):
    from slotwise.organizations.services import issue_api_key

    org, *_ = team
    _, key = issue_api_key(org, "Reports")
    response = Client().get(
        "/api/v1/staff/members/me/notifications", headers={"Authorization": f"Bearer {key}"}
    )
    assert response.status_code == 404
