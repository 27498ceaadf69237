"""Joining a waitlist from a page: a slot or a window in one's zone, prefilled from a booking."""

import re
from datetime import UTC, datetime, time
from html import unescape

import pytest
import time_machine
from django.test import Client

from slotwise.bookings.models import Booking
from slotwise.bookings.services import hash_token
from slotwise.catalog.models import WaitlistMode
from slotwise.waitlist.models import WaitlistEntry

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
TOKEN = "the-customers-own-manage-token-0123456789"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def service(make_org, make_service):
    org = make_org(name="Harbour & Pine", time_zone="Europe/London")
    return make_service(org, name="Portrait session", waitlist_mode=WaitlistMode.SEQUENTIAL)


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True)


def url(service, **query):
    extra = "".join(f"&{k}={v}" for k, v in query.items())
    return f"/waitlist/join?service={service.pk}{extra}"


def post(browser, service, **data):
    form = browser.get(url(service))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
    return browser.post(
        "/waitlist/join", {"csrfmiddlewaretoken": token, "service": service.pk, **data}
    )


def test_the_form_is_prefilled_from_the_query_and_a_booking(
    client, service, make_resource, make_booking
):
    booking = make_booking(
        service, [make_resource(service.organization)], datetime(2026, 6, 1, 9, tzinfo=UTC)
    )
    Booking.objects.filter(pk=booking.pk).update(
        customer_name="Ada Lovelace",
        customer_email="ada@example.com",
        manage_token_hash=hash_token(TOKEN),
    )

    response = client.get(url(service, date="2026-06-03", tz="Asia/Tokyo", booking=TOKEN))

    text = unescape(response.text)
    assert response.status_code == 200
    assert "<h1>Join the waitlist</h1>" in text
    assert 'name="day" value="2026-06-03"' in text
    assert 'name="tz" value="Asia/Tokyo"' in text
    assert 'value="Ada Lovelace"' in text
    assert 'value="ada@example.com"' in text
    assert '<label for="id_email">' in text


def test_joining_for_a_window_in_ones_zone(browser, service):
    response = post(
        browser, service, kind="window", day="2026-06-03", earliest="09:00", latest="12:00",
        tz="Asia/Tokyo", name="Ada Lovelace", email="ada@example.com",
    )  # fmt: skip

    assert response.status_code == 200
    assert "<h1>You are on the waitlist</h1>" in response.text
    entry = WaitlistEntry.objects.get()
    assert entry.service == service
    assert entry.customer_email == "ada@example.com"
    assert entry.customer_time_zone == "Asia/Tokyo"
    assert (entry.first_day.isoformat(), entry.last_day.isoformat()) == ("2026-06-03",) * 2
    assert (entry.earliest, entry.latest) == (time(9), time(12))
    assert "Asia/Tokyo" in response.text


def test_joining_for_one_slot_converts_it_to_utc(browser, service):
    response = post(
        browser, service, kind="slot", day="2026-06-03", start="14:00",
        tz="Europe/London", name="Ada", email="ada@example.com",
    )  # fmt: skip

    assert response.status_code == 200
    assert WaitlistEntry.objects.get().slot_start == datetime(2026, 6, 3, 13, tzinfo=UTC)


def test_errors_are_shown_on_their_fields_and_nothing_is_saved(browser, service):
    response = post(
        browser, service, kind="slot", day="2026-04-03", start="14:00",
        tz="Nowhere/City", name="", email="not-an-address",
    )  # fmt: skip

    text = response.text
    assert response.status_code == 400
    assert 'id="id_tz" aria-describedby="id_tz-errors tz-help"' in text or (
        'aria-describedby="id_tz-errors tz-help"' in text
    )
    assert 'aria-invalid="true"' in text
    assert "Choose a time zone from the list" in text
    assert not WaitlistEntry.objects.exists()


def test_a_time_that_has_passed_is_refused_readably(browser, service):
    response = post(
        browser, service, kind="slot", day="2026-04-03", start="14:00",
        tz="Europe/London", name="Ada", email="ada@example.com",
    )  # fmt: skip

    assert response.status_code == 400
    assert "That time has passed. Choose a later one." in response.text
    assert not WaitlistEntry.objects.exists()


def test_a_service_without_a_waitlist_or_unknown_is_a_404(client, service):
    assert client.get("/waitlist/join?service=999999").status_code == 404
    assert client.get("/waitlist/join?service=abc").status_code == 404
    service.waitlist_mode = WaitlistMode.OFF
    service.save()
    response = client.get(url(service))
    assert response.status_code == 404
    assert "keeps no waitlist" in response.text
