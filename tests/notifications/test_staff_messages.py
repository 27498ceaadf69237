"""Staff see a booking's messages with their delivery, and resend one."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from slotwise.accounts.permissions import Role
from slotwise.bookings import services
from slotwise.notifications import dispatch
from slotwise.notifications.models import Message, MessageKind, MessageStatus

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
TEN = datetime(2026, 6, 1, 9, tzinfo=UTC)
ADA = services.Customer(name="Ada", email="ada@example.com", time_zone="Asia/Tokyo")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def org(make_org):
    return make_org()


@pytest.fixture
def bookings(org, make_resource, make_service, make_member):
    """Ann's booking and Bob's; Ann is a staff member."""
    ann_user = make_member(org, Role.STAFF)
    ann = make_resource(org, name="Ann", user=ann_user)
    bob = make_resource(org, name="Bob")
    anns, _ = services.book(
        make_service(org, needs=[("person", [ann])]), start=TEN, customer=ADA, now=NOW
    )
    bobs, _ = services.book(
        make_service(org, needs=[("person", [bob])]), start=TEN, customer=ADA, now=NOW
    )
    return ann_user, anns, bobs


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def test_staff_see_each_message_and_how_it_went(org, make_member, bookings, smtp_server):
    _, anns, _ = bookings
    smtp_server.inbox.refuse = True
    dispatch.deliver_due(NOW)
    client = signed_in(make_member(org, Role.VIEWER))
    listed = client.get(f"/api/v1/staff/bookings/{anns.pk}/messages").json()
    assert [(m["kind"], m["status"], m["attempts"]) for m in listed] == [
        ("confirmation", "pending", 1),
        ("staff_new", "pending", 1),  # to Ann, whose resource it is
        ("reminder", "pending", 0),
        ("reminder", "pending", 0),
    ]
    assert "451" in listed[0]["last_error"]
    assert [m["recipient"] for m in listed[:2]] == ["ada@example.com", bookings[0].email]


def test_a_staff_member_sees_only_their_own_bookings_messages(bookings):
    ann_user, anns, bobs = bookings
    client = signed_in(ann_user)
    assert client.get(f"/api/v1/staff/bookings/{anns.pk}/messages").status_code == 200
    assert client.get(f"/api/v1/staff/bookings/{bobs.pk}/messages").status_code == 404
    bobs_message = Message.objects.filter(booking=bobs).first()
    assert client.post(f"/api/v1/staff/messages/{bobs_message.pk}/resend").status_code == 404


def test_a_failed_message_is_resent_and_a_sent_one_sent_again(
    org, make_member, bookings, smtp_server
):
    _, anns, _ = bookings
    confirmation = Message.objects.get(booking=anns, kind=MessageKind.CONFIRMATION)
    Message.objects.filter(pk=confirmation.pk).update(
        status=MessageStatus.FAILED, attempts=dispatch.MAX_ATTEMPTS
    )
    client = signed_in(make_member(org, Role.ADMIN, mfa=True))
    resent = client.post(f"/api/v1/staff/messages/{confirmation.pk}/resend")
    assert (resent.status_code, resent.json()["status"]) == (202, "pending")
    dispatch.deliver_due(NOW)
    confirmation.refresh_from_db()
    assert confirmation.status == MessageStatus.SENT
    again = client.post(f"/api/v1/staff/messages/{confirmation.pk}/resend")
    assert again.status_code == 202
    assert again.json()["id"] != confirmation.pk
    dispatch.deliver_due(NOW)
    ids = [m["Message-ID"] for m in smtp_server.inbox.received if m["To"] == "ada@example.com"]
    assert len(set(ids)) == len(ids) >= 2
    pending = Message.objects.get(
        booking=anns, kind=MessageKind.REMINDER, due_at__lt=TEN, context__minutes_before=60
    )
    refused = client.post(f"/api/v1/staff/messages/{pending.pk}/resend")
    assert (refused.status_code, refused.json()["type"]) == (
        409,
        "urn:slotwise:problem:message-not-resendable",
    )


def test_viewers_may_not_resend(org, make_member, bookings):
    _, anns, _ = bookings
    message = Message.objects.filter(booking=anns).first()
    client = signed_in(make_member(org, Role.VIEWER))
    assert client.post(f"/api/v1/staff/messages/{message.pk}/resend").status_code == 403


def test_a_resent_reminder_goes_out_again(org, make_member, bookings, smtp_server):
    from datetime import timedelta

    _, anns, _ = bookings
    day_before = TEN - timedelta(days=1)
    dispatch.deliver_due(day_before)
    reminder = Message.objects.get(
        booking=anns, kind=MessageKind.REMINDER, status=MessageStatus.SENT
    )
    client = signed_in(make_member(org, Role.ADMIN, mfa=True))
    assert client.post(f"/api/v1/staff/messages/{reminder.pk}/resend").status_code == 202
    assert dispatch.deliver_due(day_before + timedelta(minutes=1)).sent == 1
