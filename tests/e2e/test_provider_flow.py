"""A provider sets opening hours in the dashboard, and customers see exactly those.

The owner of a London studio whose schedule is empty opens Tuesdays from
10:00 to 12:00 and from 13:00 to 15:00 in a real browser; a customer then
finds just those four hourly slots on the public booking page, books one,
and the owner finds the booking in the dashboard's calendar.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from django.urls import NoReverseMatch, reverse

from slotwise.bookings.models import Booking
from slotwise.catalog.models import WeeklyRule
from tests.e2e.conftest import PROVIDER_ZONE, assert_accessible, screenshot


@pytest.fixture
def studio(make_org, make_schedule, make_resource, make_service, make_member):
    org = make_org(name="Harbour Studio", slug="harbour", time_zone=PROVIDER_ZONE)
    closed = make_schedule(org, weekdays=())
    closed.name = "Studio hours"
    closed.save(update_fields=["name"])
    make_resource(org, name="Amara", schedule=closed)
    service = make_service(org, name="Consultation", slug="consultation", price_minor=0)
    owner = make_member(org, "owner", mfa=True, email="owner@example.com")
    return org, closed, service, owner


def next_tuesday() -> datetime:
    from zoneinfo import ZoneInfo

    today = datetime.now(ZoneInfo(PROVIDER_ZONE)).date()
    return today + timedelta(days=(1 - today.weekday()) % 7 + 7)


def test_hours_set_in_the_dashboard_are_what_customers_book(
    studio, page, signed_in, no_page_errors
):
    _org, schedule, service, owner = studio
    signed_in(owner)

    page.goto("/dashboard/hours")
    screenshot(page, "dashboard-hours-list")
    assert_accessible(page)
    page.get_by_role("link", name="Studio hours").click()
    assert PROVIDER_ZONE in page.locator("p.zone").inner_text()
    page.get_by_label("Tuesday, opening 1: from").fill("10:00")
    page.get_by_label("Tuesday, opening 1: until").fill("12:00")
    page.get_by_label("Tuesday, opening 2: from").fill("13:00")
    page.get_by_label("Tuesday, opening 2: until").fill("15:00")
    screenshot(page, "dashboard-hours-edit")
    assert_accessible(page)
    page.get_by_role("button", name="Save hours").click()
    page.wait_for_load_state()
    assert "is saved" in page.locator(".messages").inner_text()
    stored = WeeklyRule.objects.filter(schedule=schedule).order_by("start")
    assert [(r.weekday, r.start, r.end) for r in stored] == [
        (1, time(10), time(12)),
        (1, time(13), time(15)),
    ]

    # A mistake is shown beside its row, and nothing changes.
    page.get_by_label("Wednesday, opening 1: from").fill("12:00")
    page.get_by_label("Wednesday, opening 1: until").fill("09:00")
    page.get_by_role("button", name="Save hours").click()
    page.wait_for_load_state()
    assert "must be after the start" in page.locator(".errorlist").first.inner_text()
    screenshot(page, "dashboard-hours-error")
    assert_accessible(page)
    assert WeeklyRule.objects.filter(schedule=schedule).count() == 2

    # A customer sees exactly those hours on the booking page.
    tuesday = next_tuesday()
    customer = page.context.browser.new_context(
        base_url=page.context.live_server_url, timezone_id=PROVIDER_ZONE, locale="en-GB"
    )
    shop = customer.new_page()
    shop.goto(
        f"/book/harbour/consultation/?tz=Europe%2FLondon&month={tuesday:%Y-%m}&date={tuesday}"
    )
    shop.locator("#slot-day a[data-start]").first.wait_for()
    slots = shop.locator("#slot-day a[data-start]")
    starts = [
        datetime.fromisoformat(slots.nth(i).get_attribute("data-start"))
        for i in range(slots.count())
    ]
    from zoneinfo import ZoneInfo

    london = ZoneInfo(PROVIDER_ZONE)
    assert [f"{s.astimezone(london):%Y-%m-%d %H:%M}" for s in starts] == [
        f"{tuesday} {hour}" for hour in ("10:00", "11:00", "13:00", "14:00")
    ]
    slots.nth(2).click()
    shop.wait_for_url(re.compile(r"/details"))
    shop.get_by_label("Your name").fill("Hana Sato")
    shop.get_by_label("Email").fill("hana@example.com")
    shop.get_by_role("button", name="Book").click()
    shop.wait_for_url(re.compile(r"/book/done/"))
    booking = Booking.objects.get(customer_email="hana@example.com")
    assert booking.service_id == service.pk
    assert booking.starts_at == starts[2]
    customer.close()

    # The owner finds it in the calendar (or, without one, through the staff API).
    try:
        calendar = reverse("dashboard:calendar")
    except NoReverseMatch:
        answer = page.request.get(f"/api/v1/staff/bookings/{booking.pk}")
        assert answer.status == 200
        assert answer.json()["id"] == booking.pk
        return
    page.goto(f"{calendar}?date={tuesday}")
    entry = page.get_by_role("link", name=re.compile("Hana Sato|Consultation"))
    entry.first.wait_for()
    assert "13:00" in page.locator("main").inner_text()
    screenshot(page, "dashboard-calendar-after-hours")
    assert_accessible(page)
