"""Stripe's webhooks, signed as Stripe signs them, against localstripe.

A webhook only tells slotwise which payment to look at: the payment is re-read
from localstripe, so what the event's body says of it is never trusted. The
bodies here are Stripe events signed with the endpoint's secret
(``Stripe-Signature: t=<unix time>,v1=<HMAC-SHA256 of "<t>.<body>">``).
"""

import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone
from prometheus_client import REGISTRY

from slotwise.audit.models import AuditEntry
from slotwise.bookings import services
from slotwise.bookings.models import Booking
from slotwise.organizations.tenancy import tenant
from slotwise.payments.models import LedgerEntry, Payment, ProviderEvent

pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
START = "2026-06-01T10:00:00+01:00"
VISA = "4242424242424242"
STRIPE_HOOK = "/api/v1/payments/webhooks/stripe"
INVALID_WEBHOOK = "urn:slotwise:problem:invalid-webhook"
QUEUED_ONLY = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}

_event_ids = count(1)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def service(make_org, make_resource, make_service):
    org = make_org(payment_provider="stripe", currency="EUR")
    make_resource(org)
    return make_service(org, price_minor=5000, payment_mode="full")


def book(client, service):
    """A booking of ``service`` through the public API: held, its payment open."""
    response = client.post(
        "/api/v1/bookings",
        {
            "service_id": service.pk,
            "start": START,
            "customer": {"name": "Ada", "email": "ada@example.com", "time_zone": "UTC"},
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    answer = response.json()
    assert answer["status"] == "held"
    return answer


def intent_of(answer):
    return answer["payment"]["checkout"]["reference"]


def seen(client, answer):
    """The booking as its customer sees it now."""
    return client.get(f"/api/v1/bookings/manage/{answer['manage_token']}").json()


def event(intent_id, kind="payment_intent.succeeded", **intent):
    """A Stripe event about the PaymentIntent ``intent_id``, made now; its body."""
    created = int(time.time())
    return json.dumps(
        {
            "id": f"evt_test_{next(_event_ids)}",
            "object": "event",
            "api_version": "2024-06-20",
            "type": kind,
            "created": created,
            "livemode": False,
            "data": {"object": {"id": intent_id, "object": "payment_intent", **intent}},
        }
    ).encode()


def signed(body, secret, at=None):
    """The ``Stripe-Signature`` header Stripe sends with ``body`` at ``at`` (default now)."""
    at = int(time.time()) if at is None else at
    digest = hmac.new(secret.encode(), f"{at}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={at},v1={digest}"


def deliver(client, body, signature, path=STRIPE_HOOK):
    return client.post(
        path, body, content_type="application/json", headers={"Stripe-Signature": signature}
    )


def ledger():
    return [
        (entry.kind, entry.status, entry.amount_minor, entry.reason)
        for entry in LedgerEntry.objects.with_scopes_disabled().order_by("pk")
    ]


def test_the_webhook_alone_confirms_a_paid_booking(client, service, localstripe):
    answer = book(client, service)
    intent = localstripe.pay(intent_of(answer), VISA)
    body = event(intent["id"])

    response = deliver(client, body, signed(body, localstripe.webhook_secret))

    assert response.status_code == 200, response.content
    assert response.json() == {"status": "handled"}
    booking = seen(client, answer)
    assert booking["status"] == "confirmed"
    assert (booking["payment"]["status"], booking["payment"]["paid_minor"]) == ("succeeded", 5000)
    [charge] = LedgerEntry.objects.with_scopes_disabled().all()
    assert (charge.kind, charge.status, charge.amount_minor) == ("charge", "succeeded", 5000)
    assert charge.reference == intent["latest_charge"]["id"]


def test_an_event_delivered_twice_is_handled_once(client, service, localstripe, settings):
    from dataclasses import replace

    answer = book(client, service)
    localstripe.pay(intent_of(answer), VISA)
    body = event(intent_of(answer))
    assert deliver(client, body, signed(body, localstripe.webhook_secret)).json() == {
        "status": "handled"
    }
    # Were the repeat handled again, the payment would be re-read from a
    # Stripe that no longer answers, and the answer would be 503.
    settings.SLOTWISE_STRIPE = replace(settings.SLOTWISE_STRIPE, api_url="http://127.0.0.1:9")

    again = deliver(client, body, signed(body, localstripe.webhook_secret))

    assert again.status_code == 200, again.content
    assert again.json() == {"status": "duplicate"}
    assert ledger() == [("charge", "succeeded", 5000, "full")]
    assert ProviderEvent.objects.count() == 1


def test_a_failure_arriving_after_the_success_changes_nothing(client, clock, service, localstripe):
    answer = book(client, service)
    reference = intent_of(answer)
    # Stripe does not promise order: an event about an earlier failed attempt
    # may come after the one about the success.
    failed = event(
        reference,
        "payment_intent.payment_failed",
        status="requires_payment_method",
        last_payment_error={"message": "Your card was declined."},
    )
    clock.shift(timedelta(seconds=30))
    localstripe.pay(reference, VISA)
    succeeded = event(reference, status="succeeded")

    first = deliver(client, succeeded, signed(succeeded, localstripe.webhook_secret))
    late = deliver(client, failed, signed(failed, localstripe.webhook_secret))

    assert (first.json(), late.json()) == ({"status": "handled"}, {"status": "handled"})
    booking = seen(client, answer)
    assert booking["status"] == "confirmed"
    assert (booking["payment"]["status"], booking["payment"]["failure"]) == ("succeeded", "")
    assert ledger() == [("charge", "succeeded", 5000, "full")]
    assert ProviderEvent.objects.count() == 2


def test_what_an_event_says_of_the_payment_is_not_believed(client, service, localstripe):
    answer = book(client, service)
    body = event(intent_of(answer), status="succeeded", amount_received=5000)

    response = deliver(client, body, signed(body, localstripe.webhook_secret))

    assert response.json() == {"status": "handled"}
    booking = seen(client, answer)
    assert (booking["status"], booking["payment"]["status"]) == ("held", "requires_payment")
    assert ledger() == []


@pytest.mark.parametrize(
    ("age", "status"),
    [
        (timedelta(minutes=5), 200),  # Stripe's tolerance, included
        (timedelta(minutes=5, seconds=1), 400),
        (timedelta(days=1), 400),
    ],
)
def test_a_signature_older_than_5_minutes_is_taken_for_a_replay(
    client, service, localstripe, age, status
):
    answer = book(client, service)
    localstripe.pay(intent_of(answer), VISA)
    body = event(intent_of(answer))
    at = int(time.time() - age.total_seconds())

    response = deliver(client, body, signed(body, localstripe.webhook_secret, at=at))

    assert response.status_code == status, response.content
    if status == 400:
        assert response.json()["type"] == INVALID_WEBHOOK
        assert "5 minutes" in response.json()["detail"]
        assert seen(client, answer)["status"] == "held"
        assert (ledger(), ProviderEvent.objects.count()) == ([], 0)
    else:
        assert seen(client, answer)["status"] == "confirmed"


@pytest.mark.parametrize(
    ("signature", "reason"),
    [
        (lambda body: signed(body, "whsec_someone_else"), "The signature does not match."),
        (lambda body: signed(body + b" ", "whsec_localstripe"), "The signature does not match."),
        (lambda body: "v1=0123", "The Stripe-Signature header cannot be read."),
        (lambda body: "", "The Stripe-Signature header is missing."),
    ],
    ids=["other secret", "other body", "unreadable", "missing"],
)
def test_a_forged_webhook_is_refused_and_logged(client, service, localstripe, signature, reason):
    assert localstripe.webhook_secret == "whsec_localstripe"
    answer = book(client, service)
    localstripe.pay(intent_of(answer), VISA)
    body = event(intent_of(answer))
    failures = ("slotwise_payment_webhook_failures_total", {"provider": "stripe"})
    before = REGISTRY.get_sample_value(*failures) or 0

    response = deliver(client, body, signature(body))

    assert response.status_code == 400
    assert (response.json()["type"], response.json()["detail"]) == (INVALID_WEBHOOK, reason)
    assert REGISTRY.get_sample_value(*failures) == before + 1
    [entry] = AuditEntry.objects.filter(action="payment.webhook_rejected")
    assert (entry.actor, entry.organization_id) == ("anonymous", None)
    assert entry.data == {"provider": "stripe", "reason": reason}
    assert seen(client, answer)["status"] == "held"
    assert (ledger(), ProviderEvent.objects.count()) == ([], 0)


def test_an_event_about_a_payment_slotwise_did_not_make_is_ignored(client, localstripe):
    body = event("pi_someone_elses")

    response = deliver(client, body, signed(body, localstripe.webhook_secret))

    assert response.status_code == 200
    assert response.json() == {"status": "ignored"}
    assert list(ProviderEvent.objects.values_list("type", "reference")) == [
        ("payment_intent.succeeded", "pi_someone_elses")
    ]


def test_an_unknown_provider_is_not_found(client, localstripe):
    body = event("pi_whatever")

    response = deliver(
        client,
        body,
        signed(body, localstripe.webhook_secret),
        path="/api/v1/payments/webhooks/paypal",
    )

    assert response.status_code == 404
    assert response.json()["type"] == "urn:slotwise:problem:not-found"
    assert not AuditEntry.objects.filter(action="payment.webhook_rejected").exists()


@pytest.mark.parametrize(
    ("released", "reason"),
    [
        # The hold was released: the worker had not yet cancelled the payment
        # with Stripe (its tasks only queued), so the customer's page could pay.
        (True, "late-payment"),
        # Nothing released it yet: the payment finds it lapsed, and releases it.
        (False, "cancellation"),
    ],
    ids=["released", "lapsed"],
)
def test_a_payment_made_after_its_hold_lapsed_is_refunded_in_full(
    client, clock, service, localstripe, released, reason
):
    answer = book(client, service)
    reference = intent_of(answer)
    clock.shift(timedelta(minutes=11))
    if released:
        booking = Booking.objects.with_scopes_disabled().get()
        with override_settings(TASKS=QUEUED_ONLY), tenant(booking.organization_id):
            assert services.release_expired_holds(timezone.now()) == 1
        assert Payment.objects.with_scopes_disabled().get().status == "cancelling"
    intent = localstripe.pay(reference, VISA)
    assert intent["status"] == "succeeded"
    assert ledger() == []
    body = event(reference)

    response = deliver(client, body, signed(body, localstripe.webhook_secret))

    assert response.json() == {"status": "handled"}
    after = seen(client, answer)
    assert (after["status"], after["cancelled_by"]) == ("cancelled", "system")
    assert (after["payment"]["status"], after["payment"]["paid_minor"]) == ("succeeded", 0)
    assert ledger() == [
        ("charge", "succeeded", 5000, "full"),
        ("refund", "succeeded", 5000, reason),
    ]
    charge = localstripe.get(f"/v1/charges/{intent['latest_charge']['id']}")
    assert (charge["amount"], charge["amount_refunded"]) == (5000, 5000)
