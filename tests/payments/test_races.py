"""Money under concurrency: the webhook and the customer at once, a cancellation
during a payment. Real threads, real commits, on the database the tests run on."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connections
from django.utils import timezone

from slotwise.bookings import services
from slotwise.bookings.models import Booking
from slotwise.organizations.tenancy import tenant
from slotwise.payments import services as payments
from slotwise.payments.models import LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True)

VISA = "4242424242424242"
ADA = services.Customer(name="Ada", email="ada@example.com", time_zone="Europe/Paris")


@pytest.fixture
def held(make_org, make_resource, make_service, localstripe):
    """A held booking of a 50.00 EUR service paid in full, its payment opened."""
    org = make_org(payment_provider="stripe", currency="EUR")
    make_resource(org)
    service = make_service(org, price_minor=5000, payment_mode="full")
    start = (timezone.now() + timedelta(days=30)).replace(
        hour=9, minute=0, second=0, microsecond=0, tzinfo=UTC
    )
    with tenant(org):
        booking, _ = services.book(
            service, start=_weekday(start), customer=ADA, now=timezone.now(), hold=True
        )
        payment = payments.start_checkout(booking, timezone.now())
    return booking, payment


def _weekday(moment: datetime) -> datetime:
    while moment.weekday() >= 5:
        moment += timedelta(days=1)
    return moment


def together(*actions):
    """Run ``actions`` in threads released at the same moment; their errors."""
    barrier = threading.Barrier(len(actions))
    errors = []

    def run(action):
        try:
            barrier.wait()
            action()
        except Exception as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(action,)) for action in actions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return errors


def test_the_webhook_and_the_customer_confirming_at_once_record_one_charge(held, localstripe):
    booking, payment = held
    localstripe.pay(payment.reference, VISA)

    def confirm():
        with tenant(booking.organization_id):
            payments.confirm_checkout(Booking.objects.get(pk=booking.pk), timezone.now())

    def webhook():
        with tenant(booking.organization_id):
            payments.sync(payment, timezone.now())

    assert together(confirm, webhook, webhook) == []

    booking.refresh_from_db()
    assert booking.status == "confirmed"
    charges = LedgerEntry.objects.with_scopes_disabled().filter(kind="charge")
    assert [c.amount_minor for c in charges] == [5000]


def test_cancelling_while_the_payment_lands_never_keeps_the_money(held, localstripe):
    booking, payment = held
    localstripe.pay(payment.reference, VISA)

    def cancel():
        with tenant(booking.organization_id):
            services.cancel(Booking.objects.get(pk=booking.pk), by="customer", now=timezone.now())

    def webhook():
        with tenant(booking.organization_id):
            payments.sync(payment, timezone.now())

    errors = together(cancel, webhook)

    assert all(isinstance(e, services.InvalidTransition) for e in errors), errors
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    entries = LedgerEntry.objects.with_scopes_disabled()
    charged = sum(e.amount_minor for e in entries.filter(kind="charge", status="succeeded"))
    refunded = sum(e.amount_minor for e in entries.filter(kind="refund", status="succeeded"))
    # Whichever came first, a cancelled booking without a policy keeps nothing.
    assert (charged, refunded) == (5000, 5000)
