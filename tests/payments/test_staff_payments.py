"""What staff see and do about money: a booking's ledger, money taken at the venue,
refunds and fees that failed, and the ledger as CSV for reconciliation.

Card payments go through localstripe; its charges are the truth the CSV's
totals are checked against.
"""

import csv
import io
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from slotwise.accounts.permissions import Role
from slotwise.audit.models import AuditEntry
from slotwise.bookings.models import Booking
from slotwise.organizations.services import issue_api_key
from slotwise.payments import tasks
from slotwise.payments.execution import MAX_ATTEMPTS
from slotwise.payments.models import EntryKind, EntryStatus, LedgerEntry, Payment
from tests.payments import flows
from tests.payments.flows import START, START_UTC, intent_of, post

pytestmark = pytest.mark.django_db(transaction=True)

UNREACHABLE = "http://127.0.0.1:9"  # nothing listens on the discard port
HEADER = [
    "created_at",
    "settled_at",
    "booking",
    "kind",
    "reason",
    "status",
    "amount",
    "currency",
    "provider",
    "reference",
]


@pytest.fixture(autouse=True)
def clock(clock):
    return clock


@pytest.fixture
def sign_in(make_member):
    """A client calling the staff API as ``who`` in ``org``: a role (a member's
    session) or ``key:<scope>`` (an API key with that scope)."""

    def sign_in(org, who):
        if who.startswith("key:"):
            _, key = issue_api_key(org, f"{who} key", scopes=[who.removeprefix("key:")])
            return Client(headers={"Authorization": f"Bearer {key}"})
        client = Client()
        client.force_login(make_member(org, who, mfa=who in (Role.OWNER, Role.ADMIN)))
        return client

    return sign_in


def book(client, service, start=START):
    """A booking through the public API: its answer, and the booking."""
    return flows.book(client, service, start), Booking.objects.with_scopes_disabled().latest("pk")


def paid(client, localstripe, service, start=START):
    """A booking of ``service`` paid with a Visa card and confirmed, and the booking."""
    answer = flows.paid(client, localstripe, service, start)
    return answer, Booking.objects.with_scopes_disabled().latest("pk")


def refunded(localstripe, booking):
    return flows.refunded(localstripe, intent_of(booking))


def cancel(client, answer):
    """The customer cancels."""
    response = post(client, f"/api/v1/bookings/manage/{answer['manage_token']}/cancel")
    assert response.status_code == 200, response.content


def the_refund(booking):
    return LedgerEntry.objects.with_scopes_disabled().get(booking=booking, kind=EntryKind.REFUND)


# A booking's money


def test_staff_see_a_bookings_payments_ledger_and_what_cancelling_would_refund(
    client, clock, org, paid_service, localstripe, sign_in
):
    _, booking = paid(client, localstripe, paid_service)
    clock.move_to(START_UTC - timedelta(hours=30))

    response = sign_in(org, "key:read").get(f"/api/v1/staff/bookings/{booking.pk}/payments")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["paid_minor"], body["currency"]) == (5000, "EUR")
    [payment] = body["payments"]
    assert payment["reference"].startswith("pi_")
    assert (payment["provider"], payment["status"], payment["amount_minor"]) == (
        "stripe",
        "succeeded",
        5000,
    )
    [charge] = body["ledger"]
    assert (charge["kind"], charge["status"], charge["amount_minor"]) == (
        "charge",
        "succeeded",
        5000,
    )
    assert charge["reference"].startswith("ch_")
    assert body["customer_cancellation"] == {
        "refund_minor": 2500,
        "refund": "25.00 EUR",
        "charge_minor": 0,
        "paid_minor": 5000,
        "currency": "EUR",
        "percent": 50,
        "rule": "tier",
        "valid_until": "2026-05-31T09:00:00Z",
    }


def test_money_received_at_the_venue_settles_what_is_due(
    client, make_org, make_resource, make_service, sign_in
):
    org = make_org(payment_provider="venue")
    make_resource(org)
    answer, booking = book(client, make_service(org, price_minor=3000, payment_mode="full"))
    assert (answer["status"], answer["payment"]["status"]) == ("confirmed", "due")
    admin = sign_in(org, Role.ADMIN)
    received = f"/api/v1/staff/bookings/{booking.pk}/payments/received"
    money = f"/api/v1/staff/bookings/{booking.pk}/payments"

    part = post(admin, received, {"amount_minor": 1000, "note": "Receipt 17"})

    assert part.status_code == 201, part.content
    entry = part.json()
    assert (entry["kind"], entry["status"], entry["provider"]) == ("charge", "succeeded", "venue")
    assert (entry["amount_minor"], entry["currency"], entry["reference"]) == (
        1000,
        "GBP",
        "Receipt 17",
    )
    after_part = admin.get(money).json()
    assert (after_part["paid_minor"], after_part["payments"][0]["status"]) == (1000, "due")

    assert post(admin, received, {"amount_minor": 2000}).status_code == 201

    settled = admin.get(money).json()
    assert (settled["paid_minor"], settled["payments"][0]["status"]) == (3000, "succeeded")
    assert [e["amount_minor"] for e in settled["ledger"]] == [1000, 2000]
    logged = AuditEntry.objects.filter(action="payment.received").order_by("pk")
    assert [(e.target_id, e.data["amount_minor"]) for e in logged] == [
        (str(booking.pk), 1000),
        (str(booking.pk), 2000),
    ]
    assert all(e.actor.startswith("user:") for e in logged)


@pytest.mark.parametrize("amount", [0, -100])
def test_nothing_is_received_that_is_not_money(client, org, make_service, sign_in, amount):
    _, booking = book(client, make_service(org, price_minor=0))
    response = post(
        sign_in(org, Role.OWNER),
        f"/api/v1/staff/bookings/{booking.pk}/payments/received",
        {"amount_minor": amount},
    )
    assert response.status_code == 422
    assert not LedgerEntry.objects.with_scopes_disabled().exists()


# Who may


@pytest.fixture
def venue_world(client, make_org, make_resource, make_service):
    """A booking paid at the venue, and a refund of it that failed."""
    org = make_org(payment_provider="venue")
    make_resource(org)
    _, booking = book(client, make_service(org, price_minor=3000, payment_mode="full"))
    payment = Payment.objects.with_scopes_disabled().get(booking=booking)
    failed = LedgerEntry.objects.create(
        organization=org,
        booking=booking,
        payment=payment,
        kind=EntryKind.REFUND,
        status=EntryStatus.FAILED,
        amount_minor=500,
        currency="GBP",
        provider="venue",
        reason="cancellation",
        idempotency_key="test-failed-refund",
        attempts=1,
        last_error="The till was closed.",
    )
    return org, booking, failed


def staff_operations(booking, entry):
    return [
        ("post", f"/api/v1/staff/bookings/{booking.pk}/payments/received", {"amount_minor": 700}),
        ("get", "/api/v1/staff/payments/attention", None),
        ("post", f"/api/v1/staff/payments/entries/{entry.pk}/retry", None),
        ("get", "/api/v1/staff/payments/export?start=2026-05-01&end=2026-05-31", None),
    ]


@pytest.mark.parametrize("who", [Role.STAFF, Role.VIEWER, "key:read", "key:write"])
def test_only_those_who_manage_payments_touch_money(venue_world, sign_in, who):
    org, booking, failed = venue_world
    caller = sign_in(org, who)

    for method, path, data in staff_operations(booking, failed):
        if method == "post":
            response = post(caller, path, data)
        else:
            response = caller.get(path)
        assert response.status_code == 403, (path, response.content)
        assert response.json()["type"] == "urn:slotwise:problem:forbidden"

    failed.refresh_from_db()
    assert failed.status == EntryStatus.FAILED
    assert LedgerEntry.objects.with_scopes_disabled().count() == 1


@pytest.mark.parametrize("who", [Role.OWNER, Role.ADMIN, "key:payments:manage"])
def test_owners_admins_and_payment_keys_manage_money(venue_world, sign_in, who):
    org, booking, failed = venue_world
    caller = sign_in(org, who)
    received, attention, retry, export = staff_operations(booking, failed)

    assert post(caller, received[1], received[2]).status_code == 201
    listed = caller.get(attention[1])
    assert listed.status_code == 200
    assert [(e["id"], e["last_error"]) for e in listed.json()] == [
        (failed.pk, "The till was closed.")
    ]
    retried = post(caller, retry[1])
    assert retried.status_code == 202, retried.content
    assert (retried.json()["status"], retried.json()["attempts"]) == ("succeeded", 1)
    assert caller.get(attention[1]).json() == []
    exported = caller.get(export[1])
    assert exported.status_code == 200
    assert exported["Content-Type"] == "text/csv; charset=utf-8"


def test_another_organizations_entries_are_not_found(venue_world, make_org, sign_in):
    _, _, failed = venue_world
    stranger = sign_in(make_org(), Role.OWNER)

    assert stranger.get("/api/v1/staff/payments/attention").json() == []
    response = post(stranger, f"/api/v1/staff/payments/entries/{failed.pk}/retry")
    assert response.status_code == 404
    failed.refresh_from_db()
    assert failed.status == EntryStatus.FAILED


def test_only_a_failed_entry_is_retried(venue_world, sign_in):
    org, _, failed = venue_world
    LedgerEntry.objects.filter(pk=failed.pk).update(status=EntryStatus.SUCCEEDED)

    response = post(sign_in(org, Role.OWNER), f"/api/v1/staff/payments/entries/{failed.pk}/retry")

    assert response.status_code == 409
    assert response.json()["type"] == "urn:slotwise:problem:invalid-transition"


# Refunds that fail


def cancelled_while_stripe_is_down(client, clock, settings, localstripe, service):
    """A paid booking cancelled 72 hours ahead (a full refund) while Stripe cannot be
    reached: the booking, the Stripe settings to restore, and its pending refund."""
    answer, booking = paid(client, localstripe, service)
    account = settings.SLOTWISE_STRIPE
    clock.move_to(START_UTC - timedelta(hours=72))
    settings.SLOTWISE_STRIPE = replace(account, api_url=UNREACHABLE)
    cancel(client, answer)
    return booking, account, the_refund(booking)


def test_a_refund_stripe_cannot_take_now_is_retried_later(
    client, clock, settings, paid_service, localstripe
):
    booking, account, refund = cancelled_while_stripe_is_down(
        client, clock, settings, localstripe, paid_service
    )

    assert (refund.status, refund.amount_minor, refund.attempts) == ("pending", 5000, 1)
    assert refund.next_attempt_at == START_UTC - timedelta(hours=72) + timedelta(minutes=1)
    assert refund.last_error == "Stripe could not be reached."
    settings.SLOTWISE_STRIPE = account
    clock.shift(timedelta(seconds=59))
    assert tasks.sweep.call() == 0  # not due yet
    assert refunded(localstripe, booking) == 0

    clock.shift(timedelta(seconds=1))
    assert tasks.sweep.call() == 1

    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.last_error) == ("succeeded", 2, "")
    assert refund.reference.startswith("re_")
    assert refunded(localstripe, booking) == 5000
    assert not AuditEntry.objects.filter(action="payment.refund_failed").exists()


def test_a_refund_is_given_up_after_the_last_attempt_and_staff_retry_it(
    client, clock, settings, org, paid_service, localstripe, sign_in
):
    booking, account, refund = cancelled_while_stripe_is_down(
        client, clock, settings, localstripe, paid_service
    )
    # As if every attempt but the last had failed already.
    LedgerEntry.objects.filter(pk=refund.pk).update(attempts=MAX_ATTEMPTS - 1)
    clock.shift(timedelta(hours=1))

    assert tasks.sweep.call() == 1

    refund.refresh_from_db()
    assert (refund.status, refund.attempts, refund.next_attempt_at) == (
        "failed",
        MAX_ATTEMPTS,
        None,
    )
    [logged] = AuditEntry.objects.filter(action="payment.refund_failed")
    assert (logged.actor, logged.target_id) == ("system", str(booking.pk))
    assert logged.data["entry"] == refund.pk
    manager = sign_in(org, "key:payments:manage")
    [listed] = manager.get("/api/v1/staff/payments/attention").json()
    assert (listed["id"], listed["status"]) == (refund.pk, "failed")
    assert tasks.sweep.call() == 0  # failed entries wait for a person

    settings.SLOTWISE_STRIPE = account
    retried = post(manager, f"/api/v1/staff/payments/entries/{refund.pk}/retry")

    assert retried.status_code == 202, retried.content
    assert (retried.json()["status"], retried.json()["attempts"]) == ("succeeded", 1)
    assert refunded(localstripe, booking) == 5000
    assert manager.get("/api/v1/staff/payments/attention").json() == []
    assert AuditEntry.objects.filter(action="payment.refund_retried").count() == 1


def test_a_refund_refused_for_good_fails_at_once_and_can_be_retried(
    client, clock, settings, org, paid_service, localstripe, sign_in
):
    answer, booking = paid(client, localstripe, paid_service)
    account = settings.SLOTWISE_STRIPE
    clock.move_to(START_UTC - timedelta(hours=72))
    settings.SLOTWISE_STRIPE = None  # Stripe taken out of the deployment: no retrying helps

    cancel(client, answer)

    refund = the_refund(booking)
    assert (refund.status, refund.attempts) == ("failed", 1)
    assert "not configured" in refund.last_error
    assert AuditEntry.objects.filter(action="payment.refund_failed").count() == 1
    owner = sign_in(org, Role.OWNER)
    assert [e["id"] for e in owner.get("/api/v1/staff/payments/attention").json()] == [refund.pk]
    assert owner.get(f"/api/v1/staff/bookings/{booking.pk}/payments").json()["paid_minor"] == 5000

    settings.SLOTWISE_STRIPE = account
    retried = post(owner, f"/api/v1/staff/payments/entries/{refund.pk}/retry")

    assert retried.status_code == 202, retried.content
    assert retried.json()["status"] == "succeeded"
    assert refunded(localstripe, booking) == 5000
    assert owner.get(f"/api/v1/staff/bookings/{booking.pk}/payments").json()["paid_minor"] == 0


# The ledger as CSV


def export(caller, start, end):
    return caller.get(f"/api/v1/staff/payments/export?start={start}&end={end}")


def rows(response):
    assert response.status_code == 200, response.content
    return list(csv.reader(io.StringIO(response.content.decode())))


def totals(table):
    """The total lines, by label: (amount, currency)."""
    return {row[3]: (row[6], row[7]) for row in table[1:] if not row[2]}


def test_the_exports_net_is_what_stripe_holds_of_the_customers_money(
    client, clock, org, paid_service, localstripe, sign_in
):
    starts = [START, "2026-06-01T11:00:00+01:00", "2026-06-01T14:00:00+01:00"]
    booked = [paid(client, localstripe, paid_service, start) for start in starts]
    clock.move_to(START_UTC - timedelta(hours=30))
    cancel(client, booked[0][0])  # 50 % back
    manager = sign_in(org, "key:payments:manage")

    response = export(manager, "2026-05-01", "2026-05-31")

    assert response["Content-Disposition"] == (
        f'attachment; filename="{org.slug}-ledger-2026-05-01-2026-05-31.csv"'
    )
    table = rows(response)
    assert table[0] == HEADER
    entries = [row for row in table[1:] if row[2]]
    assert [(row[2], row[3], row[5], row[6]) for row in entries] == [
        (str(booked[0][1].pk), "charge", "succeeded", "50.00"),
        (str(booked[1][1].pk), "charge", "succeeded", "50.00"),
        (str(booked[2][1].pk), "charge", "succeeded", "50.00"),
        (str(booked[0][1].pk), "refund", "succeeded", "-25.00"),
    ]
    assert entries[-1][4] == "cancellation"
    assert entries[-1][9].startswith("re_")
    intents = set(Payment.objects.with_scopes_disabled().values_list("reference", flat=True))
    charges = [
        charge
        for charge in localstripe.get("/v1/charges?limit=100")["data"]
        if charge["payment_intent"] in intents
    ]
    assert len(charges) == 3
    held = sum(charge["amount"] - charge["amount_refunded"] for charge in charges)
    assert held == 12500
    assert totals(table) == {
        "total charged": ("150.00", "EUR"),
        "total refunded": ("-25.00", "EUR"),
        "net": ("125.00", "EUR"),
    }
    # Before the refund was made:
    assert totals(rows(export(manager, "2026-05-01", "2026-05-30")))["net"] == ("150.00", "EUR")


def test_the_export_writes_amounts_in_the_currencys_own_unit_and_days_in_its_zone(
    client, clock, make_org, make_resource, make_service, sign_in
):
    org = make_org(payment_provider="venue", currency="JPY", time_zone="Asia/Tokyo")
    make_resource(org)
    _, booking = book(client, make_service(org, price_minor=5000, payment_mode="full"))
    manager = sign_in(org, "key:payments:manage")
    received = f"/api/v1/staff/bookings/{booking.pk}/payments/received"
    post(manager, received, {"amount_minor": 2000, "note": '=HYPERLINK("http://x.example")'})
    clock.move_to(datetime(2026, 5, 1, 15, 30, tzinfo=UTC))  # 00:30 on 2 May in Tokyo
    post(manager, received, {"amount_minor": 3000, "note": "+81 cash"})

    first, second = (
        rows(export(manager, "2026-05-01", "2026-05-01")),
        rows(export(manager, "2026-05-02", "2026-05-02")),
    )

    assert [(row[6], row[7], row[9]) for row in first[1:] if row[2]] == [
        ("2000", "JPY", '\'=HYPERLINK("http://x.example")'),
    ]
    assert totals(first)["net"] == ("2000", "JPY")
    assert [(row[6], row[9]) for row in second[1:] if row[2]] == [("3000", "'+81 cash")]
    assert totals(second) == {
        "total charged": ("3000", "JPY"),
        "total refunded": ("0", "JPY"),
        "net": ("3000", "JPY"),
    }


def test_an_export_of_no_entries_is_the_header_alone(org, sign_in):
    assert rows(export(sign_in(org, Role.OWNER), "2026-05-01", "2026-05-31")) == [HEADER]


@pytest.mark.parametrize(
    ("start", "end", "status"),
    [
        ("2026-05-02", "2026-05-01", 400),  # end before start
        ("2025-05-01", "2026-05-02", 400),  # 367 days
        ("2025-05-02", "2026-05-02", 200),  # 366 days
        ("2026-05-01", "2026-05-01", 200),  # one day
        ("9999-12-31", "9999-12-31", 400),  # no midnight after it
        ("2026-05-01", "tomorrow", 422),
    ],
)
def test_an_export_covers_one_day_to_366(org, sign_in, start, end, status):
    response = export(sign_in(org, "key:payments:manage"), start, end)

    assert response.status_code == status, response.content
    if status == 400:
        assert response.json()["type"] == "urn:slotwise:problem:invalid-range"
