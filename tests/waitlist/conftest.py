"""The waitlist tests: what a customer does through the public API and the pages of
the emails, read from a real SMTP server (``smtp_server``, aiosmtpd on 127.0.0.1).

A London studio with one person (Ann) on office hours, a 60-minute service,
and the clock stopped at :data:`NOW`, a month before :data:`TEN`. The
worker's tasks run as they are enqueued, after commit: tests that need them
use ``pytest.mark.django_db(transaction=True)``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, date, datetime, timedelta
from email.header import decode_header, make_header
from email.message import Message as EmailMessage
from typing import Any
from urllib.parse import urlencode

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from tests.notifications.conftest import Inbox, smtp_server  # noqa: F401 (a fixture)
from tests.payments.conftest import localstripe, localstripe_url  # noqa: F401 (fixtures)

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)  # a Friday
MONDAY = date(2026, 6, 1)
TEN = datetime(2026, 6, 1, 9, tzinfo=UTC)  # Monday 1 June, 10:00 in London
ELEVEN = TEN + timedelta(hours=1)


@pytest.fixture
def clock():
    """The clock stopped at :data:`NOW`, for moving by hand (``shift``, ``move_to``)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def inbox(smtp_server) -> Inbox:  # noqa: F811 (the fixture above)
    return smtp_server.inbox


@pytest.fixture
def org(make_org, make_resource):
    org = make_org(name="Studio Lumen", time_zone="Europe/London")
    make_resource(org, name="Ann")
    return org


@pytest.fixture
def service(org, make_service):
    """Sequential waitlist (the default), offers of 30 minutes."""
    return make_service(org, name="Portrait session")


# The customer's side


def customer(name: str, zone: str = "Europe/London") -> dict[str, str]:
    return {"name": name, "email": f"{name.lower()}@example.com", "time_zone": zone}


def post(client: Client, path: str, data: dict[str, Any] | None = None, **extra: Any) -> Any:
    return client.post(path, json.dumps(data or {}), content_type="application/json", **extra)


def utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def try_booking(client: Client, service: Any, start: datetime, name: str = "Eve") -> Any:
    return post(
        client,
        "/api/v1/bookings",
        {"service_id": service.pk, "start": start.isoformat(), "customer": customer(name)},
    )


def book(client: Client, service: Any, start: datetime, name: str = "Ada") -> dict[str, Any]:
    """Book ``start`` as ``name``; the answer, with its manage token."""
    response = try_booking(client, service, start, name)
    assert response.status_code == 201, response.content
    return response.json()


def cancel(client: Client, booking: dict[str, Any]) -> dict[str, Any]:
    response = post(client, f"/api/v1/bookings/manage/{booking['manage_token']}/cancel")
    assert response.status_code == 200, response.content
    return response.json()


def try_join(client: Client, service: Any, name: str, **want: Any) -> Any:
    """Join as ``name`` (``zone``: their time zone) for ``slot_start`` or a ``window``."""
    zone = want.pop("zone", "Europe/London")
    if isinstance(want.get("slot_start"), datetime):
        want["slot_start"] = want["slot_start"].isoformat()
    body = {"service_id": service.pk, **want, "customer": customer(name, zone)}
    return post(client, "/api/v1/waitlist", body)


def join(client: Client, service: Any, name: str, **want: Any) -> dict[str, Any]:
    """The entry, with its token."""
    response = try_join(client, service, name, **want)
    assert response.status_code == 201, response.content
    return response.json()


def entry(client: Client, joined: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/api/v1/waitlist/{joined['token']}")
    assert response.status_code == 200, response.content
    return response.json()


def claim(client: Client, token: str) -> Any:
    return post(client, f"/api/v1/waitlist/offers/{token}/claim")


def free_starts(client: Client, service: Any, day: date = MONDAY) -> list[str]:
    """The starts (UTC) the public sees as bookable on ``day`` (London)."""
    query = urlencode({"start": day, "end": day, "tz": "Europe/London"})
    response = client.get(f"/api/v1/services/{service.pk}/slots?{query}")
    assert response.status_code == 200, response.content
    return [slot["start_utc"] for day in response.json()["days"] for slot in day["slots"]]


# Reading the emails


def subject(mail: EmailMessage) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def text(mail: EmailMessage) -> str:
    [part] = [p for p in mail.walk() if p.get_content_type() == "text/plain"]
    return part.get_payload(decode=True).decode(part.get_content_charset() or "utf-8")


def mails(inbox: Inbox, name: str, about: str = "") -> list[EmailMessage]:
    """What ``name`` received, whose subject contains ``about``."""
    address = f"{name.lower()}@example.com"
    return [m for m in inbox.received if m["To"] == address and about in subject(m)]


def offers_to(inbox: Inbox, name: str) -> list[EmailMessage]:
    return mails(inbox, name, "is free: claim it")


def link(mail: EmailMessage) -> str:
    """The path of the slotwise page the email links to."""
    site = re.escape(settings.SLOTWISE_SITE_URL)
    [found] = re.findall(rf"{site}(/waitlist/\S+)", text(mail))
    return found


def offer_token(mail: EmailMessage) -> str:
    return link(mail).removeprefix("/waitlist/offer/")


def csrf_post(client: Client, path: str) -> Any:
    """Open the page at ``path``, then press its button, as a browser would."""
    page = client.get(path)
    assert page.status_code == 200, page.content
    [token] = re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    return client.post(path, {"csrfmiddlewaretoken": token})
