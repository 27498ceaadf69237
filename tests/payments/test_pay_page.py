"""The customer's payment page (``payments:pay``) and the page the browser returns to
(``payments:paid``), against localstripe.

The browser's part (Stripe.js confirming the PaymentIntent) is played by
:meth:`~tests.payments.localstripe.LocalStripe.pay`, as in the checkout tests;
tests/e2e/test_payment_flow.py drives the real page in Chromium.
"""

from datetime import timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from django.utils import translation

from slotwise.bookings.local_times import describe_moment, describe_span
from slotwise.bookings.models import Booking, BookingStatus
from slotwise.payments.models import LedgerEntry, Payment
from tests.payments.flows import START_UTC, VISA, book, manage, post

pytestmark = pytest.mark.django_db(transaction=True)

TOKYO = ZoneInfo("Asia/Tokyo")
DECLINED = "4000000000000341"  # attaches, then the charge is declined


@pytest.fixture(autouse=True)
def clock(clock):
    return clock


@pytest.fixture
def held(client, paid_service, localstripe):
    """A booking of the 50.00 EUR service by Ada in Tokyo, held while she pays."""
    answer = book(client, paid_service, zone="Asia/Tokyo")
    booking = Booking.objects.with_scopes_disabled().get()
    return answer["manage_token"], booking


def pay_url(token: str) -> str:
    return reverse("payments:pay", kwargs={"token": token})


def paid_url(token: str) -> str:
    return reverse("payments:paid", kwargs={"token": token})


def test_the_page_shows_what_is_paid_until_when_and_carries_the_secret_only_in_data(
    client, held, localstripe, settings
):
    token, booking = held
    payment = Payment.objects.with_scopes_disabled().get(booking=booking)
    settings.SLOTWISE_STRIPE_JS_URL = f"{localstripe.url}/js.stripe.com/v3/"

    response = client.get(pay_url(token))

    assert response.status_code == 200
    html = unescape(response.content.decode())
    with translation.override("en"):
        when = describe_span(booking.starts_at, booking.ends_at, TOKYO)
        until = describe_moment(booking.expires_at, TOKYO)
        full_refund_until = describe_moment(START_UTC - timedelta(hours=48), TOKYO)
    assert when in html
    assert "Asia/Tokyo" in html
    assert "Paid now, in full" in html
    assert "50.00 EUR" in html
    assert "Pay 50.00 EUR" in html
    assert f"held for you for 10 more minutes, until {until}" in html
    assert f"Cancelling until {full_refund_until}: 100% is refunded." in html
    assert "Cancelling later: nothing is refunded." in html
    # The secret is in the form's data attributes, and nowhere else on the page.
    assert html.count(payment.client_secret) == 1
    assert f'data-client-secret="{payment.client_secret}"' in html
    assert f'data-publishable-key="{localstripe.publishable_key}"' in html
    assert f'data-return-url="http://testserver{paid_url(token)}"' in html
    assert f'<script src="{localstripe.url}/js.stripe.com/v3/" defer></script>' in html
    assert "<script>" not in html
    # Only this page's policy lets the provider's script, frames and API in.
    policy = response["Content-Security-Policy"]
    script_src = next(p for p in policy.split("; ") if p.startswith("script-src"))
    assert localstripe.url in script_src
    assert f"frame-src 'self' {localstripe.url}" in policy
    assert f"connect-src 'self' {localstripe.url}" in policy
    assert localstripe.url not in client.get("/")["Content-Security-Policy"]
    assert booking.status == BookingStatus.HELD


def test_a_deposit_says_it_is_a_deposit(client, org, make_service, localstripe):
    service = make_service(org, price_minor=4999, payment_mode="deposit", deposit_percent=30)
    answer = book(client, service)

    html = unescape(client.get(pay_url(answer["manage_token"])).content.decode())

    assert "Deposit paid now" in html
    assert "15.00 EUR" in html
    assert "49.99 EUR" in html


def test_saving_a_card_pays_nothing_now(client, org, make_service, localstripe):
    service = make_service(org, price_minor=5000, payment_mode="card")
    answer = book(client, service)

    html = unescape(client.get(pay_url(answer["manage_token"])).content.decode())

    assert "Save a card to book" in html
    assert 'data-kind="setup"' in html
    assert "Nothing: your card is saved" in html


def test_returning_after_paying_confirms_the_booking(client, held, localstripe):
    token, booking = held
    payment = Payment.objects.with_scopes_disabled().get(booking=booking)
    localstripe.pay(payment.reference, VISA)

    response = client.get(paid_url(token))

    assert response.status_code == 302
    assert response["Location"] == reverse("web:confirmed", kwargs={"token": token})
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert payment.status == "succeeded"
    [charge] = LedgerEntry.objects.with_scopes_disabled().filter(booking=booking)
    assert (charge.kind, charge.amount_minor, charge.currency) == ("charge", 5000, "EUR")
    # Paid: the payment page itself goes on to the confirmation.
    again = client.get(pay_url(token))
    assert again.status_code == 302
    assert again["Location"] == reverse("web:confirmed", kwargs={"token": token})


def test_returning_without_paying_confirms_nothing_and_shows_the_form_again(
    client, held, localstripe
):
    token, booking = held

    response = client.get(paid_url(token))

    assert response.status_code == 402
    html = unescape(response.content.decode())
    assert "The payment has not been received yet." in html
    assert 'id="card-payment"' in html
    booking.refresh_from_db()
    assert booking.status == BookingStatus.HELD
    assert not LedgerEntry.objects.with_scopes_disabled().exists()


def test_a_declined_card_says_so_and_confirms_nothing(client, held, localstripe):
    token, booking = held
    payment = Payment.objects.with_scopes_disabled().get(booking=booking)
    localstripe.pay(payment.reference, DECLINED)

    response = client.get(paid_url(token))

    assert response.status_code == 402
    html = unescape(response.content.decode())
    assert "The payment did not go through:" in html
    assert "Try again." in html
    booking.refresh_from_db()
    assert booking.status == BookingStatus.HELD


def test_an_expired_hold_says_the_slot_was_released(client, held, clock, paid_service):
    token, booking = held
    clock.shift(timedelta(minutes=11))

    for url in (pay_url(token), paid_url(token)):
        response = client.get(url)
        assert response.status_code == 410
        html = unescape(response.content.decode())
        assert "This time was released" in html
        assert "did not arrive in time" in html
        assert 'id="card-payment"' not in html
        again = reverse("web:service", args=[paid_service.organization.slug, paid_service.slug])
        assert f'href="{again}"' in html
    booking.refresh_from_db()
    assert booking.status != BookingStatus.CONFIRMED


def test_a_hold_released_by_the_worker_says_so_too(client, held, clock):
    token, booking = held
    clock.shift(timedelta(minutes=11))
    from slotwise.bookings import services

    services.release_hold(booking.pk, now=booking.expires_at + timedelta(minutes=1))

    response = client.get(pay_url(token))

    assert response.status_code == 410
    assert "This time was released" in unescape(response.content.decode())


def test_a_booking_needing_no_payment_goes_to_its_confirmation(client, org, make_service):
    free = make_service(org, price_minor=0)
    token = book(client, free)["manage_token"]

    for url in (pay_url(token), paid_url(token)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"] == reverse("web:confirmed", kwargs={"token": token})


def test_an_unknown_token_is_not_found(client, localstripe):
    assert client.get(pay_url("no-such-token-0123456789")).status_code == 404
    assert client.get(paid_url("no-such-token-0123456789")).status_code == 404


def test_payments_not_configured_say_so_without_failing(client, held, settings):
    token, booking = held
    settings.SLOTWISE_STRIPE = None

    for url in (pay_url(token), paid_url(token)):
        response = client.get(url)
        assert response.status_code == 503
        assert "Card payments cannot be taken right now" in unescape(response.content.decode())
    booking.refresh_from_db()
    assert booking.status == BookingStatus.HELD


def test_the_api_confirmation_and_the_page_agree(client, held, localstripe):
    """A booking confirmed through the API's /confirm first: the page goes on too."""
    token, booking = held
    payment = Payment.objects.with_scopes_disabled().get(booking=booking)
    localstripe.pay(payment.reference, VISA)
    assert post(client, manage(token, "/confirm")).status_code == 200

    response = client.get(paid_url(token))

    assert response.status_code == 302
    assert LedgerEntry.objects.with_scopes_disabled().filter(booking=booking).count() == 1


def test_deadlines_already_passed_are_left_out_of_the_terms(client, held, clock):
    token, booking = held
    clock.move_to(START_UTC - timedelta(hours=30))
    Booking.objects.with_scopes_disabled().filter(pk=booking.pk).update(
        expires_at=START_UTC - timedelta(hours=29)
    )

    html = unescape(client.get(pay_url(token)).content.decode())

    with translation.override("en"):
        half_until = describe_moment(START_UTC - timedelta(hours=24), TOKYO)
        full_until = describe_moment(START_UTC - timedelta(hours=48), TOKYO)
    assert f"Cancelling until {half_until}: 50% is refunded." in html
    assert full_until not in html
    clock.move_to(START_UTC - timedelta(hours=20))
    Booking.objects.with_scopes_disabled().filter(pk=booking.pk).update(
        expires_at=START_UTC - timedelta(hours=19)
    )
    html = unescape(client.get(pay_url(token)).content.decode())
    assert "Cancelling it: nothing is refunded." in html
    assert "Cancelling until" not in html
