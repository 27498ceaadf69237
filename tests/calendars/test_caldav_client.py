"""The CalDAV client against a real server: Radicale, started for the session.

"The provider" below is the calendar's owner using their own calendar app:
their events are written straight through the ``caldav`` library, never
through the client under test.
"""

from __future__ import annotations

import socket
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import caldav
import icalendar
import pytest

from slotwise.calendars import caldav_client as client
from slotwise.calendars.caldav_client import CalDAVError
from tests.calendars.radicale import Radicale, free_port

HOUR = timedelta(hours=1)


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


@pytest.fixture
def calendar(radicale: Radicale) -> caldav.Calendar:
    """A new calendar of Ann's, empty."""
    return radicale.make_calendar("Work")


@pytest.fixture
def url(calendar: caldav.Calendar) -> str:
    return str(calendar.url)


@pytest.fixture
def auth(radicale: Radicale) -> tuple[str, str]:
    return radicale.username, radicale.password


def vevent(uid: str, start: datetime, *, summary: str = "Busy", rrule: str = "") -> bytes:
    """An iCalendar object with one event of an hour from ``start``."""
    return ical(
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
        f"DTEND:{start + HOUR:%Y%m%dT%H%M%SZ}",
        f"SUMMARY:{summary}",
        *([f"RRULE:{rrule}"] if rrule else []),
        "END:VEVENT",
    )


def vtodo(uid: str) -> bytes:
    return ical("BEGIN:VTODO", f"UID:{uid}", "DTSTAMP:20260101T000000Z", "END:VTODO")


def ical(*lines: str) -> bytes:
    body = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//slotwise tests//EN", *lines]
    return "\r\n".join([*body, "END:VCALENDAR", ""]).encode()


def provider_adds(calendar: caldav.Calendar, ics: bytes) -> str:
    """The provider adds an event in their own app; its href."""
    return str(calendar.add_event(ics.decode()).url)


def provider_edits(calendar: caldav.Calendar, href: str, summary: str) -> None:
    event = calendar.event_by_url(href)
    event.load()
    event.icalendar_component["SUMMARY"] = summary
    event.save()


def summaries(data: bytes) -> list[str]:
    return [str(e["SUMMARY"]) for e in icalendar.Calendar.from_ical(data).walk("VEVENT")]


def shape(data: bytes) -> list[tuple[object, ...]]:
    """What each VEVENT says about time, and its summary, for comparing copies."""
    return sorted(
        (
            str(e.decoded("RECURRENCE-ID")) if "RECURRENCE-ID" in e else "",
            e.decoded("DTSTART"),
            e["RRULE"].to_ical() if "RRULE" in e else b"",
            [d.dt for d in e["EXDATE"].dts] if "EXDATE" in e else [],
            str(e["SUMMARY"]),
        )
        for e in icalendar.Calendar.from_ical(data).walk("VEVENT")
    )


def events_on_server(calendar: caldav.Calendar) -> list[caldav.Event]:
    return calendar.search(event=True)


# Discovery


def test_calendars_found_from_the_server_and_the_principal(radicale: Radicale, auth) -> None:
    work = radicale.make_calendar("Studio")
    home = radicale.make_calendar("Home")
    wanted = {
        client.RemoteCalendar(str(work.url), "Studio"),
        client.RemoteCalendar(str(home.url), "Home"),
    }

    assert wanted <= set(client.calendars(radicale.url, *auth))
    assert wanted <= set(client.calendars(radicale.principal_url, *auth))


def test_a_calendar_url_is_taken_as_it_is(url: str, auth) -> None:
    assert client.calendars(url, *auth) == [client.RemoteCalendar(url, "Work")]


# Reading


def test_first_read_is_full_with_every_event(calendar, url, auth) -> None:
    one = provider_adds(calendar, vevent("one", at(6, 1), summary="Dentist"))
    two = provider_adds(calendar, vevent("two", at(6, 2), summary="Gym"))

    found = client.changes(url, *auth)

    assert found.full
    assert found.deleted == []
    assert found.sync_token
    assert {href: summaries(data) for href, data in found.events.items()} == {
        one: ["Dentist"],
        two: ["Gym"],
    }


def test_sync_token_gives_exactly_what_was_added_changed_and_deleted(calendar, url, auth) -> None:
    kept = provider_adds(calendar, vevent("kept", at(6, 1)))
    edited = provider_adds(calendar, vevent("edited", at(6, 2)))
    deleted = provider_adds(calendar, vevent("deleted", at(6, 3)))
    first = client.changes(url, *auth)
    assert set(first.events) == {kept, edited, deleted}

    added = provider_adds(calendar, vevent("added", at(6, 4), summary="New"))
    provider_edits(calendar, edited, "Moved")
    calendar.event_by_url(deleted).delete()
    second = client.changes(url, *auth, sync_token=first.sync_token)

    assert not second.full
    assert {href: summaries(data) for href, data in second.events.items()} == {
        added: ["New"],
        edited: ["Moved"],
    }
    assert second.deleted == [deleted]
    assert second.sync_token not in ("", first.sync_token)

    third = client.changes(url, *auth, sync_token=second.sync_token)
    assert (third.full, third.events, third.deleted) == (False, {}, [])


def test_invalid_sync_token_reads_everything_again(calendar, url, auth) -> None:
    href = provider_adds(calendar, vevent("one", at(6, 1)))

    found = client.changes(url, *auth, sync_token="http://radicale.org/ns/sync/forgotten")

    assert found.full
    assert set(found.events) == {href}
    assert client.changes(url, *auth, sync_token=found.sync_token).events == {}


def test_full_read_keeps_to_the_time_range(calendar, url, auth) -> None:
    inside = provider_adds(calendar, vevent("inside", at(6, 10)))
    provider_adds(calendar, vevent("before", at(5, 1)))
    provider_adds(calendar, vevent("after", at(8, 1)))
    weekly_since_may = provider_adds(calendar, vevent("weekly", at(5, 4), rrule="FREQ=WEEKLY"))

    found = client.changes(url, *auth, start=at(6, 1, 0), end=at(7, 1, 0))

    assert found.full
    assert set(found.events) == {inside, weekly_since_may}


def test_to_dos_are_not_events(calendar, url, auth) -> None:
    calendar.add_todo(vtodo("call-back").decode())
    first = client.changes(url, *auth)
    calendar.add_todo(vtodo("pay").decode())

    assert first.events == {}
    assert client.changes(url, *auth, sync_token=first.sync_token).events == {}


# Writing


def test_put_event_twice_leaves_one_event_with_the_second_content(calendar, url, auth) -> None:
    href, etag = client.put_event(
        url,
        *auth,
        uid="slotwise-booking-1@slotwise",
        ics=vevent("slotwise-booking-1@slotwise", at(6, 1), summary="First"),
    )
    again, etag_again = client.put_event(
        url,
        *auth,
        uid="slotwise-booking-1@slotwise",
        ics=vevent("slotwise-booking-1@slotwise", at(6, 1, 10), summary="Second"),
    )

    assert again == href
    assert href == f"{url}slotwise-booking-1%40slotwise.ics"
    assert "" not in (etag, etag_again)
    assert etag != etag_again
    [event] = events_on_server(calendar)
    assert str(event.icalendar_component["SUMMARY"]) == "Second"
    assert str(event.url) == href


def test_put_event_href_is_the_key_changes_uses_even_for_a_uid_with_a_slash(url, auth) -> None:
    before = client.changes(url, *auth)
    href, _ = client.put_event(url, *auth, uid="a/b@x", ics=vevent("a/b@x", at(6, 1)))

    assert set(client.changes(url, *auth, sync_token=before.sync_token).events) == {href}
    assert set(client.changes(url, *auth).events) == {href}


def test_put_event_replaces_the_uid_where_the_server_keeps_it(calendar, url, auth) -> None:
    elsewhere = provider_adds(calendar, vevent("shared-uid", at(6, 1), summary="Theirs"))

    href, _ = client.put_event(
        url, *auth, uid="shared-uid", ics=vevent("shared-uid", at(6, 1), summary="Ours")
    )

    assert href == elsewhere
    [event] = events_on_server(calendar)
    assert str(event.icalendar_component["SUMMARY"]) == "Ours"


def test_put_event_refuses_data_without_the_uid(url, auth) -> None:
    with pytest.raises(ValueError, match="UID"):
        client.put_event(url, *auth, uid="mine", ics=vevent("other", at(6, 1)))


def test_get_event_after_an_edit_on_the_server(calendar, url, auth) -> None:
    href, etag = client.put_event(
        url, *auth, uid="b1", ics=vevent("b1", at(6, 1), summary="Booked")
    )
    data, got_etag = client.get_event(url, *auth, href=href)
    assert (summaries(data), got_etag) == (["Booked"], etag)

    provider_edits(calendar, href, "Booked (moved by hand)")
    data, new_etag = client.get_event(url, *auth, href=href)

    assert summaries(data) == ["Booked (moved by hand)"]
    assert new_etag != etag


def test_deleted_event_is_gone_and_deleting_again_is_fine(calendar, url, auth) -> None:
    href, _ = client.put_event(url, *auth, uid="b2", ics=vevent("b2", at(6, 1)))

    client.delete_event(url, *auth, href=href)
    assert client.get_event(url, *auth, href=href) is None
    client.delete_event(url, *auth, href=href)
    assert events_on_server(calendar) == []


def test_recurring_event_round_trips(calendar, url, auth) -> None:
    ics = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//slotwise tests//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20260101T000000Z\r\n"
        b"DTSTART;TZID=Europe/Paris:20260601T090000\r\nDURATION:PT1H\r\n"
        b"RRULE:FREQ=WEEKLY;COUNT=10\r\nEXDATE;TZID=Europe/Paris:20260615T090000\r\n"
        b"SUMMARY:Weekly\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:weekly\r\nDTSTAMP:20260101T000000Z\r\n"
        b"RECURRENCE-ID;TZID=Europe/Paris:20260608T090000\r\n"
        b"DTSTART;TZID=Europe/Paris:20260608T140000\r\nDURATION:PT1H\r\n"
        b"SUMMARY:Weekly (later)\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    href, _ = client.put_event(url, *auth, uid="weekly", ics=ics)

    data, _ = client.get_event(url, *auth, href=href)
    # One occurrence, the eighth, falls in this range.
    read = client.changes(url, *auth, start=at(7, 20, 0), end=at(7, 21, 0))

    assert shape(data) == shape(ics)
    assert shape(read.events[href]) == shape(ics)


# Failures


@pytest.mark.parametrize(
    "call",
    [
        lambda url, user, pw: client.calendars(url, user, pw),
        lambda url, user, pw: client.changes(url, user, pw),
        lambda url, user, pw: client.changes(url, user, pw, sync_token="x"),
        lambda url, user, pw: client.put_event(url, user, pw, uid="u", ics=vevent("u", at(6, 1))),
        lambda url, user, pw: client.get_event(url, user, pw, href=url + "u.ics"),
        lambda url, user, pw: client.delete_event(url, user, pw, href=url + "u.ics"),
    ],
    ids=["calendars", "changes", "changes-with-token", "put", "get", "delete"],
)
def test_wrong_password_is_permanent(url, radicale: Radicale, call) -> None:
    with pytest.raises(CalDAVError) as raised:
        call(url, radicale.username, "not-the-password")

    assert raised.value.permanent
    assert "not-the-password" not in str(raised.value)
    assert "401" in str(raised.value)


def test_a_missing_calendar_is_permanent(radicale: Radicale, auth) -> None:
    with pytest.raises(CalDAVError) as raised:
        client.changes(f"{radicale.principal_url}no-such-calendar/", *auth)

    assert raised.value.permanent
    assert "404" in str(raised.value)


def test_a_url_with_the_password_in_it_is_not_repeated() -> None:
    port = free_port()
    with pytest.raises(CalDAVError) as raised:
        client.changes(f"http://ann:hunter2@127.0.0.1:{port}/ann/work/", "ann", "hunter2")

    assert "hunter2" not in str(raised.value)
    assert f"http://127.0.0.1:{port}/ann/work/" in str(raised.value)


def test_not_an_http_url_is_permanent(auth) -> None:
    with pytest.raises(CalDAVError) as raised:
        client.calendars("caldav.example.com", *auth)

    assert raised.value.permanent


def test_server_down_is_temporary(auth) -> None:
    started = time.monotonic()
    with pytest.raises(CalDAVError) as raised:
        client.changes(f"http://127.0.0.1:{free_port()}/ann/work/", *auth, timeout=2)

    assert not raised.value.permanent
    assert time.monotonic() - started < 2


class Broken(BaseHTTPRequestHandler):
    """A server failing every request with 500."""

    def fail(self) -> None:
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_GET = do_PUT = do_DELETE = do_PROPFIND = do_REPORT = fail

    def log_message(self, format: str, *args: object) -> None:
        pass


def test_a_failing_server_is_temporary(auth) -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), Broken) as broken:
        threading.Thread(target=broken.serve_forever, args=(0.05,), daemon=True).start()
        try:
            with pytest.raises(CalDAVError) as raised:
                client.changes(f"http://127.0.0.1:{broken.server_port}/ann/work/", *auth)
        finally:
            broken.shutdown()

    assert not raised.value.permanent
    assert "500" in str(raised.value)


def test_a_silent_server_times_out(auth) -> None:
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        host, port = silent.getsockname()
        started = time.monotonic()
        with pytest.raises(CalDAVError) as raised:
            client.changes(f"http://{host}:{port}/ann/work/", *auth, timeout=0.3)
        waited = time.monotonic() - started

    assert not raised.value.permanent
    assert "did not answer within 0.3 s" in str(raised.value)
    assert 0.3 <= waited < 3
