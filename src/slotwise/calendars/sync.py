"""Copying busy time in from a provider's calendars, and bookings out to them.

Reading (:func:`sync_connection`): an ICS feed is fetched with a conditional
request (nothing to do on ``304``) and read whole; a CalDAV calendar is
read incrementally with its sync token where the server keeps one, else
whole. The events of the window (a day back, :data:`WINDOW_DAYS` ahead) are
expanded by :func:`slotwise.calendars.ics.busy_times` and replace the
connection's :class:`ExternalBusy` rows in one transaction, so the slot
finder sees the old copy or the new one, never half. Events slotwise wrote
itself (UIDs starting ``slotwise-booking-``) are skipped: a booking does not
block itself. A calendar that is down, slow or sends garbage leaves the last
good copy in place; the error and the time of the last success are kept on
the connection, and the next attempt waits longer each time (up to an hour).

Writing (:func:`write_copies`): each booking of a resource whose CalDAV
connection names a ``write_calendar`` gets a :class:`CalendarCopy`, written
(or removed) by the worker after the booking's change commits, under a UID
derived from the booking, so a retry replaces rather than duplicates. When a
sync finds the provider moved or deleted that event in their calendar, the
copy's ``drift`` says so, for staff; the booking is left as it is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from django.conf import settings
from django.db import transaction

from slotwise import crypto
from slotwise.audit.services import log_action
from slotwise.calendars import caldav_client, ics
from slotwise.calendars.models import (
    CalendarConnection,
    CalendarCopy,
    ConnectionKind,
    CopyStatus,
    ExternalBusy,
)

__all__ = [
    "OWN_UID_PREFIX",
    "WINDOW_DAYS",
    "Synced",
    "backoff",
    "booking_uid",
    "sync_connection",
    "write_copy",
]

WINDOW_DAYS = 400
"""How far ahead busy time is read: beyond any booking horizon worth offering."""
OWN_UID_PREFIX = "slotwise-booking-"
MAX_COPY_ATTEMPTS = 8


def interval() -> timedelta:
    """How often each connection is read in the background."""
    return timedelta(minutes=settings.SLOTWISE_CALENDAR_SYNC_MINUTES)


def backoff(failures: int) -> timedelta:
    """After the ``failures``-th failure in a row: 1, 2, 4 ... minutes, at most an hour."""
    return min(timedelta(minutes=2 ** max(failures - 1, 0)), timedelta(hours=1))


def booking_uid(booking_id: int) -> str:
    return f"{OWN_UID_PREFIX}{booking_id}@slotwise"


@dataclass(frozen=True, slots=True)
class Synced:
    ok: bool
    busy: int = 0  # rows written (0 when nothing changed)
    error: str = ""


def sync_connection(
    connection: CalendarConnection, now: datetime, *, timeout: float = 10.0
) -> Synced:
    """Read ``connection``'s calendars now and replace its busy rows; what happened.
    Never raises for the calendar's own failures: they are recorded on it."""
    zone = ZoneInfo(connection.resource.time_zone)
    start, end = now - timedelta(days=1), now + timedelta(days=WINDOW_DAYS)
    try:
        if connection.kind == ConnectionKind.ICS:
            written = _sync_feed(connection, zone, start, end, now, timeout)
        else:
            written = _sync_caldav(connection, zone, start, end, now, timeout)
    except (ics.FeedError, caldav_client.CalDAVError, crypto.CannotDecrypt) as error:
        failures = connection.failures + 1
        CalendarConnection.objects.filter(pk=connection.pk).update(
            last_attempt_at=now,
            last_error=str(error)[:500],
            failures=failures,
            next_sync_at=now + backoff(failures),
        )
        return Synced(False, error=str(error))
    return Synced(True, busy=written)


def _succeeded(connection: CalendarConnection, now: datetime, **fields: object) -> None:
    CalendarConnection.objects.filter(pk=connection.pk).update(
        last_attempt_at=now,
        last_success_at=now,
        last_error="",
        failures=0,
        next_sync_at=now + interval(),
        **fields,
    )


def _sync_feed(
    connection: CalendarConnection,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    now: datetime,
    timeout: float,
) -> int:
    password = crypto.decrypt(connection.password_encrypted)
    fetched = ics.fetch(
        crypto.decrypt(connection.url_encrypted),
        etag=connection.etag,
        last_modified=connection.last_modified,
        auth=(connection.username, password) if connection.username else None,
        timeout=timeout,
    )
    if fetched.body is None:  # not modified since the last good read
        _succeeded(connection, now)
        return 0
    busy = [b for b in ics.busy_times(fetched.body, zone=zone, start=start, end=end) if _theirs(b)]
    with transaction.atomic():
        ExternalBusy.objects.filter(connection=connection).delete()
        _insert(connection, busy, calendar="", href="")
        _succeeded(connection, now, etag=fetched.etag[:500], last_modified=fetched.last_modified)
    return len(busy)


def _sync_caldav(
    connection: CalendarConnection,
    zone: ZoneInfo,
    start: datetime,
    end: datetime,
    now: datetime,
    timeout: float,
) -> int:
    password = crypto.decrypt(connection.password_encrypted)
    tokens = dict(connection.sync_tokens or {})
    found: list[tuple[str, caldav_client.Changes]] = []
    for calendar in _calendars_to_read(connection):
        changes = caldav_client.changes(
            calendar,
            connection.username,
            password,
            sync_token=tokens.get(calendar, ""),
            start=start,
            end=end,
            timeout=timeout,
        )
        found.append((calendar, changes))
    written = 0
    with transaction.atomic():
        for calendar, changes in found:
            rows = ExternalBusy.objects.filter(connection=connection, calendar=calendar)
            if changes.full:
                rows.delete()
            else:
                rows.filter(href__in=[*changes.deleted, *changes.events]).delete()
            for href, data in changes.events.items():
                try:
                    busy = ics.busy_times(data, zone=zone, start=start, end=end)
                except ics.FeedError:
                    continue  # one unreadable event does not stop the others
                written += _insert(connection, [b for b in busy if _theirs(b)], calendar, href)
            tokens[calendar] = changes.sync_token
            if calendar == connection.write_calendar:
                _note_drift(connection, changes, now)
        # Calendars no longer read keep nothing.
        ExternalBusy.objects.filter(connection=connection).exclude(
            calendar__in=[c for c, _ in found]
        ).delete()
        _succeeded(connection, now, sync_tokens=tokens)
    return written


def _calendars_to_read(connection: CalendarConnection) -> list[str]:
    return [str(c) for c in connection.read_calendars or []]


def _theirs(busy: ics.Busy) -> bool:
    return not busy.uid.startswith(OWN_UID_PREFIX)


def _insert(connection: CalendarConnection, busy: list[ics.Busy], calendar: str, href: str) -> int:
    ExternalBusy.objects.bulk_create(
        ExternalBusy(
            organization_id=connection.organization_id,
            resource_id=connection.resource_id,
            connection=connection,
            starts_at=b.start,
            ends_at=b.end,
            all_day=b.all_day,
            source=connection.name[:200],
            uid=b.uid[:500],
            calendar=calendar,
            href=href[:1000],
        )
        for b in busy
    )
    return len(busy)


def _note_drift(
    connection: CalendarConnection, changes: caldav_client.Changes, now: datetime
) -> None:
    """Compare slotwise's own events in the write calendar with their bookings."""
    copies = CalendarCopy.objects.filter(
        connection=connection, present=True, status=CopyStatus.SYNCED
    ).select_related("booking")
    gone = set(changes.deleted)
    for copy in copies:
        drift = ""
        if copy.href in gone or (changes.full and copy.href not in changes.events):
            drift = "deleted"
        elif copy.href in changes.events and _moved(changes.events[copy.href], copy):
            drift = "moved"
        if drift and drift != copy.drift:
            copy.drift, copy.drift_at = drift, now
            copy.save(update_fields=["drift", "drift_at"])
            log_action(
                "calendar.booking_event_changed",
                organization=connection.organization_id,
                target=copy.booking,
                data={"connection": connection.pk, "drift": drift},
                actor="system",
                now=now,
            )


def _moved(data: bytes, copy: CalendarCopy) -> bool:
    try:
        calendar = icalendar.Calendar.from_ical(data)
    except ValueError:
        return True
    for event in calendar.walk("VEVENT"):
        start = event.get("DTSTART")
        if start is None or not isinstance(start.dt, datetime):
            return True
        return bool(start.dt != copy.booking.starts_at)
    return True


# Writing bookings


def write_copy(copy: CalendarCopy, now: datetime, *, timeout: float = 10.0) -> bool:
    """Write (or remove) one booking's event in its connection's calendar; whether
    it is done. A failure is recorded and retried later; after
    ``MAX_COPY_ATTEMPTS`` the copy is ``failed``, for staff to see."""
    connection = copy.connection
    password = crypto.decrypt(connection.password_encrypted)
    try:
        if copy.present:
            href, _ = caldav_client.put_event(
                connection.write_calendar,
                connection.username,
                password,
                uid=copy.uid,
                ics=event_ics(copy),
                timeout=timeout,
            )
            copy.href = href[:1000]
        elif copy.href:
            caldav_client.delete_event(
                connection.write_calendar,
                connection.username,
                password,
                href=copy.href,
                timeout=timeout,
            )
    except caldav_client.CalDAVError as error:
        copy.attempts += 1
        copy.last_error = str(error)[:500]
        give_up = error.permanent or copy.attempts >= MAX_COPY_ATTEMPTS
        copy.status = CopyStatus.FAILED if give_up else CopyStatus.PENDING
        copy.next_attempt_at = None if give_up else now + backoff(copy.attempts)
        copy.save()
        return False
    copy.status, copy.synced_at, copy.last_error = CopyStatus.SYNCED, now, ""
    copy.attempts, copy.next_attempt_at, copy.drift, copy.drift_at = 0, None, "", None
    copy.save()
    return True


def event_ics(copy: CalendarCopy) -> bytes:
    """The booking as one VEVENT: the service and customer, the time, where, a link."""
    booking = copy.booking
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//slotwise//bookings//EN")
    calendar.add("version", "2.0")
    event = icalendar.Event()
    event.add("uid", copy.uid)
    event.add("dtstamp", booking.updated_at)
    event.add("dtstart", booking.starts_at)
    event.add("dtend", booking.ends_at)
    event.add("summary", f"{booking.service.name}: {booking.customer_name}")
    event.add("location", booking.organization.name)
    link = f"{settings.SLOTWISE_SITE_URL}/api/v1/staff/bookings/{booking.pk}"
    lines = [
        f"Customer: {booking.customer_name} <{booking.customer_email}>",
        f"Seats: {booking.seats}",
        f"Status: {booking.status}",
        f"Booking: {link}",
    ]
    event.add("description", "\n".join(lines))
    event.add("url", link)
    event.add("sequence", booking.events.count())
    event.add("status", "CONFIRMED" if booking.status == "confirmed" else "TENTATIVE")
    calendar.add_component(event)
    return bytes(calendar.to_ical())
