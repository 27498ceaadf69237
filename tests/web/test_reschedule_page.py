"""Moving a booking from its page: the terms first, a day's free times, a confirmation, refusals."""

# ruff: noqa: RUF001 (the en dash is the range sign the texts print)

import re
from datetime import UTC, datetime
from html import unescape

import pytest
import time_machine
from django.test import Client

from slotwise.audit.models import AuditEntry
from slotwise.bookings.models import Booking
from slotwise.bookings.services import hash_token

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
TOKEN = "the-customers-own-manage-token-0123456789"
URL = f"/manage/{TOKEN}/reschedule"
# Tuesday 2 June 2026, 14:00 in London (UTC+01:00).
NEW_START = "2026-06-02T13:00:00Z"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def resource(make_org, make_resource):
    return make_resource(make_org(name="Harbour & Pine", time_zone="Europe/London"))


@pytest.fixture
def service(resource, make_service):
    return make_service(resource.organization, name="Portrait session")


@pytest.fixture
def booking(service, resource, make_booking):
    booking = make_booking(service, [resource], datetime(2026, 6, 1, 9, tzinfo=UTC))
    Booking.objects.filter(pk=booking.pk).update(
        customer_name="Ada Lovelace",
        customer_email="ada@example.com",
        customer_time_zone="Europe/London",
        manage_token_hash=hash_token(TOKEN),
        terms={"policy": {"reschedule_cutoff_minutes": 1440, "max_reschedules": 2}},
    )
    booking.refresh_from_db()
    return booking


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True)


def csrf_token(response):
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)[1]


def test_the_manage_page_explains_the_terms_and_links_to_moving(client, booking):
    text = unescape(client.get(f"/manage/{TOKEN}").text)

    assert "You can move it until Sunday 31 May 2026, 10:00 (Europe/London" in text
    assert "(1 day before it starts)" in text
    assert "Its terms allow 2 moves in all. 2 moves are left." in text
    assert f'<a class="button secondary" href="{URL}">Choose another time</a>' in text


def test_the_page_shows_a_month_and_a_days_free_times(client, booking):
    month = client.get(URL + "?month=2026-06")
    day = client.get(URL + "?tz=Europe/London&date=2026-06-02")

    assert month.status_code == 200
    assert "June 2026" in month.text
    assert "date=2026-06-02" in month.text
    assert day.status_code == 200
    starts = re.findall(r'data-start="([^"]+)"', day.text)
    assert NEW_START in starts
    assert "2026-06-01T09:00:00Z" not in starts  # not its own time


def test_choosing_a_time_asks_to_confirm_then_moves_the_booking(browser, booking):
    confirm = browser.get(URL + f"?tz=Europe/London&start={NEW_START}")
    text = unescape(confirm.text)
    assert "Tuesday 2 June 2026, 14:00–15:00 (Europe/London, UTC+01:00)" in text
    assert Booking.objects.get(pk=booking.pk).starts_at == booking.starts_at  # nothing yet

    response = browser.post(URL, {"csrfmiddlewaretoken": csrf_token(confirm), "start": NEW_START})

    assert response.status_code == 302
    assert response["Location"] == f"/manage/{TOKEN}"
    booking.refresh_from_db()
    assert booking.starts_at == datetime(2026, 6, 2, 13, tzinfo=UTC)
    assert booking.reschedules == 1
    assert AuditEntry.objects.filter(action="booking.rescheduled").count() == 1
    page = unescape(browser.get(response["Location"]).text)
    assert "Your booking has been moved to Tuesday 2 June 2026, 14:00–15:00" in page
    assert "1 move is left." in page


def test_a_time_just_taken_is_refused_readably_and_nothing_changes(
    browser, booking, service, resource, make_booking
):
    confirm = browser.get(URL + f"?start={NEW_START}")
    make_booking(service, [resource], datetime(2026, 6, 2, 13, tzinfo=UTC))

    response = browser.post(URL, {"csrfmiddlewaretoken": csrf_token(confirm), "start": NEW_START})

    assert response.status_code == 409
    assert "That time has just been taken. Please choose another." in response.text
    booking.refresh_from_db()
    assert booking.starts_at == datetime(2026, 6, 1, 9, tzinfo=UTC)


def test_no_moves_left_shows_why_and_refuses(browser, client, booking):
    Booking.objects.filter(pk=booking.pk).update(reschedules=2)
    shown = client.get(URL)
    manage = client.get(f"/manage/{TOKEN}")
    form = browser.get(f"/manage/{TOKEN}")

    response = browser.post(URL, {"csrfmiddlewaretoken": csrf_token(form), "start": NEW_START})

    message = "This booking has been moved as many times as its terms allow."
    assert message in shown.text
    assert "data-day=" not in shown.text
    assert message in manage.text
    assert "Choose another time" not in manage.text
    assert response.status_code == 409
    assert message in response.text
    booking.refresh_from_db()
    assert booking.starts_at == datetime(2026, 6, 1, 9, tzinfo=UTC)


def test_too_close_to_the_start_is_refused(browser, booking):
    form = browser.get(URL)
    with time_machine.travel(datetime(2026, 5, 31, 12, tzinfo=UTC), tick=False):
        shown = browser.get(URL)
        response = browser.post(URL, {"csrfmiddlewaretoken": csrf_token(form), "start": NEW_START})

    refusal = "It is too close to the start to move this booking"
    assert refusal in shown.text
    assert response.status_code == 409
    assert refusal in response.text
    booking.refresh_from_db()
    assert booking.reschedules == 0


def test_a_malformed_start_is_a_400(browser, booking):
    form = browser.get(URL)
    response = browser.post(URL, {"csrfmiddlewaretoken": csrf_token(form), "start": "soon"})
    assert response.status_code == 400
    assert "Choose a time from the list." in response.text


def test_an_unknown_token_is_a_404(client, booking):
    assert client.get("/manage/no-such-token-0123456789/reschedule").status_code == 404
