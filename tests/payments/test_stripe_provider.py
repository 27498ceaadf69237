"""The Stripe provider against a real Stripe-compatible server (localstripe).

The tests play the customer's browser with :class:`LocalStripe` (a card, 3-D
Secure) and check what slotwise then reads back from the server.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import socket
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from slotwise import config
from slotwise.payments import providers
from slotwise.payments.providers.base import (
    InvalidWebhook,
    PaymentState,
    ProviderError,
)
from slotwise.payments.providers.stripe import StripeProvider, from_stripe, to_stripe
from tests.payments.localstripe import (
    CARD_3DS,
    CARD_3DS_OTHER,
    CARD_DECLINED_WHEN_CHARGED,
    CARD_OK,
    LocalStripe,
)

stripe = StripeProvider()


def start(amount_minor: int = 2500, currency: str = "EUR", key: str = "payment-1"):
    return stripe.start_payment(
        amount_minor=amount_minor,
        currency=currency,
        description="Haircut, Friday 14:00",
        email="ann@example.com",
        metadata={"booking": "42"},
        idempotency_key=key,
    )


def paid(localstripe: LocalStripe, amount_minor: int = 2500) -> str:
    checkout = start(amount_minor)
    localstripe.pay(checkout.reference, CARD_OK)
    return checkout.reference


def saved_card(localstripe: LocalStripe, number: str) -> tuple[str, str]:
    """A card saved for later fees: (customer, payment method)."""
    setup = stripe.start_card_setup(
        name="Ann Lee", email="ann@example.com", metadata={"booking": "42"}, idempotency_key="s-1"
    )
    localstripe.save_card(setup.reference, number)
    saved = stripe.fetch(setup.reference)
    return saved.customer_reference, saved.method_reference


def charge(customer: str, method: str, key: str = "no-show-42", amount_minor: int = 1500):
    return stripe.charge_saved(
        customer_reference=customer,
        method_reference=method,
        amount_minor=amount_minor,
        currency="EUR",
        description="No-show fee",
        idempotency_key=key,
        metadata={"booking": "42"},
    )


# Setup


def test_stripe_is_a_registered_provider_that_saves_cards():
    assert isinstance(providers.get("stripe"), StripeProvider)
    assert StripeProvider.label == "Card (Stripe)"
    assert StripeProvider.online
    assert StripeProvider.saves_cards


def test_only_configured_with_keys_and_shows_only_the_publishable_one(settings):
    settings.SLOTWISE_STRIPE = None
    assert not stripe.configured()
    assert stripe.public_config() == {}

    settings.SLOTWISE_STRIPE = config.Stripe(
        secret_key="sk_test_secret", publishable_key="pk_test_public"
    )
    assert stripe.configured()
    assert stripe.public_config() == {"publishable_key": "pk_test_public"}


# Paying


def test_a_card_payment_is_read_back_as_paid(localstripe):
    checkout = start()

    assert checkout.reference.startswith("pi_")
    assert checkout.state == PaymentState.REQUIRES_PAYMENT
    assert checkout.client_secret.startswith(f"{checkout.reference}_secret_")
    asked = localstripe.get(f"/v1/payment_intents/{checkout.reference}")
    assert (asked["amount"], asked["currency"]) == (2500, "eur")
    assert asked["description"] == "Haircut, Friday 14:00"
    assert asked["receipt_email"] == "ann@example.com"

    localstripe.pay(checkout.reference, CARD_OK)
    payment = stripe.fetch(checkout.reference)

    assert payment.state == PaymentState.SUCCEEDED
    assert (payment.amount_minor, payment.received_minor, payment.refunded_minor) == (2500, 2500, 0)
    assert payment.currency == "EUR"
    assert payment.charge_reference.startswith("ch_")
    assert payment.method_reference.startswith("pm_")
    assert payment.failure == ""
    assert payment.metadata == {"booking": "42"}


def test_a_declined_card_leaves_the_payment_to_be_paid(localstripe):
    checkout = start()

    answer = localstripe.pay(checkout.reference, CARD_DECLINED_WHEN_CHARGED)
    payment = stripe.fetch(checkout.reference)

    assert answer["error"]["code"] == "card_declined"
    assert payment.state == PaymentState.REQUIRES_PAYMENT
    assert payment.failure == "Your card was declined."
    assert (payment.received_minor, payment.charge_reference) == (0, "")


@pytest.mark.parametrize("card", [CARD_3DS, CARD_3DS_OTHER])
def test_3d_secure_waits_for_the_customer_then_pays(localstripe, card):
    checkout = start()

    localstripe.pay(checkout.reference, card)
    assert stripe.fetch(checkout.reference).state == PaymentState.REQUIRES_ACTION

    localstripe.authenticate(checkout.reference, checkout.client_secret, success=True)
    payment = stripe.fetch(checkout.reference)
    assert payment.state == PaymentState.SUCCEEDED
    assert payment.received_minor == 2500


def test_failed_3d_secure_leaves_the_payment_to_be_paid(localstripe):
    checkout = start()
    localstripe.pay(checkout.reference, CARD_3DS)

    localstripe.authenticate(checkout.reference, checkout.client_secret, success=False)
    payment = stripe.fetch(checkout.reference)

    assert payment.state == PaymentState.REQUIRES_PAYMENT
    assert "failed authentication" in payment.failure
    assert payment.received_minor == 0


def test_zero_decimal_currencies_pass_unchanged(localstripe):
    checkout = start(5000, "JPY")
    asked = localstripe.get(f"/v1/payment_intents/{checkout.reference}")
    assert (asked["amount"], asked["currency"]) == (5000, "jpy")

    localstripe.pay(checkout.reference, CARD_OK)
    payment = stripe.fetch(checkout.reference)

    assert (payment.amount_minor, payment.received_minor, payment.currency) == (5000, 5000, "JPY")


def test_krona_is_counted_in_hundredths_by_stripe(localstripe):
    # ISK has no minor unit in ISO 4217, but Stripe's API keeps two decimals.
    checkout = start(4900, "ISK")
    assert localstripe.get(f"/v1/payment_intents/{checkout.reference}")["amount"] == 490_000

    localstripe.pay(checkout.reference, CARD_OK)
    stripe.refund(checkout.reference, amount_minor=900, idempotency_key="r", metadata={})
    payment = stripe.fetch(checkout.reference)

    assert (payment.amount_minor, payment.received_minor, payment.refunded_minor) == (
        4900,
        4900,
        900,
    )


def test_three_decimal_currencies_take_only_multiples_of_ten(localstripe):
    checkout = start(12_340, "KWD")
    assert localstripe.get(f"/v1/payment_intents/{checkout.reference}")["amount"] == 12_340

    with pytest.raises(ProviderError, match="multiples of 10") as refused:
        start(12_345, "KWD", key="payment-2")

    assert refused.value.permanent


@pytest.mark.parametrize(
    ("amount_minor", "currency", "for_stripe"),
    [
        (1050, "EUR", 1050),
        (500, "JPY", 500),
        (12_340, "KWD", 12_340),
        (49, "ISK", 4900),  # ISO 4217: no minor unit; Stripe: two decimals
        (150_000, "MGA", 1500),  # ISO 4217: two decimals; Stripe: none
    ],
)
def test_amounts_in_stripes_units_and_back(amount_minor, currency, for_stripe):
    assert to_stripe(amount_minor, currency) == for_stripe
    assert from_stripe(for_stripe, currency.lower()) == amount_minor


@pytest.mark.parametrize(("amount_minor", "currency"), [(12_345, "KWD"), (150_050, "MGA")])
def test_amounts_stripe_cannot_take_are_refused(amount_minor, currency):
    with pytest.raises(ProviderError) as refused:
        to_stripe(amount_minor, currency)

    assert refused.value.permanent
    assert refused.value.code == "amount_not_supported"


# Cancelling


def test_an_unpaid_payment_is_cancelled_and_cancelling_again_is_harmless(localstripe):
    checkout = start()

    assert stripe.cancel(checkout.reference).state == PaymentState.CANCELLED
    assert stripe.cancel(checkout.reference).state == PaymentState.CANCELLED
    assert stripe.fetch(checkout.reference).state == PaymentState.CANCELLED


def test_a_paid_payment_is_left_paid(localstripe):
    reference = paid(localstripe)

    payment = stripe.cancel(reference)

    assert payment.state == PaymentState.SUCCEEDED
    assert payment.received_minor == 2500


def test_a_card_setup_not_finished_is_cancelled(localstripe):
    setup = stripe.start_card_setup(name="", email="", metadata={}, idempotency_key="s-1")

    assert stripe.cancel(setup.reference).state == PaymentState.CANCELLED


# Refunds


def test_a_partial_refund_then_the_rest(localstripe):
    reference = paid(localstripe)

    first = stripe.refund(reference, amount_minor=1000, idempotency_key="r-1", metadata={})
    rest = stripe.refund(reference, amount_minor=1500, idempotency_key="r-2", metadata={})

    assert first.reference.startswith("re_")
    assert rest.reference != first.reference
    assert (first.amount_minor, first.state) == (1000, "succeeded")
    assert (rest.amount_minor, rest.state) == (1500, "succeeded")
    assert stripe.fetch(reference).refunded_minor == 2500


def test_a_retried_refund_is_found_not_made_twice(localstripe):
    reference = paid(localstripe)

    first = stripe.refund(
        reference, amount_minor=500, idempotency_key="refund-7", metadata={"reason": "late"}
    )
    again = stripe.refund(
        reference, amount_minor=500, idempotency_key="refund-7", metadata={"reason": "late"}
    )

    assert again == first
    assert stripe.fetch(reference).refunded_minor == 500
    [made] = localstripe.get(f"/v1/refunds?payment_intent={reference}")["data"]
    assert made["metadata"] == {"reason": "late", "idempotency_key": "refund-7"}


# Saved cards


def test_a_saved_card_pays_a_no_show_fee_once(localstripe):
    setup = stripe.start_card_setup(
        name="Ann Lee", email="ann@example.com", metadata={"booking": "42"}, idempotency_key="s-1"
    )
    assert setup.reference.startswith("seti_")
    assert setup.customer_reference.startswith("cus_")
    assert setup.client_secret.startswith(f"{setup.reference}_secret_")
    customer = localstripe.get(f"/v1/customers/{setup.customer_reference}")
    assert (customer["name"], customer["email"]) == ("Ann Lee", "ann@example.com")

    localstripe.save_card(setup.reference, CARD_OK)
    saved = stripe.fetch(setup.reference)
    assert saved.state == PaymentState.SUCCEEDED
    assert saved.customer_reference == setup.customer_reference
    assert saved.method_reference.startswith("pm_")

    fee = charge(saved.customer_reference, saved.method_reference)
    retried = charge(saved.customer_reference, saved.method_reference)

    assert fee.reference.startswith("pi_")
    assert (fee.amount_minor, fee.state) == (1500, "succeeded")
    assert retried == fee
    [made] = localstripe.get(f"/v1/payment_intents?customer={saved.customer_reference}")["data"]
    assert made["metadata"] == {"booking": "42", "idempotency_key": "no-show-42"}
    assert stripe.fetch(fee.reference).received_minor == 1500


def test_a_declined_saved_card_is_a_permanent_error_even_when_retried(localstripe):
    customer, method = saved_card(localstripe, CARD_DECLINED_WHEN_CHARGED)

    for _attempt in range(2):
        with pytest.raises(ProviderError) as declined:
            charge(customer, method)
        assert declined.value.permanent
        assert declined.value.code == "card_declined"
        assert str(declined.value) == "Your card was declined."

    assert len(localstripe.get(f"/v1/payment_intents?customer={customer}")["data"]) == 1


def test_a_saved_card_that_needs_the_customer_is_a_permanent_error(localstripe):
    customer, method = saved_card(localstripe, CARD_3DS)

    with pytest.raises(ProviderError) as refused:
        charge(customer, method)

    assert refused.value.permanent
    assert refused.value.code == "authentication_required"


# Errors


def test_an_unknown_payment_is_a_permanent_error(localstripe):
    with pytest.raises(ProviderError) as missing:
        stripe.fetch("pi_doesnotexist")

    assert missing.value.permanent


def test_stripe_unreachable_is_a_temporary_error_and_quick(settings):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    settings.SLOTWISE_STRIPE = config.Stripe(
        secret_key="sk_test_unreachable",
        publishable_key="pk_test_unreachable",
        api_url=f"http://127.0.0.1:{closed}",
    )
    started = time.monotonic()

    with pytest.raises(ProviderError) as unreachable:
        start()

    assert not unreachable.value.permanent
    assert unreachable.value.code == "unreachable"
    assert time.monotonic() - started < 5


def test_a_refused_key_is_a_temporary_error_that_names_the_setting_not_the_key(
    localstripe, settings
):
    # localstripe takes only sk_ keys; Stripe would refuse a revoked one the same way.
    settings.SLOTWISE_STRIPE = config.Stripe(
        secret_key="rk_test_refused", publishable_key="pk_test_x", api_url=localstripe.url
    )

    with pytest.raises(ProviderError) as refused:
        start()

    assert not refused.value.permanent
    assert "SLOTWISE_STRIPE_SECRET_KEY" in str(refused.value)
    assert "rk_test_refused" not in str(refused.value)


def test_without_settings_nothing_is_asked(settings):
    settings.SLOTWISE_STRIPE = None

    with pytest.raises(ProviderError) as unconfigured:
        start()

    assert unconfigured.value.permanent
    assert unconfigured.value.code == "not_configured"


# Webhooks

WEBHOOK_SECRET = "whsec_test_webhooks"


@pytest.fixture
def webhook_secret(settings) -> str:
    settings.SLOTWISE_STRIPE = config.Stripe(
        secret_key="sk_test_x", publishable_key="pk_test_x", webhook_secret=WEBHOOK_SECRET
    )
    return WEBHOOK_SECRET


def event(kind: str = "payment_intent.succeeded", thing: dict | None = None) -> bytes:
    thing = thing or {"id": "pi_123", "object": "payment_intent", "status": "succeeded"}
    return json.dumps(
        {
            "id": "evt_1",
            "object": "event",
            "type": kind,
            "created": 1_780_000_000,
            "data": {"object": thing},
        }
    ).encode()


def signed(body: bytes, secret: str = WEBHOOK_SECRET, at: float | None = None) -> dict[str, str]:
    """The Stripe-Signature header as Stripe makes it."""
    timestamp = int(time.time() if at is None else at)
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return {"Stripe-Signature": f"t={timestamp},v1={mac.hexdigest()}"}


def test_a_signed_webhook_is_read(webhook_secret):
    body = event()

    received = stripe.parse_webhook(body, signed(body))

    assert received.id == "evt_1"
    assert received.type == "payment_intent.succeeded"
    assert received.reference == "pi_123"
    assert received.created == datetime.fromtimestamp(1_780_000_000, tz=UTC)


@pytest.mark.parametrize(
    ("kind", "thing", "reference"),
    [
        ("setup_intent.succeeded", {"id": "seti_1", "object": "setup_intent"}, "seti_1"),
        ("charge.refunded", {"id": "ch_1", "object": "charge", "payment_intent": "pi_9"}, "pi_9"),
        ("refund.updated", {"id": "re_1", "object": "refund", "payment_intent": "pi_8"}, "pi_8"),
        ("customer.created", {"id": "cus_1", "object": "customer"}, ""),
    ],
)
def test_a_webhook_is_about_its_payment(webhook_secret, kind, thing, reference):
    body = event(kind, thing)

    assert stripe.parse_webhook(body, signed(body)).reference == reference


def test_the_signature_header_is_found_whatever_its_case(webhook_secret):
    body = event()
    headers = {"stripe-signature": signed(body)["Stripe-Signature"]}

    assert stripe.parse_webhook(body, headers).id == "evt_1"


def forged(body: bytes) -> dict[str, str]:
    header = signed(body)["Stripe-Signature"]
    return {"Stripe-Signature": header[:-4] + ("0000" if not header.endswith("0000") else "1111")}


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        (lambda body: forged(body), "does not match"),
        (lambda body: signed(body, secret="whsec_someone_else"), "does not match"),
        (lambda body: signed(body + b" "), "does not match"),
        (lambda body: {}, "missing"),
        (lambda body: {"Stripe-Signature": "v1=abc"}, "cannot be read"),
        (lambda body: signed(body, at=time.time() - 301), "more than 5 minutes old"),
    ],
    ids=["forged", "wrong-secret", "other-body", "no-header", "no-timestamp", "replayed"],
)
def test_a_webhook_not_signed_now_by_stripe_is_refused(webhook_secret, headers, reason):
    body = event()

    with pytest.raises(InvalidWebhook, match=reason):
        stripe.parse_webhook(body, headers(body))


def test_a_signed_body_that_is_not_an_event_is_refused(webhook_secret):
    body = b'{"not": "an event"}'

    with pytest.raises(InvalidWebhook, match="not a Stripe event"):
        stripe.parse_webhook(body, signed(body))


def test_no_webhooks_without_their_secret(settings):
    settings.SLOTWISE_STRIPE = config.Stripe(secret_key="sk_test_x", publishable_key="pk_test_x")
    body = event()

    with pytest.raises(InvalidWebhook, match="secret"):
        stripe.parse_webhook(body, signed(body))


class Deliveries:
    """A webhook endpoint on 127.0.0.1 that keeps what it is sent."""

    def __init__(self) -> None:
        self.received: queue.Queue[tuple[bytes, dict[str, str]]] = queue.Queue()
        deliveries = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                deliveries.received.put((body, dict(self.headers.items())))
                self.send_response(200)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/stripe"


@pytest.fixture
def deliveries() -> Iterator[Deliveries]:
    endpoint = Deliveries()
    thread = threading.Thread(target=endpoint.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield endpoint
    finally:
        endpoint.server.shutdown()
        endpoint.server.server_close()
        thread.join()


def test_a_webhook_localstripe_sends_is_verified(localstripe, deliveries):
    localstripe.register_webhook(
        deliveries.url, localstripe.webhook_secret, events=["payment_intent.succeeded"]
    )
    reference = paid(localstripe)

    # Sent a second after the payment; earlier tests' payments may still be on
    # their way, and must verify too.
    received = []
    while not any(event.reference == reference for event in received):
        body, headers = deliveries.received.get(timeout=10)
        received.append(stripe.parse_webhook(body, headers))

    [ours] = [event for event in received if event.reference == reference]
    assert ours.type == "payment_intent.succeeded"
    assert ours.id.startswith("evt_")
    assert abs(ours.created - datetime.now(UTC)).total_seconds() < 60
