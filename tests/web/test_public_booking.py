"""Booking from the pages: the details form books once through the booking engine, a
slot taken meanwhile comes back with the day's times, and the confirmation says it all."""

import re
from datetime import UTC, datetime
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from slotwise.bookings.models import Booking, BookingStatus
from tests.payments.conftest import localstripe, localstripe_url  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 7, 1, 6, tzinfo=UTC)
START = datetime(2026, 7, 6, 8, tzinfo=UTC)  # Monday 09:00 in London, 17:00 in Tokyo
FIELD = re.compile(r'<input type="hidden" name="([^"]+)" value="([^"]*)"')


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def org(make_org, make_resource):
    org = make_org(name="Harbour & Pine", slug="harbour", time_zone="Europe/London")
    make_resource(org, name="Ann")
    return org


@pytest.fixture
def service(org, make_service):
    return make_service(org, name="Portrait", slug="portrait", price_minor=4500)


def slot_link(browser, service, tz, day):
    """The link of the first time the service page shows on ``day``."""
    html = browser.get(f"/book/harbour/{service.slug}/", {"tz": tz, "date": day}).text
    return unescape(re.search(r'href="([^"]*/details\?[^"]+)"', html)[1])


def open_form(browser, url):
    response = browser.get(url)
    assert response.status_code == 200, response.text
    return dict(FIELD.findall(response.text))


def send(browser, url, fields, **details):
    data = {**fields, "name": "Aiko Tanaka", "email": "aiko@example.com", **details}
    return browser.post(url, data)


def test_a_customer_in_tokyo_books_the_instant_they_were_shown(browser, service):
    url = slot_link(browser, service, "Asia/Tokyo", "2026-07-06")
    query = parse_qs(urlsplit(url).query)
    assert query["start"] == ["2026-07-06T08:00:00Z"]
    form = browser.get(url)
    assert "Monday 6 July 2026, 17:00–18:00 (Asia/Tokyo, UTC+09:00)" in unescape(form.text)  # noqa: RUF001
    assert "09:00–10:00 (Europe/London, UTC+01:00)" in unescape(form.text)  # noqa: RUF001

    response = send(browser, url.split("?")[0], dict(FIELD.findall(form.text)))

    assert response.status_code == 303
    booking = Booking.objects.with_scopes_disabled().get()
    assert booking.starts_at == START
    assert booking.customer_time_zone == "Asia/Tokyo"
    assert booking.customer_name == "Aiko Tanaka"
    assert booking.status == BookingStatus.CONFIRMED
    assert response["Location"].startswith("/book/done/")


def test_sending_the_form_twice_books_once(browser, service):
    url = slot_link(browser, service, "Europe/London", "2026-07-06")
    fields = open_form(browser, url)
    assert len(fields["idempotency_key"]) >= 16

    first = send(browser, url.split("?")[0], fields)
    second = send(browser, url.split("?")[0], fields)

    assert first.status_code == second.status_code == 303
    assert first["Location"] == second["Location"]
    assert Booking.objects.with_scopes_disabled().count() == 1
    # A new form is a new booking attempt: the slot is gone by then.
    again = send(browser, url.split("?")[0], open_form(browser, url))
    assert again.status_code == 409
    assert Booking.objects.with_scopes_disabled().count() == 1


def test_a_slot_taken_meanwhile_comes_back_with_the_days_times(browser, service, org, make_booking):
    url = slot_link(browser, service, "Europe/London", "2026-07-06")
    fields = open_form(browser, url)
    taken = make_booking(service, list(org.resources.all()), START)

    response = send(browser, url.split("?")[0], fields)

    html = unescape(response.text)
    assert response.status_code == 409
    assert "someone else booked this time" in html
    assert "start=2026-07-06T08%3A00%3A00Z" not in response.text
    assert "start=2026-07-06T09%3A00%3A00Z" in response.text  # the next free time
    assert list(Booking.objects.with_scopes_disabled().all()) == [taken]
    assert 'name="name" value="Aiko Tanaka"' not in html or "Aiko Tanaka" in html


@pytest.mark.parametrize(
    ("change", "field"),
    [({"email": "not an address"}, "email"), ({"name": ""}, "name")],
)
def test_wrong_details_come_back_tied_to_their_field(browser, service, change, field):
    url = slot_link(browser, service, "Europe/London", "2026-07-06")
    fields = open_form(browser, url)

    response = send(browser, url.split("?")[0], fields, **change)

    assert response.status_code == 400
    assert re.search(rf'name="{field}"[^>]*aria-invalid="true"', response.text) or re.search(
        rf'aria-invalid="true"[^>]*name="{field}"', response.text
    )
    assert f'id="{field}-errors"' in response.text
    assert Booking.objects.with_scopes_disabled().count() == 0


def test_a_form_without_a_time_is_a_readable_400(browser, service):
    response = browser.get("/book/harbour/portrait/details", {"start": "soon"})

    assert response.status_code == 400
    assert "No time was chosen" in response.text


def test_a_group_service_asks_for_seats(browser, org, make_service):
    group = make_service(org, slug="class", seats_per_slot=8)
    url = slot_link(browser, group, "Europe/London", "2026-07-06")
    fields = open_form(browser, url)
    assert 'name="seats"' in browser.get(url).text

    response = send(browser, url.split("?")[0], fields, seats="3")

    assert response.status_code == 303
    assert Booking.objects.with_scopes_disabled().get().seats == 3
    too_many = send(browser, url.split("?")[0], open_form(browser, url), seats="9")
    assert too_many.status_code == 400


def test_the_confirmation_says_what_when_where_and_how_to_add_it(browser, service):
    url = slot_link(browser, service, "Asia/Tokyo", "2026-07-06")
    done = send(browser, url.split("?")[0], open_form(browser, url))["Location"]
    token = done.rsplit("/", 1)[1]

    response = browser.get(done)

    html = unescape(response.text)
    assert response.status_code == 200
    assert "You are booked" in html
    assert "Portrait" in html
    assert "Monday 6 July 2026, 17:00–18:00 (Asia/Tokyo, UTC+09:00)" in html  # noqa: RUF001
    assert "09:00–10:00 (Europe/London, UTC+01:00)" in html  # noqa: RUF001
    assert "Harbour & Pine (Ann)" in html
    assert "Confirmed" in html
    assert "45.00 GBP" in html
    assert f"http://testserver{reverse('manage_booking', args=[token])}" in html
    assert f'href="/api/v1/bookings/manage/{token}/calendar.ics"' in html
    assert "https://calendar.google.com/calendar/render?action=TEMPLATE&text=Portrait" in html
    assert "dates=20260706T080000Z%2F20260706T090000Z" in html
    assert "https://outlook.live.com/calendar/0/deeplink/compose?subject=Portrait" in html
    assert "startdt=2026-07-06T08%3A00%3A00Z&enddt=2026-07-06T09%3A00%3A00Z" in html
    assert browser.get(f"/api/v1/bookings/manage/{token}/calendar.ics").status_code == 200
    assert browser.get("/book/done/no-such-token-at-all-0123456789").status_code == 404


def test_a_service_needing_approval_says_it_is_pending(browser, org, make_service):
    approved = make_service(org, slug="approved", requires_approval=True)
    url = slot_link(browser, approved, "Europe/London", "2026-07-06")
    done = send(browser, url.split("?")[0], open_form(browser, url))["Location"]

    html = unescape(browser.get(done).text)

    assert Booking.objects.with_scopes_disabled().get().status == BookingStatus.PENDING
    assert "Awaiting confirmation by Harbour & Pine" in html
    assert "You are booked" not in html


@pytest.mark.usefixtures("localstripe")
def test_a_paid_service_goes_on_to_payment(browser, make_org, make_resource, make_service):
    org = make_org(slug="paid", payment_provider="stripe", currency="EUR")
    make_resource(org)
    make_service(org, slug="paid", price_minor=5000, payment_mode="full")
    html = browser.get("/book/paid/paid/", {"tz": "Europe/London", "date": "2026-07-06"}).text
    url = unescape(re.search(r'href="([^"]*/details\?[^"]+)"', html)[1])
    assert "Continue to payment" in browser.get(url).text

    response = send(browser, url.split("?")[0], open_form(browser, url))

    booking = Booking.objects.with_scopes_disabled().get()
    assert booking.status == BookingStatus.HELD
    assert response.status_code == 303
    token = response["Location"].rstrip("/").rsplit("/", 1)[1]
    assert response["Location"] == reverse("payments:pay", kwargs={"token": token})
    page = browser.get(response["Location"])
    assert page.status_code == 200
    assert "Pay 50.00 EUR" in unescape(page.text)
