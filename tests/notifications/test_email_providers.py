"""Email through a provider's HTTP API (django-anymail), here Postmark's, served by a
local stand-in that speaks its protocol: delivered, retried, or refused for good."""

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest

from slotwise import config
from slotwise.bookings import services
from slotwise.notifications import dispatch
from slotwise.notifications.models import Message, MessageKind, MessageStatus

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
TEN = datetime(2026, 6, 1, 9, tzinfo=UTC)
TOKEN = "server-token-0123456789"
ADA = services.Customer(name="Ada", email="ada@example.com", time_zone="Asia/Tokyo")


class Postmark(BaseHTTPRequestHandler):
    """POST /email as Postmark answers it: 200 with a MessageID, or an error."""

    received: ClassVar[list[dict]] = []
    answer = 200

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path != "/email" or self.headers["X-Postmark-Server-Token"] != TOKEN:
            return self._reply(
                401, {"ErrorCode": 10, "Message": "Bad or missing Server API token."}
            )
        if self.answer != 200:
            error = {"ErrorCode": 300, "Message": f"Invalid 'To' address: '{body['To']}'."}
            return self._reply(self.answer, error if self.answer == 422 else {"Message": "Oops"})
        type(self).received.append({**body, "_headers": dict(self.headers)})
        return self._reply(
            200,
            {
                "To": body["To"],
                "SubmittedAt": "2026-05-01T12:00:00Z",
                "ErrorCode": 0,
                "MessageID": f"pm-{len(self.received)}",
                "Message": "OK",
            },
        )

    def _reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


@pytest.fixture
def postmark(settings):
    Postmark.received = []
    Postmark.answer = 200
    server = ThreadingHTTPServer(("127.0.0.1", 0), Postmark)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    settings.MAILERS = config.mailers(f"postmark://{TOKEN}@?api_url={url}")
    yield Postmark
    server.shutdown()
    server.server_close()


@pytest.fixture
def service(make_org, make_resource, make_service):
    org = make_org(time_zone="Europe/London")
    make_resource(org, name="Ann")
    return make_service(org, name="Portrait session")


def test_the_confirmation_goes_through_the_providers_api(service, postmark):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    assert dispatch.deliver_due(NOW).sent == 1
    [sent] = postmark.received
    confirmation = Message.objects.get(kind=MessageKind.CONFIRMATION)
    assert sent["To"] == "ada@example.com"
    assert sent["Subject"].startswith("Confirmed: Portrait session")
    headers = {h["Name"]: h["Value"] for h in sent["Headers"]}
    assert headers["Message-ID"] == confirmation.message_id
    [ics] = sent["Attachments"]
    assert ics["Name"] == "booking.ics"
    assert b"METHOD:REQUEST" in base64.b64decode(ics["Content"])


def test_a_provider_outage_is_retried(service, postmark):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    postmark.answer = 500
    assert dispatch.deliver_due(NOW).retried == 1
    postmark.answer = 200
    assert dispatch.deliver_due(NOW + timedelta(minutes=1)).sent == 1
    assert len(postmark.received) == 1


def test_an_address_the_provider_refuses_fails_at_once(service, postmark):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    postmark.answer = 422
    assert dispatch.deliver_due(NOW).failed == 1
    message = Message.objects.get(kind=MessageKind.CONFIRMATION)
    assert (message.status, message.attempts) == (MessageStatus.FAILED, 1)
    assert "recipients were rejected or invalid" in message.last_error
