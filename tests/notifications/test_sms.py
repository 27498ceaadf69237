"""Text messages through a local stand-in for Twilio's REST API, next to the emails.

The stand-in speaks Twilio's protocol: ``POST
/2010-04-01/Accounts/{sid}/Messages.json`` with HTTP basic auth and a form,
``201`` with the message's JSON, Twilio's error JSON otherwise. It treats
``+15005550001`` as an invalid number (code 21211), as Twilio's test
credentials do, can answer ``500`` or ``429`` on demand, and can be stopped
and started again on the same port.
"""

from __future__ import annotations

import base64
import json
import secrets
import socket
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest
import time_machine
from django.test import Client

from slotwise import config
from slotwise.accounts.permissions import Role
from slotwise.bookings import services
from slotwise.bookings.models import CancelledBy
from slotwise.notifications import dispatch
from slotwise.notifications.emails import manage_url
from slotwise.notifications.models import Message, MessageKind, MessageStatus
from slotwise.notifications.sms import phone_number, text_for

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
TEN = datetime(2026, 6, 1, 9, tzinfo=UTC)  # Monday, 18:00 in Tokyo
SID = "AC" + "a1" * 16
TOKEN = "twilio-test-token"
SENDER = "+15005550006"
INVALID = "+15005550001"
PHONE = "+81 90-1234-5678"
ADA = services.Customer(name="Ada", email="ada@example.com", time_zone="Asia/Tokyo", phone=PHONE)


class TwilioStandIn:
    """What Twilio received, and how it answers next."""

    def __init__(self) -> None:
        self.received: list[dict[str, str]] = []
        self.fail_with: int | None = None
        self._lock = threading.Lock()
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None and self._thread is not None:
            self._server.shutdown()
            self._server.server_close()
            self._thread.join()
            self._server = self._thread = None

    def answer(self, path: str, authorization: str, form: dict[str, str]) -> tuple[int, dict]:
        if path != f"/2010-04-01/Accounts/{SID}/Messages.json":
            return 404, _error(20404, "The requested resource was not found", 404)
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if authorization != expected:
            return 401, _error(20003, "Authenticate", 401)
        if self.fail_with == 500:
            return 500, _error(20500, "Internal Server Error", 500)
        if self.fail_with == 429:
            return 429, _error(20429, "Too Many Requests", 429)
        if not form.get("To"):
            return 400, _error(21604, "A 'To' phone number is required.", 400)
        if not form.get("From") and not form.get("MessagingServiceSid"):
            return 400, _error(21603, "A 'From' phone number is required.", 400)
        if not form.get("Body"):
            return 400, _error(21602, "Message body is required.", 400)
        if form["To"] == INVALID:
            message = f"The 'To' number {form['To']} is not a valid phone number."
            return 400, _error(21211, message, 400)
        with self._lock:
            self.received.append(form)
        return 201, {
            "sid": "SM" + secrets.token_hex(16),
            "account_sid": SID,
            "to": form["To"],
            "from": form.get("From"),
            "messaging_service_sid": form.get("MessagingServiceSid"),
            "body": form["Body"],
            "status": "queued" if "From" in form else "accepted",
            "num_segments": "1",
            "direction": "outbound-api",
            "api_version": "2010-04-01",
        }

    def bodies(self) -> list[str]:
        return [form["Body"] for form in self.received]


def _error(code: int, message: str, status: int) -> dict:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def _handler(twilio: TwilioStandIn) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = parse_qs(self.rfile.read(length).decode(), keep_blank_values=True)
            form = {name: values[-1] for name, values in raw.items()}
            status, answer = twilio.answer(self.path, self.headers.get("Authorization", ""), form)
            body = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass  # quiet

    return Handler


@pytest.fixture
def twilio(settings) -> Iterator[TwilioStandIn]:
    server = TwilioStandIn()
    server.start()
    settings.SLOTWISE_TWILIO = config.Twilio(
        account_sid=SID, auth_token=TOKEN, sender=SENDER, api_url=server.url
    )
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def service(make_org, make_resource, make_service):
    org = make_org(name="Harbour & Pine", time_zone="Europe/London")
    make_resource(org, name="Ann")
    return make_service(org, name="Portrait session")


def texts(booking=None):
    messages = Message.objects.filter(channel="sms")
    if booking is not None:
        messages = messages.filter(booking=booking)
    return messages


# What is texted


def test_a_booking_with_a_phone_is_texted_besides_the_emails(service, smtp_server, twilio):
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    emails = booking.messages.filter(channel="email")
    assert sorted(texts().values_list("kind", "occurrence", "due_at", "recipient")) == sorted(
        (kind, occurrence, due_at, "+819012345678")
        for kind, occurrence, due_at in emails.values_list("kind", "occurrence", "due_at")
    )
    assert texts().count() == 3  # the confirmation and two reminders

    assert dispatch.deliver_due(NOW).sent == 2
    [confirmation] = twilio.received
    assert (confirmation["To"], confirmation["From"]) == ("+819012345678", SENDER)
    assert "MessagingServiceSid" not in confirmation
    assert len(smtp_server.inbox.received) == 1

    assert dispatch.deliver_due(TEN - timedelta(days=1)).sent == 2
    assert dispatch.deliver_due(TEN - timedelta(hours=1)).sent == 2
    assert twilio.bodies()[1:] == [
        "Harbour & Pine: reminder, Portrait session in 1 day, on Mon 1 Jun, 18:00 "
        f"(Asia/Tokyo). Manage: {manage_url(booking)}",
        "Harbour & Pine: reminder, Portrait session in 1 hour, on Mon 1 Jun, 18:00 "
        f"(Asia/Tokyo). Manage: {manage_url(booking)}",
    ]
    assert len(smtp_server.inbox.received) == 3
    assert set(texts().values_list("status", flat=True)) == {MessageStatus.SENT}


@pytest.mark.parametrize(
    "phone",
    ["", "12345678", "0044 20 7946 0958", "+44 (20) 7946 0958", "+0 20 7946 0958", "+1234567"],
)
def test_no_phone_or_one_that_is_not_e164_gets_no_texts(service, twilio, phone):
    customer = services.Customer(
        name="Ada", email="ada@example.com", time_zone="Asia/Tokyo", phone=phone
    )
    booking, _ = services.book(service, start=TEN, customer=customer, now=NOW)
    assert booking.messages.filter(channel="email").count() == 3
    assert not texts().exists()


def test_phone_numbers_lose_their_spaces_and_dashes():
    assert phone_number("+44 20-7946-0958") == "+442079460958"
    assert phone_number(" +1 415 555 0100 ") == "+14155550100"
    assert phone_number("+1234567890123456") is None  # 16 digits


def test_without_twilio_nothing_is_texted(service, smtp_server):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    assert not texts().exists()
    assert dispatch.deliver_due(NOW).sent == 1


def test_requests_approvals_and_declines_are_not_texted(
    make_org, make_resource, make_service, twilio
):
    org = make_org()
    make_resource(org)
    service = make_service(org, requires_approval=True)
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    assert booking.messages.filter(kind=MessageKind.REQUEST_RECEIVED).count() == 1
    assert not texts().exists()
    services.approve(booking, now=NOW)
    assert not texts().filter(kind=MessageKind.APPROVED).exists()
    # Once approved it is confirmed, and reminded of like any other.
    assert set(texts().values_list("kind", flat=True)) == {MessageKind.REMINDER}


def test_each_text_is_short_and_in_the_customers_zone(service, twilio):
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    later = TEN + timedelta(hours=4)
    services.reschedule(booking, start=later, now=NOW)
    services.cancel(booking, by=CancelledBy.CUSTOMER, now=NOW)
    by_kind = {m.kind: text_for(m) for m in texts().exclude(kind=MessageKind.REMINDER)}
    link = manage_url(booking)
    assert by_kind == {
        MessageKind.CONFIRMATION: "Harbour & Pine: Portrait session confirmed for "
        f"Mon 1 Jun, 22:00 (Asia/Tokyo). Manage: {link}",
        MessageKind.RESCHEDULE: "Harbour & Pine: Portrait session moved from Mon 1 Jun, 18:00 "
        f"to Mon 1 Jun, 22:00 (Asia/Tokyo). Manage: {link}",
        MessageKind.CANCELLATION: "Harbour & Pine: Portrait session on Mon 1 Jun, 22:00 "
        "(Asia/Tokyo) is cancelled.",
    }


def test_long_names_are_shortened(make_org, make_resource, make_service, twilio):
    org = make_org(name="The Very Long Name Of A Photography Studio By The Harbour " * 3)
    make_resource(org)
    service = make_service(org, name="An Extraordinarily Long Portrait Session Name " * 4)
    customer = services.Customer(
        name="Ada", email="ada@example.com", time_zone="America/Argentina/Buenos_Aires", phone=PHONE
    )
    booking, _ = services.book(service, start=TEN, customer=customer, now=NOW)
    for message in texts(booking):
        assert len(text_for(message)) <= 300
        assert "America/Argentina/Buenos_Aires" in text_for(message)


# Reminders follow the booking


def test_a_reschedule_moves_the_text_reminders(service, smtp_server, twilio):
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    later = TEN + timedelta(hours=4)
    services.reschedule(booking, start=later, now=NOW)
    reminders = texts().filter(kind=MessageKind.REMINDER)
    assert reminders.filter(status=MessageStatus.SKIPPED).count() == 2
    assert sorted(
        reminders.filter(status=MessageStatus.PENDING).values_list("due_at", flat=True)
    ) == [
        later - timedelta(days=1),
        later - timedelta(hours=1),
    ]
    dispatch.deliver_due(NOW)
    assert dispatch.deliver_due(TEN - timedelta(minutes=30)).sent == 2  # the new 24-hour ones
    assert dispatch.deliver_due(later - timedelta(hours=1)).sent == 2
    assert [body.split(",")[1] for body in twilio.bodies()[2:]] == [
        " Portrait session in 1 day",
        " Portrait session in 1 hour",
    ]
    assert all("22:00" in body for body in twilio.bodies())


def test_a_text_reminder_claimed_before_a_reschedule_is_skipped_after(service, twilio):
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    due = TEN - timedelta(hours=1)
    claimed = dispatch._claim(due, dispatch.BATCH)  # ... and the worker is killed here
    assert {m.channel for m in claimed if m.kind == MessageKind.REMINDER} == {"email", "sms"}
    services.reschedule(booking, start=TEN + timedelta(hours=4), now=due)
    done = dispatch.deliver_due(due + dispatch.LEASE)
    stale = texts().get(kind=MessageKind.REMINDER, occurrence__endswith=TEN.isoformat(), due_at=due)
    assert stale.status == MessageStatus.SKIPPED
    assert stale.last_error == "The booking moved."
    assert done.skipped >= 2
    assert not any("in 1 hour" in body for body in twilio.bodies())


def test_a_cancellation_is_texted_and_the_reminders_are_not(service, twilio):
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    services.cancel(booking, by=CancelledBy.CUSTOMER, now=NOW)
    dispatch.deliver_due(NOW)
    assert dispatch.deliver_due(TEN - timedelta(minutes=30)).sent == 0
    assert [body.split(": ")[1] for body in twilio.bodies()] == [
        "Portrait session confirmed for Mon 1 Jun, 18:00 (Asia/Tokyo). Manage",
        "Portrait session on Mon 1 Jun, 18:00 (Asia/Tokyo) is cancelled.",
    ]


# Delivery through Twilio's answers


@pytest.mark.parametrize(("status", "code"), [(500, "20500"), (429, "20429")])
def test_twilio_failing_for_a_while_gets_the_text_later_once(service, twilio, status, code):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    twilio.fail_with = status
    assert dispatch.deliver_due(NOW).retried == 1
    text = texts().get(kind=MessageKind.CONFIRMATION)
    assert text.status == MessageStatus.PENDING
    assert f"Twilio answered {status} (code {code}" in text.last_error
    twilio.fail_with = None
    assert dispatch.deliver_due(NOW + timedelta(seconds=10)).handled == 0  # not yet
    assert dispatch.deliver_due(NOW + timedelta(minutes=1)).sent == 1
    assert len(twilio.received) == 1


def test_twilio_down_for_a_while_loses_nothing(service, twilio):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    twilio.stop()
    moment = NOW
    for _ in range(3):
        assert dispatch.deliver_due(moment).retried == 1
        moment += timedelta(minutes=10)
    assert "Connection refused" in texts().get(kind=MessageKind.CONFIRMATION).last_error
    twilio.start()
    assert dispatch.deliver_due(moment).sent == 1
    assert len(twilio.received) == 1


def test_wrong_credentials_are_retried(service, twilio, settings):
    settings.SLOTWISE_TWILIO = config.Twilio(
        account_sid=SID, auth_token="not-it", sender=SENDER, api_url=twilio.url
    )
    services.book(service, start=TEN, customer=ADA, now=NOW)
    assert dispatch.deliver_due(NOW).retried == 1
    assert "401 (code 20003" in texts().get(kind=MessageKind.CONFIRMATION).last_error


def test_an_invalid_number_fails_at_once_and_staff_see_it(
    service, make_member, smtp_server, twilio
):
    customer = services.Customer(
        name="Ada", email="ada@example.com", time_zone="Asia/Tokyo", phone=INVALID
    )
    booking, _ = services.book(service, start=TEN, customer=customer, now=NOW)
    done = dispatch.deliver_due(NOW)
    assert (done.sent, done.failed, done.retried) == (1, 1, 0)  # the email went
    text = texts().get(kind=MessageKind.CONFIRMATION)
    assert (text.status, text.attempts) == (MessageStatus.FAILED, 1)
    assert "code 21211" in text.last_error
    client = Client()
    client.force_login(make_member(service.organization, Role.VIEWER))
    with time_machine.travel(NOW, tick=False):
        listed = client.get(f"/api/v1/staff/bookings/{booking.pk}/messages").json()
    assert ("sms", "confirmation", "failed") in {
        (m["channel"], m["kind"], m["status"]) for m in listed
    }
    assert dispatch.deliver_due(NOW + timedelta(hours=3)).handled == 0


def test_a_messaging_service_sends_in_place_of_a_number(service, twilio, settings):
    messaging_service = "MG" + "b2" * 16
    settings.SLOTWISE_TWILIO = config.Twilio(
        account_sid=SID, auth_token=TOKEN, sender=messaging_service, api_url=twilio.url
    )
    services.book(service, start=TEN, customer=ADA, now=NOW)
    dispatch.deliver_due(NOW)
    [sent] = twilio.received
    assert sent["MessagingServiceSid"] == messaging_service
    assert "From" not in sent
