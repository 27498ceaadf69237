"""The page a customer's link opens: their booking, in their zone, and a button to cancel it."""

# ruff: noqa: RUF001 (the en dash is the range sign the texts print)

import re
from datetime import UTC, datetime
from html import unescape

import pytest
import time_machine
from django.test import Client

from slotwise.bookings.models import Booking, BookingStatus, CancelledBy
from slotwise.bookings.services import hash_token, link_token

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
TOKEN = "the-customers-own-manage-token-0123456789"
TOKYO = "Monday 1 June 2026, 18:00–19:00 (Asia/Tokyo, UTC+09:00)"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def booking(make_org, make_resource, make_service, make_booking):
    org = make_org(name="Harbour & Pine", time_zone="Europe/London")
    service = make_service(org, name="Portrait session")
    booking = make_booking(
        service, [make_resource(org)], datetime(2026, 6, 1, 9, tzinfo=UTC), seats=2
    )
    Booking.objects.filter(pk=booking.pk).update(
        customer_name="Ada Lovelace",
        customer_email="ada@example.com",
        customer_time_zone="Asia/Tokyo",
        manage_token_hash=hash_token(TOKEN),
    )
    booking.refresh_from_db()
    return booking


@pytest.fixture
def browser():
    """A client that checks CSRF tokens, as a browser's requests are checked."""
    return Client(enforce_csrf_checks=True)


def page_url(token=TOKEN):
    return f"/manage/{token}"


def csrf_token(response):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)[1]


def cancel(browser, url, reason=""):
    form = browser.get(url)
    return browser.post(url, {"csrfmiddlewaretoken": csrf_token(form), "reason": reason})


@pytest.mark.parametrize("token", [TOKEN, "link"], ids=["manage-token", "link-token"])
def test_the_page_shows_the_booking_in_the_customers_zone(client, booking, token):
    response = client.get(page_url(link_token(booking) if token == "link" else token))

    assert response.status_code == 200
    text = unescape(response.text)
    assert "Portrait session" in text
    assert "Harbour & Pine" in text
    assert TOKYO in text
    assert re.search(r"<dt>Status</dt><dd[^>]*>Confirmed</dd>", text)
    assert re.search(r"<dt>Seats</dt><dd>2</dd>", text)
    assert re.search(r'<form class="cancel card" method="post"', text)
    assert "Cancel booking" in text
    assert "no-store" in response["Cache-Control"]


def test_cancelling_cancels_the_booking_and_shows_it(browser, booking):
    response = cancel(browser, page_url(), reason="I am ill.")

    assert response.status_code == 200
    assert "Your booking is cancelled." in response.text
    assert "Cancel booking" not in response.text
    assert re.search(r"<dt>Status</dt><dd[^>]*>Cancelled</dd>", response.text)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert booking.cancelled_by == CancelledBy.CUSTOMER
    assert booking.cancel_reason == "I am ill."
    assert booking.cancelled_at == NOW
    assert not booking.allocations.exists()


def test_the_link_token_cancels_too(browser, booking):
    assert cancel(browser, page_url(link_token(booking))).status_code == 200
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert booking.cancel_reason == ""


def test_a_post_without_the_csrf_token_is_refused(browser, booking):
    response = browser.post(page_url(), {"reason": "forged"})

    assert response.status_code == 403
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_cancelling_twice_answers_409_with_a_message(browser, booking):
    form = browser.get(page_url())
    data = {"csrfmiddlewaretoken": csrf_token(form), "reason": "first"}
    assert browser.post(page_url(), data).status_code == 200

    again = browser.post(page_url(), {**data, "reason": "second"})

    assert again.status_code == 409
    assert re.search(r'<p class="notice problem" role="alert">[^<]*cannot be cancelled', again.text)
    assert "Cancel booking" not in again.text
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    assert booking.cancel_reason == "first"


def test_a_booking_cancelled_elsewhere_answers_409_and_shows_it(browser, booking):
    form = browser.get(page_url())
    Booking.objects.filter(pk=booking.pk).update(
        status=BookingStatus.CANCELLED, cancelled_by=CancelledBy.STAFF, cancel_reason="Closed."
    )

    response = browser.post(
        page_url(), {"csrfmiddlewaretoken": csrf_token(form), "reason": "I am ill."}
    )

    assert response.status_code == 409
    assert "Closed." in response.text
    assert re.search(r"<dt>Status</dt><dd[^>]*>Cancelled</dd>", response.text)


@pytest.mark.parametrize(
    "token",
    [
        "no-such-token-at-all-0123456789",
        "m1-" + "A" * 32,  # the form of a link token, not its signature
        "forged",
    ],
)
def test_an_unknown_or_forged_token_is_a_404(client, booking, token):
    response = client.get(page_url(token))

    assert response.status_code == 404
    assert "No such booking" in response.text
    assert "Portrait session" not in response.text
    assert client.post(page_url(token), {"reason": "x"}).status_code == 404


def test_a_link_token_with_a_wrong_signature_is_a_404(client, booking):
    real = link_token(booking)
    forged = real[:-1] + ("A" if real[-1] != "A" else "B")

    assert client.get(page_url(forged)).status_code == 404
    assert client.post(page_url(forged)).status_code == 404
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_a_cancelled_booking_shows_no_cancel_button(client, booking):
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.CANCELLED)

    response = client.get(page_url())

    assert response.status_code == 200
    assert 'class="cancel' not in response.text
    assert "Choose another time" not in response.text
    assert "nothing left to manage" in response.text


def test_a_booking_that_has_started_cannot_be_cancelled_here(browser, booking):
    form = browser.get(page_url())
    with time_machine.travel(datetime(2026, 6, 1, 9, 30, tzinfo=UTC), tick=False):
        shown = browser.get(page_url())
        response = browser.post(
            page_url(), {"csrfmiddlewaretoken": csrf_token(form), "reason": "Late, sorry"}
        )

    assert shown.status_code == 200
    assert 'class="cancel' not in shown.text
    assert response.status_code == 409
    assert "has started" in response.text
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_a_reason_too_long_is_refused_and_kept(browser, booking):
    reason = "x" * 501
    response = cancel(browser, page_url(), reason=reason)

    assert response.status_code == 400
    assert reason in response.text
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED


def test_only_get_and_post_are_answered(client, booking):
    assert client.put(page_url()).status_code == 405
    assert client.delete(page_url()).status_code == 405


def test_the_page_keeps_to_the_content_security_policy(client, booking):
    response = client.get(page_url())

    policy = response["Content-Security-Policy"]
    assert "unsafe-inline" not in policy
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    # Scripts only from our own files, none written into the page.
    assert re.findall(r"<script[^>]*>", response.text) == [
        '<script src="/static/web/vendor/htmx.min.js" defer>'
    ]
    assert "<style" not in response.text
    assert " style=" not in response.text
    assert re.search(r"\son\w+=", response.text) is None  # no inline event handlers
    assert response["X-Frame-Options"] == "DENY"
    for sheet in re.findall(r'<link rel="stylesheet" href="([^"]+)"', response.text):
        served = client.get(sheet)
        served.close()
        assert served.status_code == 200


def test_the_page_of_one_organization_shows_nothing_of_another(
    client, booking, make_org, make_service, make_resource, make_booking
):
    other = make_org(name="Elsewhere Ltd")
    theirs = make_booking(
        make_service(other, name="Secret service"),
        [make_resource(other)],
        datetime(2026, 6, 2, 9, tzinfo=UTC),
    )

    mine = client.get(page_url()).text
    their_page = client.get(page_url(link_token(theirs)))

    assert "Elsewhere" not in mine
    assert "Secret service" not in mine
    assert their_page.status_code == 200
    assert "Secret service" in their_page.text
    assert "Harbour" not in their_page.text
