"""Paying when booking, end to end through the public API, against localstripe.

The customer's browser is played by :class:`~tests.payments.localstripe.LocalStripe`
(it pays the PaymentIntent the booking answered with); the worker's tasks
run as they are enqueued.
"""

from datetime import timedelta

import pytest

from slotwise.bookings import services
from slotwise.bookings.models import Booking
from slotwise.payments.models import EntryStatus, LedgerEntry, Payment
from tests.payments import flows
from tests.payments.flows import START, START_UTC, VISA, book, manage, paid, post, refunded

# Real commits: refunds and cancellations run after the change that causes them commits.
pytestmark = pytest.mark.django_db(transaction=True)

DECLINED = "4000000000000341"  # attaches, then the charge is declined
THREE_D_SECURE = "4000002760003184"
POLICY = {**flows.POLICY, "same_day_refund_percent": 0}


@pytest.fixture(autouse=True)
def clock(clock):
    return clock


@pytest.fixture
def paid_service(org, make_service):  # with the same-day rule
    return make_service(org, price_minor=5000, payment_mode="full", cancellation_policy=POLICY)


def test_a_paid_service_holds_the_slot_until_the_payment_succeeds(
    client, paid_service, localstripe
):
    answer = book(client, paid_service)
    assert answer["status"] == "held"
    payment = answer["payment"]
    assert payment["mode"] == "full"
    assert payment["due_minor"] == 5000
    assert payment["status"] == "requires_payment"
    checkout = payment["checkout"]
    assert checkout["publishable_key"] == localstripe.publishable_key
    intent = localstripe.get(f"/v1/payment_intents/{checkout['reference']}")
    assert (intent["amount"], intent["currency"]) == (5000, "eur")

    not_yet = post(client, manage(answer["manage_token"], "/confirm"))
    assert not_yet.status_code == 402
    assert not_yet.json()["type"] == "urn:slotwise:problem:payment-required"

    localstripe.pay(checkout["reference"], VISA)
    confirmed = post(client, manage(answer["manage_token"], "/confirm"))

    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "confirmed"
    assert confirmed.json()["payment"]["paid_minor"] == 5000
    [charge] = LedgerEntry.objects.with_scopes_disabled().all()
    assert (charge.kind, charge.status, charge.amount_minor) == ("charge", "succeeded", 5000)


def test_a_deposit_is_a_share_of_the_price_rounded_half_up(client, org, make_service, localstripe):
    service = make_service(org, price_minor=4999, payment_mode="deposit", deposit_percent=30)
    answer = book(client, service)
    assert answer["payment"]["due_minor"] == 1500  # 1499.7
    intent = localstripe.get(f"/v1/payment_intents/{answer['payment']['checkout']['reference']}")
    assert intent["amount"] == 1500


def test_zero_decimal_currencies_are_asked_for_in_whole_units(
    client, make_org, make_resource, make_service, localstripe
):
    org = make_org(payment_provider="stripe", currency="JPY")
    make_resource(org)
    service = make_service(org, price_minor=1001, payment_mode="deposit", deposit_percent=50)
    answer = book(client, service)
    intent = localstripe.get(f"/v1/payment_intents/{answer['payment']['checkout']['reference']}")
    assert (intent["amount"], intent["currency"]) == (501, "jpy")


def test_a_declined_card_keeps_the_hold_and_says_why(client, paid_service, localstripe):
    answer = book(client, paid_service)
    reference = answer["payment"]["checkout"]["reference"]
    localstripe.pay(reference, DECLINED)

    refused = post(client, manage(answer["manage_token"], "/confirm"))
    assert refused.status_code == 402
    assert refused.json()["payment_status"] == "requires_payment"
    assert "declined" in refused.json()["detail"].lower()
    booking = client.get(manage(answer["manage_token"])).json()
    assert booking["status"] == "held"
    assert "declined" in booking["payment"]["failure"].lower()
    assert booking["payment"]["checkout"]["client_secret"]  # the customer may try another card


def test_a_card_that_needs_authentication_confirms_once_authenticated(
    client, paid_service, localstripe
):
    answer = book(client, paid_service)
    checkout = answer["payment"]["checkout"]
    localstripe.pay(checkout["reference"], THREE_D_SECURE)

    waiting = post(client, manage(answer["manage_token"], "/confirm"))
    assert waiting.status_code == 402
    assert waiting.json()["payment_status"] == "requires_action"

    localstripe.authenticate(checkout["reference"], checkout["client_secret"])
    assert post(client, manage(answer["manage_token"], "/confirm")).json()["status"] == "confirmed"


def test_an_unpaid_hold_lapses_frees_the_slot_and_cancels_the_payment(
    client, clock, paid_service, localstripe
):
    answer = book(client, paid_service)
    reference = answer["payment"]["checkout"]["reference"]

    clock.shift(timedelta(minutes=11))
    # The next booking of the slot releases the lapsed hold, and takes the slot.
    again = book(client, paid_service)

    assert again["status"] == "held"
    first = client.get(manage(answer["manage_token"])).json()
    assert (first["status"], first["cancelled_by"]) == ("cancelled", "system")
    assert localstripe.get(f"/v1/payment_intents/{reference}")["status"] == "canceled"
    assert first["payment"]["status"] == "cancelled"


def test_a_payment_that_succeeds_after_its_hold_lapsed_is_refunded_in_full(
    client, clock, paid_service, localstripe
):
    answer = book(client, paid_service)
    reference = answer["payment"]["checkout"]["reference"]
    localstripe.pay(reference, VISA)  # paid, but slotwise hears of it too late
    clock.shift(timedelta(minutes=11))

    late = post(client, manage(answer["manage_token"], "/confirm"))

    assert late.status_code == 410
    assert "refunded in full" in late.json()["detail"]
    booking = client.get(manage(answer["manage_token"])).json()
    assert booking["status"] == "cancelled"
    assert booking["payment"]["paid_minor"] == 0
    entries = LedgerEntry.objects.with_scopes_disabled().order_by("pk")
    assert [(e.kind, e.status, e.amount_minor) for e in entries] == [
        ("charge", "succeeded", 5000),
        ("refund", "succeeded", 5000),
    ]
    assert refunded(localstripe, reference) == 5000


@pytest.mark.parametrize(
    ("before", "refund", "rule"),
    [
        (timedelta(hours=72), 5000, "tier"),
        (timedelta(hours=48), 5000, "tier"),  # exactly on the boundary: still 100 %
        (timedelta(hours=48) - timedelta(seconds=1), 2500, "tier"),
        (timedelta(hours=24), 2500, "tier"),
        (timedelta(hours=24) - timedelta(seconds=1), 0, "no-tier"),
    ],
)
def test_the_customer_sees_the_exact_refund_and_gets_it(
    client, clock, paid_service, localstripe, before, refund, rule
):
    answer = paid(client, localstripe, paid_service)
    clock.move_to(START_UTC - before)

    quote = client.get(manage(answer["manage_token"], "/cancellation")).json()
    assert (quote["refund_minor"], quote["paid_minor"], quote["rule"]) == (refund, 5000, rule)
    assert quote["refund"] == f"{refund // 100}.{refund % 100:02d} EUR"

    cancelled = post(
        client,
        manage(answer["manage_token"], "/cancel"),
        {"expected_refund_minor": quote["refund_minor"]},
    )
    assert cancelled.status_code == 200, cancelled.content
    assert cancelled.json()["payment"]["paid_minor"] == 5000 - refund
    refunds = LedgerEntry.objects.with_scopes_disabled().filter(kind="refund")
    expected = [("succeeded", refund)] if refund else []
    assert [(e.status, e.amount_minor) for e in refunds] == expected
    reference = Payment.objects.with_scopes_disabled().get().reference
    assert refunded(localstripe, reference) == refund


def test_the_quote_says_until_when_it_holds(client, clock, paid_service, localstripe):
    answer = paid(client, localstripe, paid_service)
    clock.move_to(START_UTC - timedelta(hours=30))
    quote = client.get(manage(answer["manage_token"], "/cancellation")).json()
    assert quote["refund_minor"] == 2500
    assert quote["valid_until"] == "2026-05-31T09:00:00Z"


def test_a_refund_that_changed_since_it_was_shown_cancels_nothing(
    client, clock, paid_service, localstripe
):
    answer = paid(client, localstripe, paid_service)
    clock.move_to(START_UTC - timedelta(hours=48))
    shown = client.get(manage(answer["manage_token"], "/cancellation")).json()["refund_minor"]
    clock.shift(timedelta(seconds=1))

    response = post(
        client, manage(answer["manage_token"], "/cancel"), {"expected_refund_minor": shown}
    )

    assert response.status_code == 409
    assert response.json()["type"] == "urn:slotwise:problem:refund-changed"
    assert response.json()["quote"]["refund_minor"] == 2500
    assert client.get(manage(answer["manage_token"])).json()["status"] == "confirmed"


def test_the_provider_cancelling_refunds_everything(client, clock, paid_service, localstripe):
    answer = paid(client, localstripe, paid_service)
    booking = Booking.objects.with_scopes_disabled().get()
    clock.move_to(START_UTC - timedelta(hours=1))
    from slotwise.organizations.tenancy import tenant

    with tenant(booking.organization_id):
        services.cancel(booking, by="staff", now=START_UTC - timedelta(hours=1), reason="Ill")

    [refund] = LedgerEntry.objects.with_scopes_disabled().filter(kind="refund")
    assert (refund.status, refund.amount_minor) == (EntryStatus.SUCCEEDED, 5000)
    assert answer["payment"]["paid_minor"] == 5000
    assert refunded(localstripe, Payment.objects.with_scopes_disabled().get().reference) == 5000


def test_editing_the_service_never_changes_a_booking_made_before(
    client, clock, paid_service, localstripe
):
    answer = paid(client, localstripe, paid_service)
    paid_service.cancellation_policy = {"tiers": [{"before_minutes": 0, "refund_percent": 0}]}
    paid_service.price_minor = 9900
    paid_service.save()
    clock.move_to(START_UTC - timedelta(hours=72))

    quote = client.get(manage(answer["manage_token"], "/cancellation")).json()

    assert quote["refund_minor"] == 5000


def test_the_cancellation_email_states_the_refund(client, clock, paid_service, localstripe):
    from slotwise.notifications.emails import build_email
    from slotwise.notifications.models import Message
    from slotwise.organizations.tenancy import tenant

    answer = paid(client, localstripe, paid_service)
    clock.move_to(START_UTC - timedelta(hours=30))
    post(client, manage(answer["manage_token"], "/cancel"))

    message = Message.objects.with_scopes_disabled().get(kind="cancellation")
    with tenant(message.organization_id):
        email = build_email(message)
    assert "25.00 EUR of the 50.00 EUR you paid is refunded" in email.body


def test_a_provider_that_cannot_be_reached_refuses_the_booking_and_frees_the_slot(
    client, paid_service, localstripe, settings
):
    from dataclasses import replace

    settings.SLOTWISE_STRIPE = replace(settings.SLOTWISE_STRIPE, api_url="http://127.0.0.1:9")
    response = post(
        client,
        "/api/v1/bookings",
        {
            "service_id": paid_service.pk,
            "start": START,
            "customer": {"name": "Ada", "email": "ada@example.com", "time_zone": "UTC"},
        },
    )

    assert response.status_code == 503
    assert response.json()["type"] == "urn:slotwise:problem:payments-unavailable"
    booking = Booking.objects.with_scopes_disabled().get()
    assert (booking.status, booking.allocations.count()) == ("cancelled", 0)


def test_a_customer_moves_a_booking_only_as_its_terms_allow(
    client, clock, org, make_service, localstripe
):
    service = make_service(
        org, cancellation_policy={"max_reschedules": 1, "reschedule_cutoff_minutes": 24 * 60}
    )
    answer = book(client, service)
    token = answer["manage_token"]

    moved = post(client, manage(token, "/reschedule"), {"start": "2026-06-01T11:00:00+01:00"})
    assert moved.status_code == 200, moved.content
    again = post(client, manage(token, "/reschedule"), {"start": "2026-06-01T12:00:00+01:00"})
    assert again.status_code == 409
    assert again.json()["type"] == "urn:slotwise:problem:reschedule-not-allowed"
    assert again.json()["refusal"] == "limit"


def test_card_on_file_charges_the_no_show_fee(client, clock, org, make_service, localstripe):
    from slotwise.organizations.tenancy import tenant

    service = make_service(
        org,
        price_minor=8000,
        payment_mode="card",
        cancellation_policy={"no_show_fee": {"percent": 50, "fixed_minor": 0}},
    )
    answer = book(client, service)
    assert answer["status"] == "held"
    assert answer["payment"]["mode"] == "card"
    localstripe.save_card(answer["payment"]["checkout"]["reference"], VISA)
    assert post(client, manage(answer["manage_token"], "/confirm")).json()["status"] == "confirmed"

    booking = Booking.objects.with_scopes_disabled().get()
    after = START_UTC + timedelta(minutes=30)
    clock.move_to(after)
    with tenant(booking.organization_id):
        services.mark(booking, "no_show", now=after)

    [fee] = LedgerEntry.objects.with_scopes_disabled().filter(kind="fee")
    assert (fee.status, fee.amount_minor, fee.reason) == ("succeeded", 4000, "no-show")
    charged = localstripe.get(f"/v1/payment_intents/{fee.reference}")
    assert (charged["amount"], charged["status"]) == (4000, "succeeded")


def test_card_on_file_charges_the_kept_share_of_a_late_cancellation(
    client, clock, org, make_service, localstripe
):
    service = make_service(org, price_minor=8000, payment_mode="card", cancellation_policy=POLICY)
    answer = book(client, service)
    localstripe.save_card(answer["payment"]["checkout"]["reference"], VISA)
    post(client, manage(answer["manage_token"], "/confirm"))
    clock.move_to(START_UTC - timedelta(hours=30))

    quote = client.get(manage(answer["manage_token"], "/cancellation")).json()
    assert (quote["refund_minor"], quote["charge_minor"]) == (0, 4000)
    post(client, manage(answer["manage_token"], "/cancel"))

    [fee] = LedgerEntry.objects.with_scopes_disabled().filter(kind="fee")
    assert (fee.status, fee.amount_minor, fee.reason) == ("succeeded", 4000, "late-cancellation")


def test_paying_at_the_venue_confirms_at_once_with_the_amount_due(
    client, make_org, make_resource, make_service
):
    org = make_org(payment_provider="venue")
    make_resource(org)
    service = make_service(org, price_minor=3000, payment_mode="full")

    answer = book(client, service)

    assert answer["status"] == "confirmed"
    assert (answer["payment"]["status"], answer["payment"]["due_minor"]) == ("due", 3000)
