"""CalDAV both ways against a real Radicale: the provider's events block slots, and
bookings appear (and move, and go) in the provider's calendar."""

import json
from datetime import UTC, datetime

import icalendar
import pytest
import time_machine

from slotwise.bookings import services
from slotwise.bookings.models import Booking
from slotwise.calendars import tasks
from slotwise.calendars.models import CalendarConnection, CalendarCopy, ExternalBusy
from slotwise.organizations.tenancy import tenant

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
NINE_UTC = datetime(2026, 6, 1, 9, tzinfo=UTC)  # 10:00 in London
ADA = services.Customer(name="Ada", email="ada@example.com", time_zone="UTC")


def vevent(uid, start, end):
    return (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Example//EN\r\nBEGIN:VEVENT\r\n"
        f"UID:{uid}\r\nDTSTAMP:20260401T000000Z\r\nDTSTART:{start:%Y%m%dT%H%M%SZ}\r\n"
        f"DTEND:{end:%Y%m%dT%H%M%SZ}\r\nSUMMARY:Dentist\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def service(org, ann, make_service):
    return make_service(org, name="Portrait")


@pytest.fixture
def calendar(radicale):
    return radicale.make_calendar("Work")


@pytest.fixture
def connection(owner, ann, radicale, calendar):
    url = str(calendar.url)
    response = owner.post(
        "/api/v1/staff/calendars",
        json.dumps(
            {
                "resource_id": ann.pk,
                "kind": "caldav",
                "name": "Ann's calendar",
                "url": radicale.principal_url,
                "username": radicale.username,
                "password": radicale.password,
                "read_calendars": [url],
                "write_calendar": url,
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return CalendarConnection.objects.with_scopes_disabled().get(pk=response.json()["id"])


def busy(connection):
    return sorted(
        ExternalBusy.objects.with_scopes_disabled()
        .filter(connection=connection)
        .values_list("starts_at", "uid")
    )


def sync(owner, connection):
    answer = owner.post(f"/api/v1/staff/calendars/{connection.pk}/sync").json()
    assert answer["last_error"] == "", answer
    return answer


def events_on_server(calendar):
    found = {}
    for item in calendar.events():
        for event in icalendar.Calendar.from_ical(item.data).walk("VEVENT"):
            found[str(event["UID"])] = event["DTSTART"].dt
    return found


def test_the_providers_events_block_slots_and_incremental_syncs_follow_them(
    owner, connection, calendar
):
    assert busy(connection) == []
    calendar.save_event(vevent("dentist", NINE_UTC, NINE_UTC.replace(hour=10)))
    sync(owner, connection)
    assert busy(connection) == [(NINE_UTC, "dentist")]
    token = CalendarConnection.objects.with_scopes_disabled().get().sync_tokens[str(calendar.url)]
    assert token

    moved = NINE_UTC.replace(hour=11)
    calendar.event_by_uid("dentist").delete()
    calendar.save_event(vevent("dentist", moved, moved.replace(hour=12)))
    sync(owner, connection)
    assert busy(connection) == [(moved, "dentist")]

    calendar.event_by_uid("dentist").delete()
    sync(owner, connection)
    assert busy(connection) == []


def test_a_booking_is_written_moved_and_removed_in_the_providers_calendar(
    org, owner, connection, calendar, service
):
    with tenant(org):
        booking, _ = services.book(service, start=NINE_UTC, customer=ADA, now=NOW)
    tasks.sweep.call()
    uid = f"slotwise-booking-{booking.pk}@slotwise"
    assert events_on_server(calendar) == {uid: NINE_UTC}

    later = NINE_UTC.replace(hour=10)
    with tenant(org):
        services.reschedule(Booking.objects.get(pk=booking.pk), start=later, now=NOW, by="staff")
    tasks.sweep.call()
    assert events_on_server(calendar) == {uid: later}
    sync(owner, connection)
    assert busy(connection) == []  # its own booking never blocks it twice

    with tenant(org):
        services.cancel(Booking.objects.get(pk=booking.pk), by="customer", now=NOW)
    tasks.sweep.call()
    assert events_on_server(calendar) == {}
    copy = CalendarCopy.objects.with_scopes_disabled().get()
    assert (copy.present, copy.status) == (False, "synced")


@pytest.mark.parametrize("change", ["deleted", "moved"])
def test_what_the_provider_does_to_a_booking_in_their_calendar_is_reported_not_applied(
    org, owner, connection, calendar, service, change
):
    with tenant(org):
        booking, _ = services.book(service, start=NINE_UTC, customer=ADA, now=NOW)
    tasks.sweep.call()
    sync(owner, connection)
    uid = f"slotwise-booking-{booking.pk}@slotwise"
    calendar.event_by_uid(uid).delete()
    if change == "moved":
        later = NINE_UTC.replace(hour=11)
        calendar.save_event(vevent(uid, later, later.replace(hour=12)))

    sync(owner, connection)

    copies = owner.get(f"/api/v1/staff/calendars/{connection.pk}/copies").json()
    assert [(c["booking_id"], c["drift"]) for c in copies] == [(booking.pk, change)]
    booking.refresh_from_db()
    assert (booking.status, booking.starts_at) == ("confirmed", NINE_UTC)


def test_credentials_the_server_refuses_are_refused_when_connecting(owner, ann, radicale):
    response = owner.post(
        "/api/v1/staff/calendars",
        json.dumps(
            {
                "resource_id": ann.pk,
                "kind": "caldav",
                "url": radicale.principal_url,
                "username": radicale.username,
                "password": "wrong",
            }
        ),
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "wrong" not in response.content.decode()
