"""A customer books a paid service in a real browser and pays on the payment page.

Stripe.js is localstripe's stand-in (``/js.stripe.com/v3/``): its Elements are
plain inputs, and its ``confirmCardPayment`` asks for 3-D Secure and then only
calls ``_authenticate``, which localstripe accepts for an intent whose card was
already set and confirmed with the secret key; it never sends the typed card.
Stripe's own ``confirmCardPayment`` sends the card and confirms; here the test
does that part when the stand-in calls ``_authenticate``, with the number the
customer typed into the stand-in's card field.
"""

from __future__ import annotations

import json
import re

import pytest

from slotwise.bookings.models import Booking, BookingStatus
from slotwise.payments.models import LedgerEntry, Payment
from tests.e2e.conftest import assert_accessible, describe_violations, screenshot
from tests.e2e.test_customer_flow import choose_free_day
from tests.payments.conftest import localstripe, localstripe_url  # noqa: F401 (fixtures)
from tests.payments.flows import POLICY

VISA = "4242 4242 4242 4242"


@pytest.fixture
def studio(make_org, make_resource, make_service):
    org = make_org(name="Harbour Studio", slug="harbour", payment_provider="stripe", currency="EUR")
    make_resource(org, name="Amara")
    service = make_service(
        org,
        name="Massage",
        slug="massage",
        price_minor=6000,
        payment_mode="full",
        cancellation_policy=POLICY,
    )
    return org, service


@pytest.mark.usefixtures("studio")
def test_a_customer_pays_with_a_test_card_and_is_booked(
    localstripe,  # noqa: F811 (the fixture imported above)
    settings,
    page,
    no_page_errors,
):
    settings.SLOTWISE_STRIPE_JS_URL = f"{localstripe.url}/js.stripe.com/v3/"

    page.goto("/book/harbour/massage/")
    choose_free_day(page)
    page.locator("#slot-day a[data-start]").first.click()
    page.get_by_label("Your name").fill("Hana Sato")
    page.get_by_label("Email").fill("hana@example.com")
    page.get_by_role("button", name="Continue to payment").click()
    page.wait_for_url(re.compile(r"/pay/[^/]+$"))

    booking = Booking.objects.get(customer_email="hana@example.com")
    assert booking.status == BookingStatus.HELD
    payment = Payment.objects.get(booking=booking)
    form = page.locator("#card-payment")
    assert form.get_attribute("data-client-secret") == payment.client_secret
    assert page.locator(".due").inner_text() == "60.00 EUR"
    number = page.locator("#card-element input[placeholder=number]")
    number.wait_for()
    screenshot(page, "pay")
    # The card inputs are the stand-in's; Stripe's own sit in its labelled frame.
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, context={"exclude": [["#card-element"]]})
    violations = [
        v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")
    ]
    assert not violations, describe_violations(violations, page.url)

    number.fill(VISA.replace(" ", ""))
    page.locator("#card-element input[placeholder=exp_month]").fill("12")
    page.locator("#card-element input[placeholder=exp_year]").fill("30")
    page.locator("#card-element input[placeholder=cvc]").fill("123")
    page.locator("#card-element input[placeholder=postal_code]").fill("10001")

    typed = number.input_value()

    def confirm_with_typed_card(route) -> None:
        intent = localstripe.pay(payment.reference, typed)
        route.fulfill(status=200, content_type="application/json", body=json.dumps(intent))

    page.route(re.compile(r".*/v1/payment_intents/[^/]+/_authenticate.*"), confirm_with_typed_card)
    page.get_by_role("button", name="Pay 60.00 EUR").click()
    page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url(re.compile(r"/book/done/"))

    assert page.locator("h1").inner_text() == "You are booked"
    booking.refresh_from_db()
    payment.refresh_from_db()
    assert booking.status == BookingStatus.CONFIRMED
    assert payment.status == "succeeded"
    [charge] = LedgerEntry.objects.filter(booking=booking)
    assert (charge.kind, charge.amount_minor, charge.currency) == ("charge", 6000, "EUR")
    assert_accessible(page)
