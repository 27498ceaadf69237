"""The organization and service booking pages: what is offered, the month's free days
and a day's times in the customer's zone, exactly as the slots API has them."""

import re
from datetime import UTC, datetime
from html import unescape
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import formats, translation

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 7, 1, 6, tzinfo=UTC)
FREE_DAY = re.compile(r"date=(\d{4}-\d{2}-\d{2})#slot-day")
SLOT = re.compile(r'data-start="([^"]+)"[^>]*>([^<]+)</a>')


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def org(make_org, make_resource):
    org = make_org(name="Harbour & Pine", slug="harbour", time_zone="Europe/London")
    make_resource(org, name="Ann")
    return org


@pytest.fixture
def service(org, make_service):
    return make_service(org, name="Portrait", slug="portrait", price_minor=4500)


def page(client, service, **query):
    return client.get(f"/book/{service.organization.slug}/{service.slug}/", query)


def slots_from_api(client, service, first, last, zone):
    answer = client.get(
        f"/api/v1/services/{service.pk}/slots", {"start": first, "end": last, "tz": zone}
    ).json()
    return {day["date"]: [s["start_utc"] for s in day["slots"]] for day in answer["days"]}


def test_the_organization_page_lists_its_services_with_price_and_payment(
    client, org, service, make_service
):
    make_service(
        org, name="Workshop", slug="workshop", price_minor=10000, payment_mode="deposit",
        deposit_percent=20, durations=[60, 90],
    )  # fmt: skip
    make_service(org, name="Retired", slug="retired", active=False)

    response = client.get("/book/harbour/")

    html = unescape(response.text)
    assert response.status_code == 200
    assert "<h1>Book with Harbour & Pine</h1>" in html
    assert 'href="/book/harbour/portrait/"' in html
    assert 'href="/book/harbour/workshop/"' in html
    assert "45.00 GBP" in html
    assert "100.00 GBP" in html
    assert "A deposit of 20.00 GBP is paid when booking." in html
    assert "60 minutes, 90 minutes" in html
    assert "Retired" not in html


def test_an_unknown_organization_or_service_is_404(client, service):
    assert client.get("/book/nobody/").status_code == 404
    assert client.get("/book/harbour/nothing/").status_code == 404


def test_the_month_marks_exactly_the_days_the_slots_api_has(client, service):
    for zone in ("Asia/Tokyo", "Europe/London", "America/Los_Angeles"):
        response = page(client, service, tz=zone, month="2026-07")
        api = slots_from_api(client, service, "2026-07-01", "2026-07-31", zone)

        assert response.status_code == 200
        marked = set(FREE_DAY.findall(response.text))
        assert marked == {day for day, slots in api.items() if slots}, zone
        assert marked


def test_a_day_shows_its_times_in_the_customers_zone_as_the_api_stores_them(client, service):
    response = page(client, service, tz="Asia/Tokyo", date="2026-07-06")

    html = unescape(response.text)
    shown = SLOT.findall(html)
    api = slots_from_api(client, service, "2026-07-06", "2026-07-06", "Asia/Tokyo")
    assert [start for start, _ in shown] == api["2026-07-06"]
    tokyo = ZoneInfo("Asia/Tokyo")
    first = datetime.fromisoformat(shown[0][0])
    assert first == datetime(2026, 7, 6, 8, tzinfo=UTC)  # 09:00 in London is 17:00 in Tokyo
    with translation.override(service.organization.locale):
        assert shown[0][1].strip() == formats.time_format(first.astimezone(tokyo), "TIME_FORMAT")
    assert "Asia/Tokyo" in html
    # Each time leads to the details form with its UTC instant.
    assert "/book/harbour/portrait/details?tz=Asia%2FTokyo&amp;duration=60&amp;start=" in (
        response.text
    )


def test_the_clock_change_moves_the_local_times_not_the_providers(client, service):
    """London leaves summer time on 25 October, New York a week later."""
    new_york = ZoneInfo("America/New_York")
    before = SLOT.findall(
        unescape(page(client, service, tz="America/New_York", date="2026-10-19").text)
    )
    after = SLOT.findall(
        unescape(page(client, service, tz="America/New_York", date="2026-10-26").text)
    )

    assert datetime.fromisoformat(before[0][0]) == datetime(2026, 10, 19, 8, tzinfo=UTC)
    assert datetime.fromisoformat(after[0][0]) == datetime(2026, 10, 26, 9, tzinfo=UTC)
    with translation.override(service.organization.locale):
        for start, label in (before[0], after[0]):
            local = datetime.fromisoformat(start).astimezone(new_york)
            assert label.strip() == formats.time_format(local, "TIME_FORMAT")
    assert datetime.fromisoformat(before[0][0]).astimezone(new_york).hour == 4
    assert datetime.fromisoformat(after[0][0]).astimezone(new_york).hour == 5


def test_the_month_is_one_availability_query(client, service):
    with CaptureQueriesContext(connection) as all_month:
        page(client, service, tz="Asia/Tokyo", month="2026-07")
    with CaptureQueriesContext(connection) as with_a_day:
        page(client, service, tz="Asia/Tokyo", month="2026-07", date="2026-07-06")
    # Choosing a day reuses the month's answer rather than asking again.
    assert len(with_a_day) == len(all_month)
    assert len(all_month) < 20


def test_months_are_bounded_by_today_and_the_horizon(client, org, make_service):
    near = make_service(org, slug="near", horizon_days=20)

    response = page(client, near, tz="Europe/London", month="2026-07")

    assert "month=2026-06" not in response.text  # nothing before this month
    assert "month=2026-08" not in response.text  # the horizon ends in July
    assert "date=2026-07-20#slot-day" in response.text
    assert "date=2026-07-27#slot-day" not in response.text
    later = page(client, near, tz="Europe/London", month="2026-08")
    assert not FREE_DAY.findall(later.text)
    assert "month=2026-09" not in later.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"tz": "Mars/Olympus"}, "“Mars/Olympus” is not a time zone we know."),
        ({"month": "2026-13"}, "The month must look like 2026-07."),
        ({"month": "July"}, "The month must look like 2026-07."),
        ({"date": "2026-02-30"}, "The date must look like 2026-07-31."),
        ({"duration": "7"}, "lasts 60 minutes"),
        ({"month": "9999-01"}, "Dates must lie between"),
    ],
)
def test_a_bad_query_is_a_readable_400_not_a_500(client, service, query, message):
    response = page(client, service, **query)

    assert response.status_code == 400
    html = unescape(response.text)
    assert 'class="notice problem"' in html
    assert message in html
    assert "Traceback" not in html


def test_an_unknown_zone_falls_back_to_the_organizations(client, service):
    response = page(client, service, tz="Mars/Olympus", date="2026-07-06")

    assert response.status_code == 400
    assert 'value="Europe/London"' in response.text
    shown = SLOT.findall(unescape(response.text))
    assert datetime.fromisoformat(shown[0][0]) == datetime(2026, 7, 6, 8, tzinfo=UTC)


def test_every_zone_is_offered_and_the_browser_zone_is_asked_for(client, service):
    response = page(client, service)

    assert response.status_code == 200
    assert '<option value="Pacific/Chatham">' in response.text
    assert "data-detect-zone" in response.text
    assert "/static/web/public.js" in response.text
    assert "data-detect-zone" not in page(client, service, tz="Asia/Tokyo").text


def test_several_durations_can_be_chosen(client, org, make_service):
    long = make_service(org, slug="long", durations=[60, 90])

    response = page(client, long, tz="Europe/London", duration="90", date="2026-07-06")

    assert response.status_code == 200
    assert '<option value="90" selected>' in response.text
    assert "duration=90" in response.text
    api = client.get(
        f"/api/v1/services/{long.pk}/slots",
        {"start": "2026-07-06", "end": "2026-07-06", "tz": "Europe/London", "duration": 90},
    ).json()
    shown = [s for s, _ in SLOT.findall(unescape(response.text))]
    assert shown == [s["start_utc"] for s in api["days"][0]["slots"]]


def test_a_day_without_times_offers_the_waitlist_when_there_is_one(client, service):
    from django.urls import NoReverseMatch, reverse

    response = page(client, service, tz="Europe/London", date="2026-07-04")  # a Saturday

    assert "No free times on this day." in response.text
    try:
        join = reverse("waitlist-join")
    except NoReverseMatch:
        assert "waitlist" not in response.text.lower()
    else:
        assert f"{join}?service={service.pk}&amp;tz=Europe%2FLondon&amp;date=2026-07-04" in (
            response.text
        )


def test_htmx_can_swap_the_day_from_the_full_page(client, service):
    response = page(client, service, tz="Asia/Tokyo")

    assert 'hx-target="#slot-day"' in response.text
    assert 'id="slot-day"' in response.text
