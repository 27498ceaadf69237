"""The manage page in a real browser: cancelling refunds exactly what the page showed,
moving a booking to another slot, and joining the waitlist when nothing suits.

The customer's browser is in Tokyo, the studio in London; the clock is the real
one, so the booking is placed 30 hours ahead (inside the half-refund tier).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone, translation

from slotwise.bookings import services
from slotwise.bookings.local_times import describe_span
from slotwise.bookings.models import Booking, BookingStatus
from slotwise.money import format_minor
from slotwise.organizations.tenancy import tenant
from slotwise.payments.models import LedgerEntry
from slotwise.payments.services import record_received
from slotwise.waitlist.models import WaitlistEntry
from tests.e2e.conftest import CUSTOMER_ZONE, PROVIDER_ZONE, assert_accessible, screenshot

TOKYO = ZoneInfo(CUSTOMER_ZONE)
POLICY = {
    "tiers": [
        {"before_minutes": 48 * 60, "refund_percent": 100},
        {"before_minutes": 24 * 60, "refund_percent": 50},
    ]
}
pytestmark = pytest.mark.browser_context(timezone_id=CUSTOMER_ZONE, locale="en-GB")


def hours_ahead(hours: int) -> datetime:
    """The top of the hour at least ``hours`` from now, in UTC."""
    moment = timezone.now() + timedelta(hours=hours)
    return moment.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)


@pytest.fixture
def booked(make_org, make_schedule, make_resource, make_service):
    """A 50.00 EUR booking paid at the venue, 30 hours from now; (booking, token)."""
    org = make_org(
        name="Harbour Studio",
        slug="harbour",
        time_zone=PROVIDER_ZONE,
        currency="EUR",
        payment_provider="venue",
    )
    # Open every day, all day, so that the real clock always finds free slots.
    every_day = make_schedule(org, hours=((time(0), time(23)),), weekdays=range(7))
    make_resource(org, name="Amara", schedule=every_day)
    service = make_service(
        org,
        name="Portrait",
        slug="portrait",
        price_minor=5000,
        payment_mode="full",
        cancellation_policy=POLICY,
    )
    start = hours_ahead(30)
    while start.astimezone(ZoneInfo(PROVIDER_ZONE)).hour >= 22:
        start += timedelta(hours=1)
    customer = services.Customer(
        name="Hana Sato", email="hana@example.com", time_zone=CUSTOMER_ZONE
    )
    now = timezone.now()
    with tenant(org):
        booking, token = services.book(service, start=start, customer=customer, now=now)
        record_received(booking, 5000, now)
    return booking, token


def test_cancelling_refunds_what_the_page_showed(booked, page, no_page_errors):
    booking, token = booked
    page.goto(f"/manage/{token}")
    assert page.locator("h1").inner_text() == "Your booking"
    with translation.override("en-GB"):
        when = describe_span(booking.starts_at, booking.ends_at, TOKYO)
        half, paid = format_minor(2500, "EUR"), format_minor(5000, "EUR")
    assert page.locator(".booking .when").inner_text().strip() == when
    refund_text = " ".join(page.locator("#refund").inner_text().split())
    # 30 hours ahead: the 50 % tier.
    assert f"you get back {half} of the {paid} you paid" in refund_text
    screenshot(page, "manage")
    assert_accessible(page)

    page.get_by_label("Reason (optional)").fill("Flight moved")
    page.get_by_role("button", name="Cancel booking").click()

    page.locator(".notice.success").first.wait_for()
    assert "Your booking is cancelled" in page.locator("main").inner_text()
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    refunds = LedgerEntry.objects.with_scopes_disabled().filter(booking=booking, kind="refund")
    assert [(r.amount_minor, r.status) for r in refunds] == [(2500, "succeeded")]
    screenshot(page, "manage-cancelled")


def test_moving_a_booking_to_another_slot(booked, page, no_page_errors):
    booking, token = booked
    before = booking.starts_at
    page.goto(f"/manage/{token}")
    page.get_by_role("link", name="Choose another time").click()
    page.wait_for_url(re.compile(r"/reschedule"))
    assert page.locator("h1").inner_text() == "Move your booking"
    screenshot(page, "reschedule")
    assert_accessible(page)

    # A day with free times, then a slot other than the booked one.
    page.locator("#slot-month td.free a").first.click()
    slots = page.locator("#slot-day a[data-start]")
    slots.first.wait_for()
    starts = [
        datetime.fromisoformat(s)
        for s in slots.evaluate_all("links => links.map(link => link.dataset.start)")
    ]
    new_start = next(s for s in starts if s != before)
    page.locator("#slot-day a[data-start]").nth(starts.index(new_start)).click()

    confirm = page.locator("form.confirm")
    confirm.wait_for()
    with translation.override("en-GB"):
        new_when = describe_span(new_start, new_start + (booking.ends_at - before), TOKYO)
    assert new_when in " ".join(confirm.inner_text().split())
    assert_accessible(page)
    confirm.get_by_role("button", name="Move my booking").click()

    page.wait_for_url(re.compile(rf"/manage/{re.escape(token)}$"))
    booking.refresh_from_db()
    assert booking.starts_at == new_start.astimezone(UTC)
    assert booking.status in (BookingStatus.CONFIRMED, BookingStatus.PENDING)
    assert page.locator(".booking .when").inner_text().strip() == new_when
    assert Booking.objects.with_scopes_disabled().count() == 1


def test_joining_the_waitlist_when_nothing_suits(booked, page, no_page_errors):
    booking, token = booked
    page.goto(f"/manage/{token}")
    page.locator(".move").get_by_role("link", name="Join the waitlist").click()
    page.wait_for_url(re.compile(r"/waitlist/join"))
    assert page.locator("h1").inner_text() == "Join the waitlist"
    screenshot(page, "waitlist-join")
    assert_accessible(page)

    day = (booking.starts_at.astimezone(TOKYO) + timedelta(days=1)).date()
    page.get_by_label("Any time within a window on that day").check()
    page.get_by_label("Day", exact=True).fill(day.isoformat())
    page.get_by_label("Starting no earlier than").fill("10:00")
    page.get_by_label("and no later than").fill("12:00")
    assert page.get_by_label("Your time zone").input_value() == CUSTOMER_ZONE
    page.get_by_label("Your name").fill("Hana Sato")
    page.get_by_label("Your email address").fill("hana@example.com")
    page.get_by_role("button", name="Join the waitlist").click()

    assert page.locator("h1").inner_text() == "You are on the waitlist"
    entry = WaitlistEntry.objects.with_scopes_disabled().get()
    assert entry.customer_email == "hana@example.com"
    assert entry.customer_time_zone == CUSTOMER_ZONE
    assert (entry.first_day, entry.last_day) == (day, day)
    assert (entry.earliest, entry.latest) == (time(10), time(12))
    screenshot(page, "waitlist-joined")
