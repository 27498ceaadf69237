"""Busy time from iCalendar feeds: the "secret address in iCal format" that
Google Calendar, Outlook and iCloud publish.

:func:`fetch` reads a feed with a conditional, bounded GET; :func:`busy_times`
expands its events into the busy intervals of a window, in UTC::

    fetched = fetch(url, etag=etag, last_modified=last_modified)
    if fetched.body is not None:
        busy = busy_times(fetched.body, zone=ZoneInfo("Europe/Berlin"), start=start, end=end)

What counts as busy:

- every occurrence of an event, with ``RRULE``, ``RDATE``, ``EXDATE`` and
  moved or cancelled occurrences (``RECURRENCE-ID``) applied;
- all-day events (``DATE`` values) from local midnight in the provider's
  ``zone`` on the start date to local midnight on the end date (``DTEND`` is
  exclusive; without one, a single day), so a day on which the clocks change
  is 23 or 25 hours long;
- times with no zone ("floating") are wall-clock times in the provider's
  ``zone``.

Not busy: events marked free (``TRANSP:TRANSPARENT``, which all-day events
are unless marked busy, or Outlook's ``X-MICROSOFT-CDO-BUSYSTATUS:FREE``),
cancelled events and occurrences, events that last no time at all, to-dos and
journal entries.

Zones: a ``TZID`` that names an IANA zone is that zone; Windows names as
Outlook writes them (``W. Europe Standard Time``) are mapped to their IANA
zone; any other name is read from the feed's own ``VTIMEZONE``, and a name
with no definition in the feed is treated as floating.
"""

from __future__ import annotations

import functools
import math
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from datetime import time as clock
from typing import Any, ClassVar
from urllib.parse import urlsplit, urlunsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import icalendar
import recurring_ical_events
import requests
import urllib3
from icalendar.timezone import is_utc
from icalendar.timezone.windows_to_olson import WINDOWS_TO_OLSON

__all__ = [
    "MAX_BUSY",
    "MAX_REDIRECTS",
    "MAX_STEPS",
    "Busy",
    "FeedError",
    "Fetched",
    "busy_times",
    "feed_url",
    "fetch",
]

MAX_BUSY = 20_000
"""The most busy intervals one feed may hold in a window."""
MAX_REDIRECTS = 5
USER_AGENT = "slotwise"


class FeedError(Exception):
    """The feed could not be read: unreachable, too slow, too big, not a calendar.

    The message is for staff to read; it never contains the feed's URL (which
    is a secret).
    """


@dataclass(frozen=True, slots=True)
class Busy:
    """One busy interval of a feed.

    ``uid`` is the event's UID; for an occurrence of a recurring event it is
    followed by ``@`` and the occurrence's ``RECURRENCE-ID`` in UTC (ISO 8601,
    a plain date for all-day series), so each occurrence is distinct and keeps
    its name when it is moved.
    """

    uid: str
    start: datetime
    end: datetime
    all_day: bool


@dataclass(frozen=True, slots=True)
class Fetched:
    """What :func:`fetch` read: ``body`` is ``None`` when the feed answered
    304 Not Modified; ``etag`` and ``last_modified`` are for the next request."""

    body: bytes | None
    etag: str
    last_modified: str


# Fetching


def feed_url(url: str) -> str:
    """The address to GET for a feed address: ``webcal://`` and ``webcals://``
    are ``https://``; anything but http(s) is a :class:`FeedError`.

    >>> feed_url("webcal://p42-caldav.icloud.com/published/2/abc")
    'https://p42-caldav.icloud.com/published/2/abc'
    """
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme in ("webcal", "webcals"):
        parts = parts._replace(scheme="https")
    elif scheme not in ("http", "https"):
        raise FeedError("The calendar's address must start with https://, http:// or webcal://.")
    if not parts.hostname:
        raise FeedError("The calendar's address names no server.")
    return urlunsplit(parts)


def fetch(
    url: str,
    *,
    etag: str = "",
    last_modified: str = "",
    auth: tuple[str, str] | None = None,
    timeout: float = 10.0,
    max_bytes: int = 10_000_000,
) -> Fetched:
    """GET a feed, conditionally on ``etag`` and ``last_modified`` from the last read.

    Bounded: ``timeout`` seconds to connect and for each read, ``2 * timeout``
    for the whole body, at most ``max_bytes`` (after decompression) and
    :data:`MAX_REDIRECTS` redirects. Any failure, including an answer other
    than 2xx or 304, is a :class:`FeedError`.
    """
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.1"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    target = feed_url(url)
    deadline = time.monotonic() + 2 * timeout
    # Errors from requests and urllib3 name the URL: none is chained.
    try:
        with requests.Session() as session:
            session.max_redirects = MAX_REDIRECTS
            with session.get(
                target, headers=headers, auth=auth, timeout=(timeout, timeout), stream=True
            ) as response:
                status = response.status_code
                answered_etag = response.headers.get("ETag", "")
                answered_modified = response.headers.get("Last-Modified", "")
                if status == 304:
                    return Fetched(None, answered_etag or etag, answered_modified or last_modified)
                if not 200 <= status < 300:
                    raise FeedError(f"The calendar answered {status}.")
                body = _read_body(response, max_bytes=max_bytes, deadline=deadline)
    except (requests.Timeout, urllib3.exceptions.TimeoutError, TimeoutError):
        raise FeedError(f"The calendar did not answer within {timeout:g} seconds.") from None
    except requests.TooManyRedirects:
        raise FeedError(f"The calendar redirected more than {MAX_REDIRECTS} times.") from None
    except requests.exceptions.SSLError:
        raise FeedError("The calendar's server has no valid certificate.") from None
    except requests.ConnectionError:
        raise FeedError("The calendar's server could not be reached.") from None
    except (requests.RequestException, urllib3.exceptions.HTTPError, OSError):
        raise FeedError("The calendar could not be read.") from None
    return Fetched(body, answered_etag, answered_modified)


def _read_body(response: requests.Response, *, max_bytes: int, deadline: float) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise FeedError(_too_big(max_bytes))
    body = bytearray()
    while True:
        # read1 returns what has arrived, so a server sending a byte at a time
        # cannot keep us past the deadline.
        chunk = response.raw.read1(64 * 1024, decode_content=True)
        if not chunk:
            return bytes(body)
        body += chunk
        if len(body) > max_bytes:
            raise FeedError(_too_big(max_bytes))
        if time.monotonic() > deadline:
            raise FeedError("The calendar sent its events too slowly.")


def _too_big(max_bytes: int) -> str:
    size = f"{max_bytes // 1_000_000} MB" if max_bytes % 1_000_000 == 0 else f"{max_bytes:,} bytes"
    return f"The calendar is larger than {size}."


# Reading


class _Query(recurring_ical_events.CalendarQuery):
    # An event the library cannot expand (no start, a broken rule...) is left
    # out on its own; the rest of the feed still counts.
    suppressed_errors: ClassVar[list[type[Exception]]] = [Exception]


def busy_times(data: bytes, *, zone: ZoneInfo, start: datetime, end: datetime) -> list[Busy]:
    """The busy intervals of an iCalendar feed that overlap ``[start, end)``.

    Intervals are whole (not clipped to the window), in UTC and sorted by
    start. ``zone`` is the provider's: it places all-day events and floating
    times. An event that cannot be read is skipped; data that is not
    iCalendar at all, or more than :data:`MAX_BUSY` intervals, is a
    :class:`FeedError`.
    """
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("start and end must be aware datetimes.")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    found: list[Busy] = []
    for calendar in _parse(data):
        found.extend(_calendar_busy(calendar, zone, start, end))
        if len(found) > MAX_BUSY:
            raise FeedError(_too_many(start, end))
    found.sort(key=lambda busy: (busy.start, busy.end, busy.uid))
    return found


def _parse(data: bytes) -> list[icalendar.Calendar]:
    head = data.lstrip(b"\xef\xbb\xbf \t\r\n")[:15].upper()
    if head.startswith(b"<"):
        raise FeedError("The feed is not an iCalendar file: it is a web page.")
    if not head.startswith(b"BEGIN:VCALENDAR"):
        raise FeedError(
            "The feed is not an iCalendar file: it does not begin with BEGIN:VCALENDAR."
        )
    try:
        with warnings.catch_warnings():
            # icalendar warns when it guesses a zone; the guess is redone below.
            warnings.simplefilter("ignore")
            parsed = icalendar.Calendar.from_ical(data, multiple=True)
    except Exception:  # the parser's errors quote the data
        raise FeedError("The feed is not an iCalendar file: it is cut off or malformed.") from None
    calendars = [c for c in parsed if isinstance(c, icalendar.Calendar) and c.name == "VCALENDAR"]
    if not calendars:
        raise FeedError("The feed is not an iCalendar file: it is cut off before END:VCALENDAR.")
    return calendars


def _calendar_busy(
    calendar: icalendar.Calendar, zone: ZoneInfo, start: datetime, end: datetime
) -> Iterator[Busy]:
    _settle_zones(calendar)
    if str(calendar.get("CALSCALE", "GREGORIAN")).upper() != "GREGORIAN":
        raise FeedError("The feed uses a calendar other than the Gregorian one.")
    events = calendar.walk("VEVENT")
    _check_density(events, zone, start, end)
    recurring = {
        str(event.get("UID", ""))
        for event in events
        if any(name in event for name in ("RRULE", "RDATE", "RECURRENCE-ID"))
    }
    # Floating times and dates are compared in the query's zone: the provider's.
    query = recurring_ical_events.of(
        calendar,
        keep_recurrence_attributes=True,
        skip_bad_series=True,
        calendar_query=_Query,
    )
    window = (
        (start - timedelta(days=1)).astimezone(zone),
        (end + timedelta(days=1)).astimezone(zone),
    )
    for occurrence in query.between(*window):
        try:
            busy = _busy(occurrence, zone, recurring)
        except Exception:  # noqa: S112 an unreadable occurrence blocks nothing, the rest still count
            continue
        if busy is not None and busy.start < end and start < busy.end:
            yield busy


def _busy(event: icalendar.Event, zone: ZoneInfo, recurring: set[str]) -> Busy | None:
    if str(event.get("STATUS", "")).upper() == "CANCELLED":
        return None
    if str(event.get("TRANSP", "")).upper() == "TRANSPARENT":
        return None
    if str(event.get("X-MICROSOFT-CDO-BUSYSTATUS", "")).upper() == "FREE":
        return None
    first = event["DTSTART"].dt
    # The library gives every occurrence an end: from DTEND, DURATION or the
    # RFC 5545 default (a day for dates, nothing for date-times).
    last = event["DTEND"].dt if "DTEND" in event else first
    begins, ends = _instant(first, zone), _instant(last, zone)
    if ends <= begins:
        return None
    uid = str(event.get("UID", ""))
    if uid in recurring:
        recurrence_id = event["RECURRENCE-ID"].dt if "RECURRENCE-ID" in event else first
        uid = f"{uid}@{_recurrence_key(recurrence_id, zone)}"
    return Busy(uid, begins, ends, all_day=not isinstance(first, datetime))


def _instant(value: date, zone: ZoneInfo) -> datetime:
    """A DATE is local midnight in ``zone``; a floating DATE-TIME is in ``zone``.

    With zoneinfo's ``fold=0``, a midnight the clocks skip is the moment they
    jump and a repeated one is its first pass: the whole local day stays busy.
    """
    if not isinstance(value, datetime):
        value = datetime.combine(value, clock(), tzinfo=zone)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=zone)
    return value.astimezone(UTC)


def _recurrence_key(value: date, zone: ZoneInfo) -> str:
    if not isinstance(value, datetime):
        return value.isoformat()
    return _instant(value, zone).isoformat()


def _too_many(start: datetime, end: datetime) -> str:
    return (
        f"The feed has more than {MAX_BUSY} busy times between {start:%Y-%m-%d} and "
        f"{end:%Y-%m-%d}, or an event that repeats more often than that."
    )


# How often an event can occur, before the library is asked to list it all.

_SECONDS = {"HOURLY": 3600, "MINUTELY": 60, "SECONDLY": 1}
MAX_STEPS = 500_000
"""The most candidate occurrences the rules of one feed may make the library
step through (it starts at each rule's DTSTART): about three seconds."""


def _check_density(events: list[Any], zone: ZoneInfo, start: datetime, end: datetime) -> None:
    """Refuse a feed whose rules would produce more than :data:`MAX_BUSY`
    occurrences in the window, or take more than :data:`MAX_STEPS` to list."""
    occurrences = steps = 0.0
    for event in events:
        try:
            first = _instant(event["DTSTART"].dt, zone)
        except Exception:  # noqa: S112 no readable start: the library skips the event
            continue
        for rdate in _as_list(event.get("RDATE", [])):
            for item in getattr(rdate, "dts", ()):
                value = item.dt[0] if isinstance(item.dt, tuple) else item.dt
                occurrences += start <= _instant(value, zone) <= end
        for rule in _as_list(event.get("RRULE", [])):
            try:
                per_day, last, count = _rule_rate(rule, zone)
            except Exception:  # noqa: S112 a rule the library cannot read either
                continue
            last = min(last or end, end)
            occurrences += min(count, per_day * max(0.0, _days(max(first, start), last)))
            steps += min(count, per_day * max(0.0, _days(first, last)))
    if occurrences > MAX_BUSY or steps > MAX_STEPS:
        raise FeedError(_too_many(start, end))


def _rule_rate(rule: Any, zone: ZoneInfo) -> tuple[float, datetime | None, float]:
    """An upper bound on occurrences per day, the UNTIL instant and the COUNT of a rule."""
    frequency = str(rule["FREQ"][0]).upper()
    interval = max(1, int(rule.get("INTERVAL", [1])[0]))
    if frequency in _SECONDS:
        per_day = 86_400 / (_SECONDS[frequency] * interval)
        # BY* parts finer than the frequency multiply it; the others only filter.
        finer = {"HOURLY": ("BYMINUTE", "BYSECOND"), "MINUTELY": ("BYSECOND",)}
        expanding: tuple[str, ...] = finer.get(frequency, ())
    else:
        per_day = 1.0  # at most a day at a time, whatever BYDAY or BYMONTHDAY say
        expanding = ("BYHOUR", "BYMINUTE", "BYSECOND")
    for part in expanding:
        per_day *= max(1, len(rule.get(part, [])))
    until = rule.get("UNTIL")
    count = float(rule["COUNT"][0]) if "COUNT" in rule else math.inf
    return per_day, _instant(until[0], zone) if until else None, count


def _days(first: datetime, last: datetime) -> float:
    return (last - first) / timedelta(days=1) + 1


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


# Zones


def _settle_zones(calendar: icalendar.Calendar) -> None:
    """Give each zoned time the zone its feed means, ignoring icalendar's
    process-wide cache of ``VTIMEZONE`` definitions, where one feed's
    "Customized Time Zone" would otherwise stand for every other feed's."""
    own: dict[str, tzinfo] = {}
    for component in calendar.walk("VTIMEZONE"):
        name = _clean(str(component.get("TZID", "")))
        if name and _known_zone(name) is None:
            try:
                own[name] = component.to_tz(lookup_tzid=False)
            except Exception:  # noqa: S112 an unusable definition: its times are floating
                continue

    def resolve(tzid: str) -> tzinfo | None:
        name = _clean(tzid)
        return _known_zone(name) or own.get(name)

    if "X-WR-TIMEZONE" in calendar:
        named = _known_zone(_clean(str(calendar["X-WR-TIMEZONE"])))
        # Read by recurring_ical_events, which fails on a name it does not know.
        del calendar["X-WR-TIMEZONE"]
        if isinstance(named, ZoneInfo):
            calendar["X-WR-TIMEZONE"] = named.key
    for event in calendar.walk("VEVENT"):
        for name in ("DTSTART", "DTEND", "RECURRENCE-ID", "EXDATE", "RDATE"):
            for value in _as_list(event.get(name, [])):
                tzid = getattr(value, "params", {}).get("TZID")
                if not tzid:
                    continue
                zone = resolve(str(tzid))
                for item in getattr(value, "dts", None) or [value]:
                    item.dt = _with_zone(item.dt, zone)


def _with_zone(value: Any, zone: tzinfo | None) -> Any:
    if isinstance(value, tuple):  # an RDATE period
        return tuple(_with_zone(part, zone) for part in value)
    if isinstance(value, datetime) and not is_utc(value):
        return value.replace(tzinfo=zone)
    return value


def _clean(tzid: str) -> str:
    return tzid.strip().strip('"').strip()


@functools.lru_cache(maxsize=512)  # a failed lookup reads the disk each time
def _known_zone(name: str) -> ZoneInfo | None:
    """The IANA zone for an IANA name, a Windows name or a "globally unique"
    TZID such as ``/freeassociation.sourceforge.net/Europe/Berlin``."""
    candidates = [name, WINDOWS_TO_OLSON.get(name, "")]
    if name.startswith("/"):
        parts = name.strip("/").split("/")
        candidates += ["/".join(parts[i:]) for i in range(len(parts))]
    for candidate in candidates:
        if not candidate:
            continue
        try:
            return ZoneInfo(candidate)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            continue
    return None
