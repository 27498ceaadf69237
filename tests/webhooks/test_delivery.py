"""Webhooks posted to a real HTTP receiver: each event once, signed, retried through
refusals and outages with the same Webhook-Id, never for a booking that rolled
back, never to an endpoint that does not want it."""

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import transaction
from django.test import Client

from slotwise.accounts.permissions import Role
from slotwise.bookings import services
from slotwise.bookings.models import CancelledBy
from slotwise.notifications import dispatch
from slotwise.notifications.models import Message, MessageKind, MessageStatus
from slotwise.webhooks import services as webhooks

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
TEN = datetime(2026, 6, 1, 9, tzinfo=UTC)  # Monday, 10:00 in London
ADA = services.Customer(name="Ada", email="ada@example.com", time_zone="Asia/Kathmandu")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture(autouse=True)
def mail_kept_in_memory(settings):
    """The customers' emails, due with the webhooks, go nowhere."""
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


@pytest.fixture
def org(make_org):
    return make_org(time_zone="Europe/London")


@pytest.fixture
def service(org, make_resource, make_service):
    make_resource(org, name="Ann")
    return make_service(org, name="Portrait session", reminder_minutes=[])


@pytest.fixture
def endpoint(org, receiver):
    return webhooks.create_endpoint(org, url=receiver.url(), description="CRM")


def webhook_messages():
    return Message.objects.filter(kind=MessageKind.WEBHOOK).order_by("pk")


def verify(secret, received):
    """What a receiver does (docs/notifications.md): recompute the signature."""
    webhook_id = received.headers["Webhook-Id"]
    timestamp = received.headers["Webhook-Timestamp"]
    signed = f"{webhook_id}.{timestamp}.".encode() + received.body
    expected = "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return hmac.compare_digest(received.headers["Webhook-Signature"], expected)


def test_a_booking_made_and_cancelled_posts_created_then_cancelled_once_each(
    service, endpoint, receiver
):
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    services.cancel(booking, by=CancelledBy.CUSTOMER, now=NOW, reason="Ill")
    dispatch.deliver_due(NOW)
    created, cancelled = webhook_messages()
    assert [r.path for r in receiver.received] == ["/hook", "/hook"]
    for message, received in zip((created, cancelled), receiver.received, strict=True):
        assert received.headers["Content-Type"] == "application/json"
        assert received.headers["User-Agent"] == "slotwise-webhooks"
        assert received.headers["Webhook-Id"] == message.message_id
        assert received.headers["Webhook-Timestamp"] == str(int(NOW.timestamp()))
        assert verify(endpoint.secret, received)
        assert json.loads(received.body) == message.context
        assert message.context["id"] == message.message_id
    first, second = (json.loads(r.body) for r in receiver.received)
    assert (first["type"], second["type"]) == ("booking.created", "booking.cancelled")
    # Each body tells of the booking as it was at its event.
    assert first["data"]["booking"] == {
        "id": booking.pk,
        "status": "confirmed",
        "service": {"id": service.pk, "name": "Portrait session"},
        "starts_at": "2026-06-01T09:00:00Z",
        "ends_at": "2026-06-01T10:00:00Z",
        "seats": 1,
        "customer": {"name": "Ada", "email": "ada@example.com", "time_zone": "Asia/Kathmandu"},
        "cancelled_at": None,
        "cancelled_by": None,
        "cancel_reason": "",
    }
    assert first["created_at"] == "2026-05-01T12:00:00Z"
    assert second["data"]["booking"]["status"] == "cancelled"
    assert second["data"]["booking"]["cancelled_at"] == "2026-05-01T12:00:00Z"
    assert second["data"]["booking"]["cancelled_by"] == "customer"
    assert second["data"]["booking"]["cancel_reason"] == "Ill"
    assert set(webhook_messages().values_list("status", flat=True)) == {MessageStatus.SENT}
    dispatch.deliver_due(NOW + timedelta(hours=3))
    assert len(receiver.received) == 2


def test_a_reschedule_says_where_the_booking_was(service, endpoint, receiver):
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    services.reschedule(booking, start=TEN + timedelta(hours=4), now=NOW)
    dispatch.deliver_due(NOW)
    moved = json.loads(receiver.received[-1].body)
    assert moved["type"] == "booking.rescheduled"
    assert moved["data"]["booking"]["starts_at"] == "2026-06-01T13:00:00Z"
    assert moved["data"]["previous"] == {
        "starts_at": "2026-06-01T09:00:00Z",
        "ends_at": "2026-06-01T10:00:00Z",
    }


def test_a_refusing_receiver_gets_the_event_later_exactly_once(service, endpoint, receiver):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    receiver.status = 500
    dispatch.deliver_due(NOW)
    [message] = webhook_messages()
    assert (message.status, message.attempts) == (MessageStatus.PENDING, 1)
    assert message.last_error.startswith("HTTP 500")
    assert timedelta(seconds=24) <= message.next_attempt_at - NOW <= timedelta(seconds=36)
    receiver.status = 200
    dispatch.deliver_due(NOW + timedelta(seconds=10))  # not due yet
    assert len(receiver.received) == 1
    dispatch.deliver_due(NOW + timedelta(minutes=1))
    assert [r.answered for r in receiver.received] == [500, 200]
    assert {r.headers["Webhook-Id"] for r in receiver.received} == {message.message_id}
    assert {r.body for r in receiver.received} == {receiver.received[0].body}
    assert len(receiver.delivered()) == 1
    message.refresh_from_db()
    assert (message.status, message.attempts) == (MessageStatus.SENT, 2)
    dispatch.deliver_due(NOW + timedelta(hours=3))
    assert len(receiver.received) == 2


def test_a_receiver_down_for_a_while_loses_nothing(service, endpoint, receiver):
    for hour in (0, 1, 4):
        services.book(service, start=TEN + timedelta(hours=hour), customer=ADA, now=NOW)
    receiver.stop()
    moment = NOW
    for _ in range(3):
        dispatch.deliver_due(moment)
        moment += timedelta(minutes=10)
    assert all(m.last_error.startswith("Unreachable") for m in webhook_messages())
    assert set(webhook_messages().values_list("attempts", flat=True)) == {3}
    receiver.start()
    dispatch.deliver_due(moment)
    assert sorted(r.headers["Webhook-Id"] for r in receiver.received) == sorted(
        webhook_messages().values_list("message_id", flat=True)
    )
    assert all(verify(endpoint.secret, r) for r in receiver.received)
    assert set(webhook_messages().values_list("status", flat=True)) == {MessageStatus.SENT}


def test_after_the_last_attempt_the_delivery_is_failed_and_the_log_says_so(
    org, service, endpoint, receiver, make_member
):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    receiver.status = 500
    moment = NOW
    for _ in range(dispatch.MAX_ATTEMPTS):
        dispatch.deliver_due(moment)
        moment += dispatch.LONGEST_RETRY * 2
    [message] = webhook_messages()
    assert (message.status, message.attempts) == (MessageStatus.FAILED, dispatch.MAX_ATTEMPTS)
    assert len(receiver.received) == dispatch.MAX_ATTEMPTS
    assert {r.headers["Webhook-Id"] for r in receiver.received} == {message.message_id}
    dispatch.deliver_due(moment)
    assert len(receiver.received) == dispatch.MAX_ATTEMPTS
    client = Client()
    client.force_login(make_member(org, Role.OWNER, mfa=True))
    log = client.get(f"/api/v1/staff/webhooks/{endpoint.pk}/deliveries")
    assert log.status_code == 200
    [delivery] = log.json()["deliveries"]
    assert delivery["status"] == "failed"
    assert delivery["attempts"] == dispatch.MAX_ATTEMPTS
    assert delivery["last_error"].startswith("HTTP 500")
    assert delivery["type"] == "booking.created"
    assert delivery["webhook_id"] == message.message_id
    assert delivery["sent_at"] is None


def test_a_redirect_is_not_followed(service, endpoint, receiver):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    receiver.status = 301
    dispatch.deliver_due(NOW)
    [message] = webhook_messages()
    assert message.status == MessageStatus.PENDING
    assert "redirects are not followed" in message.last_error
    assert [r.path for r in receiver.received] == ["/hook"]


def test_retries_are_signed_with_the_secret_of_the_moment(org, service, endpoint, receiver):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    receiver.status = 500
    dispatch.deliver_due(NOW)
    rotated = webhooks.rotate_secret(org, endpoint.pk)
    receiver.status = 200
    dispatch.deliver_due(NOW + timedelta(minutes=1))
    first, second = receiver.received
    assert (verify(endpoint.secret, first), verify(rotated.secret, first)) == (True, False)
    assert (verify(endpoint.secret, second), verify(rotated.secret, second)) == (False, True)


def test_an_endpoint_for_cancellations_only_hears_of_nothing_else(org, service, receiver):
    webhooks.create_endpoint(org, url=receiver.url(), events=["booking.cancelled"])
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    services.reschedule(booking, start=TEN + timedelta(hours=1), now=NOW)
    services.cancel(booking, by=CancelledBy.STAFF, now=NOW)
    dispatch.deliver_due(NOW)
    assert [json.loads(r.body)["type"] for r in receiver.received] == ["booking.cancelled"]
    assert webhook_messages().count() == 1


def test_another_organizations_endpoints_get_nothing(
    org, service, endpoint, receiver, make_org, make_resource, make_service
):
    other = make_org()
    webhooks.create_endpoint(other, url=receiver.url("/other"))
    services.book(service, start=TEN, customer=ADA, now=NOW)
    dispatch.deliver_due(NOW)
    assert [r.path for r in receiver.received] == ["/hook"]
    assert set(webhook_messages().values_list("recipient", flat=True)) == {endpoint.recipient}
    # ... and the other organization's bookings reach its own endpoint only.
    make_resource(other)
    services.book(make_service(other), start=TEN, customer=ADA, now=NOW)
    dispatch.deliver_due(NOW)
    assert [r.path for r in receiver.received] == ["/hook", "/other"]


def test_a_booking_that_rolled_back_or_was_refused_posts_nothing(service, endpoint, receiver):
    with transaction.atomic():
        services.book(service, start=TEN, customer=ADA, now=NOW)
        assert webhook_messages().count() == 1
        transaction.set_rollback(True)  # as any error after the booking would
    assert not webhook_messages().exists()
    services.book(service, start=TEN, customer=ADA, now=NOW)
    with pytest.raises(services.SlotUnavailable):
        services.book(service, start=TEN, customer=ADA, now=NOW)
    dispatch.deliver_due(NOW)
    assert len(receiver.received) == 1


def test_an_inactive_or_deleted_endpoint_is_skipped_not_posted_to(org, service, receiver):
    paused = webhooks.create_endpoint(org, url=receiver.url("/paused"))
    removed = webhooks.create_endpoint(org, url=receiver.url("/removed"))
    services.book(service, start=TEN, customer=ADA, now=NOW)
    webhooks.update_endpoint(org, paused.pk, {"active": False})
    webhooks.delete_endpoint(org, removed.pk)
    done = dispatch.deliver_due(NOW)
    assert receiver.received == []
    assert done.skipped == 2
    skipped = {m.recipient: m for m in webhook_messages()}
    assert skipped[paused.recipient].status == MessageStatus.SKIPPED
    assert skipped[paused.recipient].last_error == "The endpoint is inactive."
    assert skipped[removed.recipient].status == MessageStatus.SKIPPED
    assert skipped[removed.recipient].last_error == "The endpoint was deleted."
    # An inactive endpoint is not even planned for.
    services.book(service, start=TEN + timedelta(hours=1), customer=ADA, now=NOW)
    assert webhook_messages().count() == 2


def test_a_resent_delivery_goes_out_again_with_a_new_webhook_id(
    org, service, endpoint, receiver, make_member
):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    dispatch.deliver_due(NOW)
    [message] = webhook_messages()
    client = Client()
    client.force_login(make_member(org, Role.OWNER, mfa=True))
    assert client.post(f"/api/v1/staff/messages/{message.pk}/resend").status_code == 202
    dispatch.deliver_due(NOW)
    first, again = receiver.received
    assert first.body == again.body
    assert first.headers["Webhook-Id"] != again.headers["Webhook-Id"]
    assert verify(endpoint.secret, again)
    log = client.get(f"/api/v1/staff/webhooks/{endpoint.pk}/deliveries").json()
    assert [d["status"] for d in log["deliveries"]] == ["sent", "sent"]


def documented_receiver():
    """The ``receive`` function of docs/notifications.md, as a reader would copy it."""
    from pathlib import Path

    docs = (Path(__file__).parents[2] / "docs" / "notifications.md").read_text()
    [code] = [b for b in docs.split("```python\n")[1:] if "def receive(" in b]
    namespace: dict = {}
    exec(code.split("```")[0], namespace)  # noqa: S102 - our own documentation
    return namespace["receive"]


def test_the_documented_receiver_accepts_a_delivery_once_and_refuses_forgeries(
    service, endpoint, receiver
):
    receive = documented_receiver()
    services.book(service, start=TEN, customer=ADA, now=NOW)
    dispatch.deliver_due(NOW)
    [received] = receiver.received
    event = receive(endpoint.secret, received.headers, received.body)
    assert event == webhook_messages().get().context
    assert receive(endpoint.secret, received.headers, received.body) is None  # a replay
    forged = received.body.replace(b'"seats":1', b'"seats":9')
    with pytest.raises(ValueError, match="signature"):
        receive(endpoint.secret, received.headers, forged)
    with pytest.raises(ValueError, match="signature"):
        receive("another secret", received.headers, received.body)
    with time_machine.travel(NOW + timedelta(minutes=6), tick=False):
        with pytest.raises(ValueError, match="Too old"):
            receive(endpoint.secret, received.headers, received.body)
