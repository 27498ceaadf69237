"""A customer in Tokyo books a London provider's service in a real browser.

The browser's zone is Asia/Tokyo: the service page detects it, the slots are
shown in Tokyo time, and the time shown on each page is the stored booking's
UTC instant read in Tokyo (and, beside it, in London).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse
from zoneinfo import ZoneInfo

import pytest
from django.utils import formats, translation

from slotwise.bookings.local_times import describe_span
from slotwise.bookings.models import Booking, BookingStatus
from tests.e2e.conftest import CUSTOMER_ZONE, PROVIDER_ZONE, assert_accessible, screenshot

TOKYO = ZoneInfo(CUSTOMER_ZONE)
LONDON = ZoneInfo(PROVIDER_ZONE)


@pytest.fixture
def studio(make_org, make_resource, make_service):
    org = make_org(name="Harbour Studio", slug="harbour", time_zone=PROVIDER_ZONE)
    make_resource(org, name="Amara")
    service = make_service(org, name="Consultation", slug="consultation", price_minor=4000)
    return org, service


def choose_free_day(page) -> None:
    """Click the first day with free times, in this month or the next."""
    free_days = page.locator("#slot-month td.free a")
    if free_days.count() == 0:
        page.get_by_role("link", name="Next month").click()
        page.locator("#slot-month td.free a").first.wait_for()
    free_days.first.click()
    page.locator("#slot-day a[data-start]").first.wait_for()


def wall_clock(moment: datetime, zone: ZoneInfo, locale: str) -> str:
    """The time of day a person reads in ``zone``, formatted for ``locale``."""
    with translation.override(locale):
        return formats.time_format(moment.astimezone(zone))


@pytest.mark.browser_context(timezone_id=CUSTOMER_ZONE, locale="en-GB")
def test_a_customer_in_tokyo_books_a_london_service(studio, page, no_page_errors):
    org, service = studio

    page.goto("/book/harbour/")
    screenshot(page, "organization")
    assert_accessible(page)
    page.get_by_role("link", name="Choose a time for Consultation").click()

    # The page asks again with the browser's zone.
    page.wait_for_url(re.compile(r"tz=Asia%2FTokyo"))
    assert page.locator("#tz").input_value() == CUSTOMER_ZONE
    screenshot(page, "service-month")
    assert_accessible(page)

    choose_free_day(page)
    assert CUSTOMER_ZONE in page.locator("#slot-day h2").inner_text()
    slot = page.locator("#slot-day a[data-start]").first
    start = datetime.fromisoformat(slot.get_attribute("data-start"))
    label = slot.inner_text().strip()
    # The label is the slot's instant on a Tokyo clock, not a London one.
    assert label == wall_clock(start, TOKYO, org.locale)
    assert label != wall_clock(start, LONDON, org.locale)
    screenshot(page, "service-day")
    assert_accessible(page)

    slot.click()
    page.wait_for_url(re.compile(r"/book/harbour/consultation/details"))
    end = start + timedelta(minutes=service.default_duration)
    with translation.override(org.locale):
        tokyo_span = describe_span(start, end, TOKYO)
        london_span = describe_span(start, end, LONDON)
    assert page.locator(".chosen-slot .when").inner_text().strip() == tokyo_span
    assert page.locator(".chosen-slot .when-provider").inner_text().strip() == london_span
    screenshot(page, "details")
    assert_accessible(page)

    page.get_by_label("Your name").fill("Hana Sato")
    page.get_by_label("Email").fill("hana@example.com")
    page.get_by_role("button", name="Book").click()
    page.wait_for_url(re.compile(r"/book/done/"))

    booking = Booking.objects.get(customer_email="hana@example.com")
    assert booking.service_id == service.pk
    assert booking.status == BookingStatus.CONFIRMED
    assert booking.starts_at == start
    assert booking.customer_time_zone == CUSTOMER_ZONE
    # The confirmation shows the stored instant in Tokyo, and London beside it.
    with translation.override(org.locale):
        stored_tokyo = describe_span(booking.starts_at, booking.ends_at, TOKYO)
        stored_london = describe_span(booking.starts_at, booking.ends_at, LONDON)
    assert stored_tokyo == tokyo_span
    assert page.locator("h1").inner_text() == "You are booked"
    assert page.locator(".card .when").inner_text().strip() == stored_tokyo
    assert page.locator(".card .when-provider").inner_text().strip() == stored_london
    assert f"{booking.starts_at.astimezone(TOKYO):%H:%M}" in stored_tokyo
    screenshot(page, "confirmed")
    assert_accessible(page)

    # Add-to-calendar: a file from this server, and Google and Outlook with the UTC times.
    calendar = page.locator(".calendar-links")
    ics = calendar.get_by_role("link", name="Calendar file (.ics)").get_attribute("href")
    answer = page.request.get(ics)
    assert answer.status == 200
    assert f"DTSTART:{booking.starts_at.astimezone(UTC):%Y%m%dT%H%M%SZ}" in answer.text()
    google = calendar.get_by_role("link", name="Google Calendar").get_attribute("href")
    utc = "%Y%m%dT%H%M%SZ"
    dates = parse_qs(urlparse(google).query)["dates"][0]
    assert dates == f"{booking.starts_at.astimezone(UTC):{utc}}/" + (
        f"{booking.ends_at.astimezone(UTC):{utc}}"
    )
    outlook = calendar.get_by_role("link", name="Outlook").get_attribute("href")
    assert parse_qs(urlparse(outlook).query)["startdt"][0] == (
        f"{booking.starts_at.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
    )
    manage = page.get_by_role("link", name="Manage or cancel this booking")
    assert "/manage/" in manage.get_attribute("href")
