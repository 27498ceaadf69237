"""A small CalDAV client: a provider's calendars, their events, slotwise's own.

Five calls, each with its own connection and a ``timeout`` in seconds for
every request it makes (to connect, and between bytes of an answer):

- :func:`calendars` lists the calendars of an account;
- :func:`changes` reads a calendar's events, incrementally with an RFC 6578
  sync token where the server keeps one;
- :func:`put_event`, :func:`get_event` and :func:`delete_event` write, read
  and remove one event.

An event is named by its *href*: the absolute URL of its resource, spelled
the same way by every call (the path percent-encoded, ``@`` as ``%40``), so
the href :func:`put_event` returns is the key :func:`changes` uses for the
same event. Every failure of the server is a :class:`CalDAVError`::

    try:
        found = changes(url, "ann", password, sync_token=token)
    except CalDAVError as error:
        if error.permanent: ...  # staff must fix the address or the password
        else: ...  # try again later

The ``caldav`` library does the protocol; this module keeps its defaults out
of slotwise: no DNS service discovery (the URL is given), no silent fallback
from a refused sync token to a full read disguised as a change list, and no
rewriting of event data (SEQUENCE bumps, merges) on the way out.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from http import HTTPStatus
from urllib.parse import quote, unquote, urljoin, urlsplit, urlunsplit

import caldav
import icalendar
import niquests
from caldav.elements import dav
from caldav.lib import error
from caldav.lib.url import URL
from lxml import etree

__all__ = [
    "CalDAVError",
    "Changes",
    "RemoteCalendar",
    "calendars",
    "changes",
    "delete_event",
    "get_event",
    "put_event",
]

CALENDAR_TYPE = "{urn:ietf:params:xml:ns:caldav}calendar"
# What a server says when it will not sync from a token (RFC 6578 section
# 3.2, RFC 3253 section 3.6): read everything again, do not give up.
TOKEN_REFUSED = {dav.ValidSyncToken.tag, dav.SupportedReport.tag}
REPORT_REFUSED = {400, 405, 409, 412, 415, 422, 501}
MULTIGET_BATCH = 100


class CalDAVError(Exception):
    """The server could not be used.

    ``permanent`` is for what trying again will not fix: the server refused
    the username or password (401, 403), or the URL is not a calendar (404,
    405, another 4xx). Otherwise (unreachable, timed out, 5xx, rate limited,
    an answer that is not CalDAV) it is temporary. The message is for staff:
    it names the URL without any credentials in it and never the password.
    """

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True, slots=True)
class RemoteCalendar:
    url: str
    name: str


@dataclass(frozen=True, slots=True)
class Changes:
    """What :func:`changes` found.

    ``events`` maps the href of each added or changed event to its iCalendar
    data, ``deleted`` lists the hrefs removed since the sync token. When
    ``full`` is true, ``events`` is the whole calendar (or all of it in the
    time range asked for) and anything not in it is gone; ``deleted`` is then
    empty. ``sync_token`` is for the next call; ``""`` if the server keeps none.
    """

    events: dict[str, bytes]
    deleted: list[str]
    sync_token: str
    full: bool


def calendars(
    url: str, username: str, password: str, *, timeout: float = 10.0
) -> list[RemoteCalendar]:
    """The calendars of the account at ``url``: a server's or a principal's URL,
    whose calendars are found through the principal, or a calendar's own URL,
    which is the only one returned."""
    with _client(url, username, password, timeout) as client:
        here = client.calendar(url=_collection(url))
        props = here.get_properties([dav.ResourceType(), dav.DisplayName()])
        if CALENDAR_TYPE in (props.get(dav.ResourceType.tag) or []):
            found = [(here.url, props.get(dav.DisplayName.tag))]
        else:
            found = [(c.url, c.get_display_name()) for c in client.principal().get_calendars()]
        return [RemoteCalendar(_href(u), name or _last_segment(u)) for u, name in found]


def changes(
    calendar_url: str,
    username: str,
    password: str,
    *,
    sync_token: str = "",
    start: datetime | None = None,
    end: datetime | None = None,
    timeout: float = 10.0,
) -> Changes:
    """The calendar's events changed since ``sync_token``, or all of them.

    With a token the server accepts, only what changed since, wherever it
    lies in time. Without one, or when the server refuses it (expired, or no
    sync support), every event overlapping [``start``, ``end``) when those
    are given (a recurring event whole, if any occurrence overlaps), else
    every event, with ``full`` set.
    """
    with _client(calendar_url, username, password, timeout) as client:
        calendar = client.calendar(url=_collection(calendar_url))
        if sync_token:
            try:
                result = calendar.get_objects_by_sync_token(
                    sync_token, load_objects=False, disable_fallback=True
                )
            except error.DAVError as exc:
                if not _token_refused(exc):
                    raise
            else:
                gone = result.deleted_urls
                deleted = [o.url for o in result if o.url.canonical() in gone]
                changed = [o.url for o in result if o.url.canonical() not in gone]
                return Changes(
                    events=_multiget(calendar, changed),
                    deleted=[_href(u) for u in deleted],
                    sync_token=str(result.sync_token or ""),
                    full=False,
                )
        # The token is taken before the events are read: what changes in
        # between comes again next time rather than never.
        token = calendar.get_property(dav.SyncToken()) or ""
        if start is None and end is None:
            found = calendar.search(event=True, post_filter=False)
        else:
            found = calendar.search(
                event=True, start=start, end=end, expand=False, post_filter=False
            )
        events = {_href(o.url): o.raw_data for o in found if o.raw_data}
        return Changes(events=events, deleted=[], sync_token=str(token), full=True)


def put_event(
    calendar_url: str, username: str, password: str, *, uid: str, ics: bytes, timeout: float = 10.0
) -> tuple[str, str]:
    """Create or replace the event with this UID; its ``(href, etag)``.

    The resource is named after the UID, so putting the same UID again
    replaces the event rather than adding one; if the server already holds
    the UID under another name (another client created it), that resource is
    replaced. ``ics`` is stored as it is and must hold a VEVENT with ``uid``.
    """
    if uid not in _uids(ics):
        raise ValueError(f"the event data has no VEVENT with the UID {uid!r}")
    with _client(calendar_url, username, password, timeout) as client:
        calendar = client.calendar(url=_collection(calendar_url))
        event = caldav.Event(client, url=_event_url(calendar_url, uid), parent=calendar)
        try:
            event.save(raw_data=ics)
        except error.UidConflictError:
            existing = calendar.get_event_by_uid(uid)
            event = caldav.Event(client, url=existing.url, parent=calendar)
            event.save(raw_data=ics)
        href = _href(event.url)
        # A server that changed the data on the way in need not send an ETag.
        etag = event.etag or _multiget_etags(calendar, [event.url]).get(href, "")
        return href, etag


def get_event(
    calendar_url: str, username: str, password: str, *, href: str, timeout: float = 10.0
) -> tuple[bytes, str] | None:
    """The event's iCalendar data and ETag, or None if it is gone."""
    with _client(calendar_url, username, password, timeout) as client:
        calendar = client.calendar(url=_collection(calendar_url))
        for event in calendar.multiget([URL.objectify(href)]):
            if event.raw_data and _href(event.url) == _href(href):
                return event.raw_data, event.etag or ""
        return None


def delete_event(
    calendar_url: str, username: str, password: str, *, href: str, timeout: float = 10.0
) -> None:
    """Remove the event; one already gone is no error."""
    with _client(calendar_url, username, password, timeout) as client:
        response = client.delete(href)
        if response.status not in (200, 202, 204, 404, 410):
            raise error.error_from_response(error.DeleteError, response)


# The connection and its errors


@contextmanager
def _client(url: str, username: str, password: str, timeout: float) -> Iterator[caldav.DAVClient]:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CalDAVError(f"{_shown(url)} is not an http(s) URL", permanent=True)
    try:
        with caldav.DAVClient(
            url,
            username=username,
            password=password,
            timeout=timeout,  # passed on to niquests, which takes a float
            enable_rfc6764=False,
        ) as client:
            yield client
    except error.DAVError as exc:
        raise _dav_error(exc, url) from exc
    except niquests.exceptions.Timeout as exc:
        raise CalDAVError(f"{_shown(url)} did not answer within {timeout:g} s") from exc
    except niquests.exceptions.RequestException as exc:
        raise CalDAVError(f"{_shown(url)} cannot be reached ({type(exc).__name__})") from exc
    except etree.LxmlError as exc:
        raise CalDAVError(f"{_shown(url)} answered with XML that cannot be read") from exc


def _dav_error(exc: error.DAVError, url: str) -> CalDAVError:
    where = _shown(url)
    status = exc.status
    if isinstance(exc, error.NotFoundError):
        status = status or 404
    if status == 403:
        return CalDAVError(
            f"{where} refused access ({_status(status)}): does this user have the rights?",
            permanent=True,
        )
    if status == 401 or isinstance(exc, error.AuthorizationError):
        return CalDAVError(
            f"{where} refused the username or password ({_status(status or 401)})",
            permanent=True,
        )
    if status == 404:
        return CalDAVError(f"{where} is not a calendar ({_status(status)})", permanent=True)
    if status is not None and 400 <= status < 500 and status not in (408, 425, 429):
        return CalDAVError(f"{where} refused the request ({_status(status)})", permanent=True)
    if status is not None:
        return CalDAVError(f"{where} failed ({_status(status)})")
    return CalDAVError(f"{where} gave an answer that is not CalDAV ({type(exc).__name__})")


def _token_refused(exc: error.DAVError) -> bool:
    if TOKEN_REFUSED & set(exc.preconditions):
        return True
    if isinstance(exc, error.AuthorizationError):
        return False
    # No status: the library knows the server cannot sync.
    return exc.status in REPORT_REFUSED or (isinstance(exc, error.ReportError) and not exc.status)


def _status(status: int) -> str:
    try:
        return f"HTTP {status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"HTTP {status}"


def _shown(url: str) -> str:
    """``url`` without any user name or password in it, for messages."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


# Names


def _collection(url: str) -> str:
    """A collection's URL ends with ``/``: hrefs are joined onto it."""
    return url if url.endswith("/") else f"{url}/"


def _event_url(calendar_url: str, uid: str) -> str:
    """The resource for the event ``uid``: ``<uid>.ics``, percent-encoded.

    A UID with a ``/`` or a ``%`` is named by its SHA-256 instead: the ``/``
    would have to be encoded twice (``%252F``) not to make a sub-collection,
    and caldav decodes the hrefs a server lists once too often, so the event
    would come back from :func:`changes` under another href.
    """
    name = uid if not {"/", "%"} & set(uid) else hashlib.sha256(uid.encode()).hexdigest()
    return urljoin(_collection(calendar_url), quote(name, safe="") + ".ics")


def _href(url: URL | str) -> str:
    """The one spelling of a resource's URL that every call returns."""
    parts = urlsplit(str(url))
    return urlunsplit(parts._replace(path=quote(unquote(parts.path), safe="/")))


def _last_segment(url: URL | str) -> str:
    return unquote(urlsplit(str(url)).path.rstrip("/").rsplit("/", 1)[-1])


def _uids(ics: bytes) -> set[str]:
    try:
        parsed = icalendar.Calendar.from_ical(ics)
    except ValueError as exc:
        raise ValueError(f"the event data is not iCalendar: {exc}") from exc
    return {str(event.get("UID", "")) for event in parsed.walk("VEVENT")}


# Reading many events at once


def _multiget(calendar: caldav.Calendar, urls: list[URL]) -> dict[str, bytes]:
    """The data of the events at ``urls`` that still exist; other components
    (to-dos, journals) are left out."""
    found: dict[str, bytes] = {}
    for event in _multiget_objects(calendar, urls):
        data = event.raw_data
        if data and b"BEGIN:VEVENT" in data:
            found[_href(event.url)] = data
    return found


def _multiget_etags(calendar: caldav.Calendar, urls: list[URL]) -> dict[str, str]:
    return {
        _href(o.url): o.etag for o in _multiget_objects(calendar, urls) if o.raw_data and o.etag
    }


def _multiget_objects(calendar: caldav.Calendar, urls: list[URL]) -> Iterable[caldav.Event]:
    for i in range(0, len(urls), MULTIGET_BATCH):
        yield from calendar.multiget(urls[i : i + MULTIGET_BATCH])
