"""The manage page shows what the customer paid and the exact refund before they cancel."""

import re
from datetime import UTC, datetime, timedelta
from html import unescape

import pytest
import time_machine
from django.test import Client

from slotwise.bookings import services
from slotwise.bookings.models import Booking
from slotwise.organizations.tenancy import tenant
from slotwise.payments.models import LedgerEntry
from slotwise.payments.services import record_received

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
START = datetime(2026, 6, 1, 9, tzinfo=UTC)
ADA = services.Customer(name="Ada", email="ada@example.com", time_zone="Asia/Tokyo")
POLICY = {
    "tiers": [
        {"before_minutes": 48 * 60, "refund_percent": 100},
        {"before_minutes": 24 * 60, "refund_percent": 50},
    ]
}


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def token(clock, make_org, make_resource, make_service):
    """A booking paid in full at the venue (50.00 EUR), 30 days ahead; its manage token."""
    org = make_org(payment_provider="venue", currency="EUR", time_zone="Europe/London")
    make_resource(org)
    service = make_service(org, price_minor=5000, payment_mode="full", cancellation_policy=POLICY)
    with tenant(org):
        booking, token = services.book(service, start=START, customer=ADA, now=NOW)
        record_received(booking, 5000, NOW)
    return token


def text(response):
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.text)).split())


def cancel(browser, token, **fields):
    page = browser.get(f"/manage/{token}")
    form = {
        "csrfmiddlewaretoken": re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[
            1
        ],
        "expected_refund_minor": re.search(
            r'name="expected_refund_minor" value="(\d+)"', page.text
        )[1],
        **fields,
    }
    return page, form


def test_the_page_shows_the_refund_and_until_when_it_holds(client, clock, token):
    clock.move_to(START - timedelta(hours=30))

    shown = text(client.get(f"/manage/{token}"))

    assert "Paid 50.00 EUR" in shown
    assert "If you cancel now, you get back 25.00 EUR of the 50.00 EUR you paid." in shown
    # 24 hours before 18:00 in Tokyo, the customer's zone.
    assert "This holds until Sunday 31 May 2026, 18:00 (Asia/Tokyo, UTC+09:00)." in shown


def test_cancelling_refunds_what_the_page_showed(clock, token):
    browser = Client(enforce_csrf_checks=True)
    clock.move_to(START - timedelta(hours=72))
    _, form = cancel(browser, token)
    assert form["expected_refund_minor"] == "5000"

    response = browser.post(f"/manage/{token}", form)

    assert response.status_code == 200
    [refund] = LedgerEntry.objects.with_scopes_disabled().filter(kind="refund")
    assert (refund.amount_minor, refund.status) == (5000, "succeeded")


def test_a_refund_that_dropped_since_the_page_was_shown_cancels_nothing(clock, token):
    browser = Client(enforce_csrf_checks=True)
    clock.move_to(START - timedelta(hours=48))
    _, form = cancel(browser, token)  # shown: 50.00 EUR back
    clock.shift(timedelta(seconds=1))  # now it is 25.00 EUR

    response = browser.post(f"/manage/{token}", form)

    assert response.status_code == 409
    assert "Nothing was cancelled" in text(response)
    assert "you get back 25.00 EUR" in text(response)
    assert Booking.objects.with_scopes_disabled().get().status == "confirmed"
