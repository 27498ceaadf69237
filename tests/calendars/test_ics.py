"""Busy time from iCalendar feeds: what Google, Outlook and iCloud export, read
exactly, and fetched from a real HTTP server with every way a feed can fail."""

from __future__ import annotations

import gzip
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotwise.calendars import ics
from slotwise.calendars.ics import Busy, FeedError, busy_times, feed_url, fetch
from tests.calendars.conftest import FEEDS, FEEDS_MODIFIED, FeedServer, free_port

BERLIN = ZoneInfo("Europe/Berlin")
KATHMANDU = ZoneInfo("Asia/Kathmandu")  # +05:45, no DST
NEW_YORK = ZoneInfo("America/New_York")
HOUR = timedelta(hours=1)

TEAM_SYNC = "5r8qk2v6j3m1t0n9b4c7d2e8f1@google.com"
STANDUP = (
    "040000008200E00074C5B7101A82E0080000000010B6E1A5C3A5DC01000000000000000"
    "010000000D1F8A8E1C7A2B04F9E3C0B7E5A1D2F33"
)
YOGA = "8F3E1C2A-5B7D-4E9F-A1C3-2D4E6F8A0B1C"


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def feed(name: str) -> bytes:
    return (FEEDS / name).read_bytes()


def spans(busy: list[Busy]) -> list[tuple[datetime, datetime, bool]]:
    return [(b.start, b.end, b.all_day) for b in busy]


def calendar(*events: str, head: str = "") -> bytes:
    """A feed of the given VEVENT bodies (without BEGIN/END), CRLF as exported."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN"]
    lines += [line for line in head.strip().splitlines() if line]
    for n, event in enumerate(events):
        body = [line.strip() for line in event.strip().splitlines() if line.strip()]
        if not any(line.startswith("UID:") for line in body):
            body.insert(0, f"UID:event-{n}")
        lines += ["BEGIN:VEVENT", *body, "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


MARCH_1 = utc(2026, 3, 1)
NOVEMBER_1 = utc(2026, 11, 1)


def read(data: bytes, zone: ZoneInfo = BERLIN, start=MARCH_1, end=NOVEMBER_1) -> list[Busy]:
    return busy_times(data, zone=zone, start=start, end=end)


# Google Calendar


def test_google_feed_is_read_exactly():
    busy = read(feed("google.ics"))

    assert spans(busy) == [
        (utc(2026, 3, 16, 9), utc(2026, 3, 16, 10), False),  # Team sync, CET
        (utc(2026, 3, 24, 23), utc(2026, 3, 26, 23), True),  # Conference, two days
        (utc(2026, 3, 28, 21), utc(2026, 3, 29, 4), False),  # Night shift
        (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22), True),  # Spring cleaning
        (utc(2026, 3, 31, 12), utc(2026, 3, 31, 13), False),  # Team sync, moved
        (utc(2026, 4, 2, 13), utc(2026, 4, 2, 14), False),  # Dentist, in UTC
        (utc(2026, 4, 13, 8), utc(2026, 4, 13, 9), False),  # Team sync, CEST
        (utc(2026, 10, 24, 20), utc(2026, 10, 25, 5), False),  # Night train
        (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23), True),  # Moving day
    ]
    assert all(b.start.tzinfo is UTC and b.end.tzinfo is UTC for b in busy)


def test_weekly_series_keeps_berlin_wall_clock_across_spring_forward():
    sync = [b for b in read(feed("google.ics")) if b.uid.startswith(TEAM_SYNC)]

    # 10:00 in Berlin: 09:00 UTC in winter, 08:00 UTC from 29 March.
    assert [b.uid.removeprefix(TEAM_SYNC) for b in sync] == [
        "@2026-03-16T09:00:00+00:00",
        "@2026-03-30T08:00:00+00:00",  # moved to Tuesday 31 March, named as it was
        "@2026-04-13T08:00:00+00:00",
    ]
    # 23 March is an EXDATE, 6 April a cancelled override, 20 April past UNTIL.
    starts = {b.start.date() for b in sync}
    assert starts.isdisjoint({utc(2026, 3, 23).date(), utc(2026, 4, 6).date()})


def test_all_day_event_on_spring_forward_day_is_23_hours():
    busy = read(feed("google.ics"))
    (cleaning,) = [b for b in busy if b.uid.startswith("1q2w3e4r")]

    assert cleaning.all_day
    assert cleaning.end - cleaning.start == timedelta(hours=23)


def test_all_day_event_on_fall_back_day_is_25_hours():
    busy = read(feed("google.ics"))
    (moving,) = [b for b in busy if b.uid.startswith("z9x8c7v6")]

    assert (moving.start, moving.end) == (utc(2026, 10, 24, 22), utc(2026, 10, 25, 23))
    assert moving.end - moving.start == timedelta(hours=25)


def test_all_day_event_where_the_clocks_skip_midnight_starts_when_they_jump():
    # Chile moves from 00:00 to 01:00 on 6 September 2026: that day has no midnight.
    data = calendar("DTSTART;VALUE=DATE:20260906\nDTEND;VALUE=DATE:20260907")

    busy = read(data, zone=ZoneInfo("America/Santiago"))

    assert spans(busy) == [(utc(2026, 9, 6, 4), utc(2026, 9, 7, 3), True)]


def test_timed_events_across_dst_changes_last_real_hours():
    busy = {b.uid: b for b in read(feed("google.ics"))}

    shift = busy["n1ghtsh1ftspr1ng0000000000@google.com"]
    train = busy["n1ghttr41nv13nn40000000000@google.com"]
    assert shift.end - shift.start == 7 * HOUR  # 22:00 to 06:00, clocks forward
    assert train.end - train.start == 9 * HOUR  # 22:00 to 06:00, clocks back


def test_events_marked_free_are_not_busy():
    uids = {b.uid for b in read(feed("google.ics"))}

    assert "f0c5t1m3b10ckf0c5t1m3b10ck@google.com" not in uids  # timed, transparent
    assert "7h6g5f4e3d2c1b0a9z8y7x6w5v@google.com" not in uids  # all-day, transparent


def test_all_day_events_are_the_providers_days_in_the_providers_zone():
    busy = read(feed("google.ics"), zone=NEW_YORK)
    (conference,) = [b for b in busy if b.uid.startswith("0c1d2e3f")]

    # 25 and 26 March in New York (EDT), whatever zone the feed was written in.
    assert (conference.start, conference.end) == (utc(2026, 3, 25, 4), utc(2026, 3, 27, 4))


# Outlook / Exchange


def test_outlook_feed_is_read_exactly():
    busy = read(feed("outlook.ics"), end=utc(2026, 5, 1))

    assert spans(busy) == [
        (utc(2026, 3, 10, 16), utc(2026, 3, 10, 17), False),  # Seattle, PDT since 8 March
        (utc(2026, 4, 7, 7), utc(2026, 4, 7, 7, 15), False),  # Standup
        (utc(2026, 4, 14, 7, 30), utc(2026, 4, 14, 7, 45), False),  # Standup, moved
        (utc(2026, 4, 15, 14), utc(2026, 4, 15, 15), False),  # tentative counts as busy
        (utc(2026, 4, 16, 7), utc(2026, 4, 16, 7, 15), False),  # Standup, the UNTIL day
        (utc(2026, 4, 19, 22), utc(2026, 4, 22, 22), True),  # out of office, three days
    ]
    moved = busy[2]
    assert moved.uid == f"{STANDUP}@2026-04-14T07:00:00+00:00"


def test_outlook_free_status_is_not_busy_even_when_opaque():
    busy = read(feed("outlook.ics"), end=utc(2026, 5, 1))

    assert not [b for b in busy if b.start.date() == utc(2026, 4, 8).date()]


@pytest.mark.parametrize(
    ("tzid", "expected"),
    [
        ("Pacific Standard Time", utc(2026, 7, 7, 16)),
        ('"W. Europe Standard Time"', utc(2026, 7, 7, 7)),
        ("Tokyo Standard Time", utc(2026, 7, 7, 0)),
        ("/freeassociation.sourceforge.net/Europe/Berlin", utc(2026, 7, 7, 7)),
    ],
)
def test_zone_names_without_a_vtimezone(tzid, expected):
    data = calendar(f"DTSTART;TZID={tzid}:20260707T090000\nDTEND;TZID={tzid}:20260707T100000")

    assert spans(read(data)) == [(expected, expected + HOUR, False)]


def _custom_zone_feed(offset: str) -> bytes:
    return calendar(
        "DTSTART;TZID=Customized Time Zone:20260707T090000\n"
        "DTEND;TZID=Customized Time Zone:20260707T100000",
        head=f"""
BEGIN:VTIMEZONE
TZID:Customized Time Zone
BEGIN:STANDARD
DTSTART:16010101T000000
TZOFFSETFROM:{offset}
TZOFFSETTO:{offset}
END:STANDARD
END:VTIMEZONE
""",
    )


def test_each_feed_uses_its_own_definition_of_a_custom_zone():
    # icalendar caches VTIMEZONEs by name for the whole process: the second
    # feed would otherwise be read in the first feed's zone.
    plus_three = read(_custom_zone_feed("+0300"))
    minus_five = read(_custom_zone_feed("-0500"))

    assert spans(plus_three) == [(utc(2026, 7, 7, 6), utc(2026, 7, 7, 7), False)]
    assert spans(minus_five) == [(utc(2026, 7, 7, 14), utc(2026, 7, 7, 15), False)]


def test_a_zone_the_feed_never_defines_is_read_as_the_providers_wall_clock():
    data = calendar("DTSTART;TZID=Nowhere/Special:20260707T090000\nDURATION:PT1H")

    assert spans(read(data)) == [(utc(2026, 7, 7, 7), utc(2026, 7, 7, 8), False)]


# iCloud


def test_apple_feed_is_read_exactly_with_floating_times_in_the_providers_zone():
    busy = read(feed("apple.ics"), zone=KATHMANDU, end=utc(2026, 5, 1))

    assert spans(busy) == [
        (utc(2026, 3, 12, 14, 30), utc(2026, 3, 12, 15, 30), False),  # New York, EDT
        (utc(2026, 3, 14, 1, 45), utc(2026, 3, 14, 2, 45), False),  # Yoga 07:30 floating
        (utc(2026, 3, 19, 18, 15), utc(2026, 3, 21, 18, 15), True),  # Family visit
        (utc(2026, 3, 21, 1, 45), utc(2026, 3, 21, 2, 45), False),  # Yoga, RDATE
        (utc(2026, 3, 28, 3, 15), utc(2026, 3, 28, 4, 15), False),  # Yoga, RDATE 09:00
        (utc(2026, 4, 14, 18, 15), utc(2026, 4, 15, 18, 15), True),  # Tax day, yearly
    ]
    assert [b.uid for b in busy if b.uid.startswith(YOGA)] == [
        f"{YOGA}@2026-03-14T01:45:00+00:00",
        f"{YOGA}@2026-03-21T01:45:00+00:00",
        f"{YOGA}@2026-03-28T03:15:00+00:00",
    ]
    assert busy[-1].uid == "6D8F0A2C-4E6A-4B8C-8D0E-2F4A6C8E0A2C@2026-04-15"


def test_floating_times_move_with_the_providers_zone():
    busy = read(feed("apple.ics"), zone=BERLIN, end=utc(2026, 5, 1))
    yoga = [(b.start, b.end) for b in busy if b.uid.startswith(YOGA)]

    assert yoga == [
        (utc(2026, 3, 14, 6, 30), utc(2026, 3, 14, 7, 30)),
        (utc(2026, 3, 21, 6, 30), utc(2026, 3, 21, 7, 30)),
        (utc(2026, 3, 28, 8), utc(2026, 3, 28, 9)),  # the day before Berlin's change
    ]


def test_transparent_birthdays_cancelled_events_and_todos_are_not_busy():
    busy = read(feed("apple.ics"), zone=KATHMANDU, end=utc(2026, 5, 1))

    assert not [b for b in busy if b.start.date() in (utc(2026, 4, 2).date(),)]  # birthday
    assert not [b for b in busy if b.uid.startswith(("E5F7A9B1", "F7A9B1C3"))]


# What an event means without an end, and the window


def test_an_event_without_an_end():
    data = calendar(
        "DTSTART;VALUE=DATE:20260329",  # one day
        "DTSTART;TZID=Europe/Berlin:20260401T090000\nDURATION:PT1H30M",
        "DTSTART:20260402T090000Z",  # a moment: nothing to block
    )

    assert spans(read(data)) == [
        (utc(2026, 3, 28, 23), utc(2026, 3, 29, 22), True),
        (utc(2026, 4, 1, 7), utc(2026, 4, 1, 8, 30), False),
    ]


def test_cancelled_event_and_free_outlook_event_are_not_busy():
    data = calendar(
        "DTSTART:20260401T090000Z\nDTEND:20260401T100000Z\nSTATUS:CANCELLED",
        "DTSTART:20260401T090000Z\nDTEND:20260401T100000Z\nX-MICROSOFT-CDO-BUSYSTATUS:FREE",
        "DTSTART:20260401T120000Z\nDTEND:20260401T130000Z\nSTATUS:TENTATIVE",
    )

    assert spans(read(data)) == [(utc(2026, 4, 1, 12), utc(2026, 4, 1, 13), False)]


def test_events_overlapping_the_window_are_kept_whole_and_touching_ones_left_out():
    data = calendar(
        "DTSTART:20260331T220000Z\nDTEND:20260401T020000Z",  # across the start
        "DTSTART:20260331T200000Z\nDTEND:20260401T000000Z",  # ends at the start
        "DTSTART:20260401T230000Z\nDTEND:20260402T010000Z",  # across the end
        "DTSTART:20260402T000000Z\nDTEND:20260402T010000Z",  # starts at the end
    )

    busy = read(data, start=utc(2026, 4, 1), end=utc(2026, 4, 2))

    assert spans(busy) == [
        (utc(2026, 3, 31, 22), utc(2026, 4, 1, 2), False),
        (utc(2026, 4, 1, 23), utc(2026, 4, 2, 1), False),
    ]


def test_occurrences_moved_into_and_out_of_the_window():
    series = "UID:s\nDTSTART:20260401T090000Z\nDTEND:20260401T100000Z\nRRULE:FREQ=DAILY;COUNT=5"
    data = calendar(
        series,
        # 2 April moves out of the window, 6 April (past COUNT) cannot move in,
        # 1 April moves later but stays.
        "UID:s\nRECURRENCE-ID:20260402T090000Z\nDTSTART:20260501T090000Z\nDTEND:20260501T100000Z",
        "UID:s\nRECURRENCE-ID:20260401T090000Z\nDTSTART:20260401T150000Z\nDTEND:20260401T160000Z",
        # An occurrence from before the window moved into it.
        "UID:t\nDTSTART:20260320T090000Z\nDTEND:20260320T100000Z\nRRULE:FREQ=DAILY;COUNT=2",
        "UID:t\nRECURRENCE-ID:20260321T090000Z\nDTSTART:20260403T120000Z\nDTEND:20260403T130000Z",
    )

    busy = read(data, start=utc(2026, 4, 1), end=utc(2026, 4, 4))

    assert [(b.uid, b.start) for b in busy] == [
        ("s@2026-04-01T09:00:00+00:00", utc(2026, 4, 1, 15)),
        ("s@2026-04-03T09:00:00+00:00", utc(2026, 4, 3, 9)),
        ("t@2026-03-21T09:00:00+00:00", utc(2026, 4, 3, 12)),
    ]


def test_a_single_event_keeps_its_plain_uid_and_one_without_a_uid_is_still_busy():
    data = calendar("UID:plain@example.com\nDTSTART:20260401T090000Z\nDURATION:PT1H")
    no_uid = data.replace(b"UID:plain@example.com\r\n", b"")

    assert [b.uid for b in read(data)] == ["plain@example.com"]
    assert [(b.uid, b.start) for b in read(no_uid)] == [("", utc(2026, 4, 1, 9))]


def test_window_must_be_aware():
    with pytest.raises(ValueError, match="aware"):
        busy_times(calendar(), zone=BERLIN, start=datetime(2026, 4, 1), end=utc(2026, 5, 1))  # noqa: DTZ001


# Garbage, broken events and bounds


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "it does not begin with BEGIN:VCALENDAR"),
        (b"<!DOCTYPE html><html><body>Sign in to continue</body></html>", "a web page"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "it does not begin with BEGIN:VCALENDAR"),
        (feed("google.ics")[:5000], "cut off before END:VCALENDAR"),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nthis is not a property\r\n", "cut off or malformed"),
    ],
)
def test_data_that_is_not_icalendar_is_a_feed_error(data, reason):
    with pytest.raises(FeedError, match=r"^The feed is not an iCalendar file: ") as raised:
        read(data)

    assert reason in str(raised.value)


def test_a_broken_event_is_skipped_and_the_rest_still_count():
    data = calendar(
        "DTSTART:2026XX01T090000Z\nDTEND:20260401T100000Z",  # unreadable start
        "DTEND:20260401T100000Z\nSUMMARY:no start at all",
        "DTSTART:20260401T090000Z\nDTEND:20260401T100000Z\nRRULE:FREQ=SOMETIMES",
        "DTSTART:20260401T090000Z\nDTEND:20260401T100000Z\nRRULE:FREQ=DAILY;COUNT=2",
    )

    assert spans(read(data)) == [
        (utc(2026, 4, 1, 9), utc(2026, 4, 1, 10), False),
        (utc(2026, 4, 2, 9), utc(2026, 4, 2, 10), False),
    ]


def test_an_unknown_x_wr_timezone_does_not_stop_the_feed():
    data = calendar("DTSTART:20260401T090000Z\nDURATION:PT1H", head="X-WR-TIMEZONE:Mars/Olympus")

    assert spans(read(data)) == [(utc(2026, 4, 1, 9), utc(2026, 4, 1, 10), False)]


def test_a_calendar_other_than_gregorian_is_a_feed_error():
    with pytest.raises(FeedError, match="Gregorian"):
        read(calendar("DTSTART:20260401T090000Z", head="CALSCALE:CHINESE"))


def test_more_busy_times_than_the_bound_is_a_feed_error(monkeypatch):
    monkeypatch.setattr(ics, "MAX_BUSY", 3)
    events = [f"DTSTART:2026040{d}T090000Z\nDURATION:PT1H" for d in range(1, 5)]

    assert len(read(calendar(*events[:3]))) == 3
    with pytest.raises(FeedError, match="more than 3 busy times"):
        read(calendar(*events))


@pytest.mark.parametrize(
    "rule",
    [
        "FREQ=MINUTELY",  # ~580,000 in the window
        "FREQ=HOURLY;BYMINUTE=0,15,30,45",  # ~23,000
        "FREQ=SECONDLY;UNTIL=20190201T000000Z",  # none in the window, a month of seconds to skip
    ],
)
def test_a_rule_that_repeats_too_often_is_refused_before_it_is_expanded(rule):
    data = calendar(f"DTSTART:20190101T090000Z\nDURATION:PT1M\nRRULE:{rule}")

    began = time.monotonic()
    with pytest.raises(FeedError, match="repeats more often"):
        read(data)
    assert time.monotonic() - began < 1


def test_frequent_but_reasonable_rules_are_read():
    data = calendar(
        "DTSTART:20260301T090000Z\nDURATION:PT30M\nRRULE:FREQ=HOURLY;BYHOUR=9,13",
        "DTSTART:19900101T120000Z\nDURATION:PT1H\nRRULE:FREQ=DAILY",  # daily since 1990
    )

    busy = read(data)

    assert len(busy) == 2 * 245 + 245  # 1 March to 1 November: 245 days


# Fetching


def test_webcal_addresses_are_https():
    assert feed_url("webcal://p42-caldav.icloud.com/published/2/MTIz") == (
        "https://p42-caldav.icloud.com/published/2/MTIz"
    )
    assert feed_url("webcals://example.com/a.ics?k=1") == "https://example.com/a.ics?k=1"
    assert feed_url(" WEBCAL://example.com/a.ics ") == "https://example.com/a.ics"
    assert feed_url("http://example.com/a.ics") == "http://example.com/a.ics"


@pytest.mark.parametrize(
    "url", ["ftp://example.com/a.ics", "file:///etc/passwd", "example.com/a.ics", "webcal:///a"]
)
def test_other_addresses_are_refused(url):
    with pytest.raises(FeedError, match="address"):
        feed_url(url)
    with pytest.raises(FeedError, match="address"):
        fetch(url)


def test_fetch_reads_a_feed_and_then_asks_only_whether_it_changed(feed_server: FeedServer):
    url = feed_server.url("/feeds/google.ics")

    first = fetch(url)
    again = fetch(url, etag=first.etag, last_modified=first.last_modified)

    assert first.body == feed("google.ics")
    assert first.etag.startswith('"')
    assert first.last_modified == FEEDS_MODIFIED
    assert again == ics.Fetched(None, first.etag, first.last_modified)
    asked = feed_server.requests[1].headers
    assert asked["if-none-match"] == first.etag
    assert asked["if-modified-since"] == FEEDS_MODIFIED
    assert asked["user-agent"] == "slotwise"
    assert "if-none-match" not in feed_server.requests[0].headers


def test_fetch_with_only_last_modified_gets_not_modified(feed_server: FeedServer):
    fetched = fetch(feed_server.url("/feeds/outlook.ics"), last_modified=FEEDS_MODIFIED)

    assert fetched.body is None
    assert fetched.last_modified == FEEDS_MODIFIED


def test_a_changed_feed_is_read_again(feed_server: FeedServer):
    url = feed_server.url("/feeds/apple.ics")

    fetched = fetch(url, etag='"an-older-version"')

    assert fetched.body == feed("apple.ics")
    assert fetched.etag != '"an-older-version"'


def test_fetch_sends_basic_auth(feed_server: FeedServer):
    url = feed_server.answer("/private/basic.ics", body=b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n")

    fetch(url, auth=("ann", "s3cret"))

    assert feed_server.requests[0].headers["authorization"] == "Basic YW5uOnMzY3JldA=="


def test_fetch_follows_redirects(feed_server: FeedServer):
    feed_server.redirect("/old.ics", "/moved.ics", status=301)
    url = feed_server.redirect("/moved.ics", feed_server.url("/feeds/google.ics"))

    fetched = fetch(feed_server.url("/old.ics"))

    assert fetched.body == feed("google.ics")
    assert [r.path for r in feed_server.requests] == ["/old.ics", "/moved.ics", "/feeds/google.ics"]
    assert url.endswith("/moved.ics")


def test_fetch_stops_after_five_redirects(feed_server: FeedServer):
    for n in range(10):
        feed_server.redirect(f"/hop{n}.ics", f"/hop{n + 1}.ics")

    with pytest.raises(FeedError, match="redirected more than 5 times"):
        fetch(feed_server.url("/hop0.ics"))
    assert len(feed_server.requests) == 6


SECRET_PATH = "/private/ZXhhbXBsZS1zZWNyZXQtdG9rZW4/basic.ics"


@pytest.mark.parametrize("status", [404, 500, 401])
def test_error_answers_are_feed_errors_without_the_url(feed_server: FeedServer, status):
    url = feed_server.answer(SECRET_PATH, status=status, body=b"<h1>no</h1>")

    with pytest.raises(FeedError) as raised:
        fetch(url)

    assert str(raised.value) == f"The calendar answered {status}."
    _assert_no_url(raised.value)


def _assert_no_url(error: FeedError) -> None:
    assert "ZXhhbXBsZS1zZWNyZXQtdG9rZW4" not in str(error)
    assert "127.0.0.1" not in str(error)
    # Nothing chained that a traceback or an error tracker would print.
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def test_a_server_that_never_answers_times_out_quickly(feed_server: FeedServer):
    url = feed_server.answer(SECRET_PATH, hang=True)

    began = time.monotonic()
    with pytest.raises(FeedError, match=r"did not answer within 0\.5 seconds") as raised:
        fetch(url, timeout=0.5)

    assert time.monotonic() - began < 2
    _assert_no_url(raised.value)


def test_a_server_that_sends_slowly_is_cut_off_at_twice_the_timeout(feed_server: FeedServer):
    url = feed_server.answer(SECRET_PATH, body=b"BEGIN:VCALENDAR\r\n" * 20, drip=0.05)

    began = time.monotonic()
    with pytest.raises(FeedError, match="too slowly"):
        fetch(url, timeout=0.5)

    assert 0.9 < time.monotonic() - began < 2


def test_a_server_that_stops_sending_times_out(feed_server: FeedServer):
    url = feed_server.answer(SECRET_PATH, body=b"BEGIN:VCALENDAR\r\n", drip=5)

    began = time.monotonic()
    with pytest.raises(FeedError, match=r"did not answer within 0\.3 seconds"):
        fetch(url, timeout=0.3)

    assert time.monotonic() - began < 1.5


def test_a_server_that_is_not_there_is_a_feed_error():
    url = f"http://127.0.0.1:{free_port()}{SECRET_PATH}"

    with pytest.raises(FeedError, match="could not be reached") as raised:
        fetch(url, timeout=0.5)

    _assert_no_url(raised.value)


@pytest.mark.parametrize("send_length", [True, False])
def test_a_body_larger_than_the_limit_is_a_feed_error(feed_server: FeedServer, send_length):
    url = feed_server.answer(SECRET_PATH, body=b"x" * 5000, send_length=send_length)

    with pytest.raises(FeedError, match="larger than 4,000 bytes") as raised:
        fetch(url, max_bytes=4000)

    _assert_no_url(raised.value)
    assert len(fetch(url, max_bytes=5000).body or b"") == 5000


def test_compressed_feeds_are_read_and_measured_unpacked(feed_server: FeedServer):
    body = feed("google.ics")
    packed = feed_server.answer(
        "/packed.ics", body=gzip.compress(body), headers={"Content-Encoding": "gzip"}
    )
    bomb = feed_server.answer(
        "/bomb.ics", body=gzip.compress(b"\0" * 2_000_000), headers={"Content-Encoding": "gzip"}
    )

    assert fetch(packed).body == body
    with pytest.raises(FeedError, match="larger than 1 MB"):
        fetch(bomb, max_bytes=1_000_000)
