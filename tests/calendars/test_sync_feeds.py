"""ICS feeds end to end: connected through the staff API, read by the worker and by
bookings, and what a calendar that fails does (and does not) do to slots."""

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from slotwise.bookings.models import Booking
from slotwise.calendars import tasks
from slotwise.calendars.models import CalendarConnection, ExternalBusy

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
MONDAY = "2026-06-01"
TEN = "2026-06-01T10:00:00+01:00"  # 09:00 UTC, Europe/London


def feed(*events):
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//Example//Calendar//EN"]
    for uid, start, end in events:
        lines += ["BEGIN:VEVENT", f"UID:{uid}", "DTSTAMP:20260401T000000Z",
                  f"DTSTART:{start}", f"DTEND:{end}", "SUMMARY:Dentist", "END:VEVENT"]  # fmt: skip
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


DENTIST = ("dentist-1", "20260601T090000Z", "20260601T100000Z")  # 10:00-11:00 in London


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def service(org, ann, make_service):
    return make_service(org)


def connect(owner, resource, url):
    response = owner.post(
        "/api/v1/staff/calendars",
        json.dumps({"resource_id": resource.pk, "kind": "ics", "name": "Google", "url": url}),
        content_type="application/json",
    )
    return response


def starts(client, service):
    days = client.get(
        f"/api/v1/services/{service.pk}/slots", {"start": MONDAY, "end": MONDAY, "tz": "UTC"}
    ).json()["days"]
    return [slot["start"][11:16] for day in days for slot in day["slots"]]


def book(client, service, start=TEN):
    return client.post(
        "/api/v1/bookings",
        json.dumps(
            {
                "service_id": service.pk,
                "start": start,
                "customer": {"name": "Ada", "email": "ada@example.com", "time_zone": "UTC"},
            }
        ),
        content_type="application/json",
    )


def test_a_connected_feed_blocks_slots_and_its_secret_is_not_kept_in_clear(
    clock, owner, client, ann, service, feed_server
):
    url = feed_server.answer("/private-abc/basic.ics", body=feed(DENTIST), etag='"v1"')
    assert "09:00" in starts(client, service)

    response = connect(owner, ann, url)

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["busy_times"], body["last_error"]) == (1, "")
    assert "private-abc" not in json.dumps(body)
    stored = CalendarConnection.objects.with_scopes_disabled().get()
    assert "private-abc" not in stored.url_encrypted
    assert "09:00" not in starts(client, service)


def test_an_event_added_in_the_calendar_removes_the_slot_within_one_sync_interval(
    clock, owner, client, ann, service, feed_server, settings
):
    url = feed_server.answer("/basic.ics", body=feed(), etag='"v1"')
    assert connect(owner, ann, url).status_code == 201
    feed_server.answer("/basic.ics", body=feed(DENTIST), etag='"v2"')

    clock.shift(timedelta(minutes=settings.SLOTWISE_CALENDAR_SYNC_MINUTES) - timedelta(seconds=1))
    tasks.sweep.call()
    assert "09:00" in starts(client, service)  # not due yet: the copy stands
    clock.shift(timedelta(seconds=1))
    tasks.sweep.call()

    assert "09:00" not in starts(client, service)
    assert feed_server.requests[-1].headers.get("if-none-match") == '"v1"'


def test_an_unchanged_feed_costs_a_304_and_keeps_the_copy(clock, owner, ann, feed_server):
    url = feed_server.answer("/basic.ics", body=feed(DENTIST), etag='"v1"')
    connection_id = connect(owner, ann, url).json()["id"]

    synced = owner.post(f"/api/v1/staff/calendars/{connection_id}/sync").json()

    assert feed_server.requests[-1].headers["if-none-match"] == '"v1"'  # answered 304
    assert (synced["busy_times"], synced["last_error"]) == (1, "")


def test_a_failing_calendar_keeps_its_last_good_copy_and_says_why(
    clock, owner, client, ann, service, feed_server
):
    url = feed_server.answer("/basic.ics", body=feed(DENTIST), etag='"v1"')
    connection_id = connect(owner, ann, url).json()["id"]
    last_good = NOW
    for answer in ({"status": 500, "body": b"oops"}, {"body": b"<html>not a calendar</html>"}):
        feed_server.answer("/basic.ics", etag="", **answer)
        clock.shift(timedelta(minutes=1))

        synced = owner.post(f"/api/v1/staff/calendars/{connection_id}/sync").json()

        assert synced["last_error"]
        assert datetime.fromisoformat(synced["last_success_at"]) == last_good
        assert synced["busy_times"] == 1
        assert "09:00" not in starts(client, service)
    assert synced["failures"] == 2
    assert datetime.fromisoformat(synced["next_sync_at"]) == NOW + timedelta(minutes=2 + 2)


def test_a_booking_reads_a_stale_calendar_first(
    clock, owner, client, ann, service, feed_server, settings
):
    url = feed_server.answer("/basic.ics", body=feed(), etag='"v1"')
    assert connect(owner, ann, url).status_code == 201
    feed_server.answer("/basic.ics", body=feed(DENTIST), etag='"v2"')
    clock.shift(timedelta(minutes=settings.SLOTWISE_CALENDAR_MAX_AGE_MINUTES + 1))

    response = book(client, service)

    assert response.status_code == 409, response.content  # the dentist, read just now
    assert response.json()["type"] == "urn:slotwise:problem:slot-unavailable"


def test_a_booking_goes_ahead_on_the_stored_copy_when_the_calendar_is_down(
    clock, owner, client, ann, service, feed_server, settings
):
    url = feed_server.answer("/basic.ics", body=feed(), etag='"v1"')
    connection_id = connect(owner, ann, url).json()["id"]
    feed_server.answer("/basic.ics", status=503, body=b"down", etag="")
    clock.shift(timedelta(minutes=settings.SLOTWISE_CALENDAR_MAX_AGE_MINUTES + 1))

    response = book(client, service)

    assert response.status_code == 201, response.content
    booking = Booking.objects.with_scopes_disabled().get()
    created = booking.events.with_scopes_disabled().get(action="booking.created")
    assert created.data["calendars_stale"] == [connection_id]


def test_disconnecting_frees_the_slots(clock, owner, client, ann, service, feed_server):
    url = feed_server.answer("/basic.ics", body=feed(DENTIST), etag='"v1"')
    connection_id = connect(owner, ann, url).json()["id"]

    assert owner.delete(f"/api/v1/staff/calendars/{connection_id}").status_code == 204

    assert not ExternalBusy.objects.with_scopes_disabled().exists()
    assert "09:00" in starts(client, service)


def test_a_feed_that_does_not_answer_is_refused_when_connecting(owner, ann, feed_server):
    response = connect(owner, ann, feed_server.url("/nothing-here.ics"))

    assert response.status_code == 400
    assert response.json()["type"] == "urn:slotwise:problem:invalid-calendar"
    assert not CalendarConnection.objects.with_scopes_disabled().exists()
