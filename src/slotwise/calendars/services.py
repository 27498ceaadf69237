"""Connecting calendars, keeping their copies fresh, and planning bookings' events.

* :func:`connect` checks a new connection against the calendar itself (a
  feed that answers, a CalDAV account whose calendars can be listed) before
  storing it, its secrets encrypted.
* :func:`refresh_stale` runs on the booking path: a resource whose copy is
  older than ``SLOTWISE_CALENDAR_MAX_AGE_MINUTES`` is read again first, if
  its calendar answers within :data:`BOOKING_TIMEOUT` seconds; otherwise the
  booking goes ahead against the stored copy, and the booking's history says
  so (``calendars_stale`` in its ``booking.created`` event).
* A listener on booking events keeps one :class:`CalendarCopy` per booking
  and write calendar, to be written or removed by the worker after commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from slotwise import crypto
from slotwise.availability.services import load_pools
from slotwise.bookings import hooks
from slotwise.bookings.models import Booking, BookingEvent, BookingStatus
from slotwise.calendars import caldav_client, ics
from slotwise.calendars.models import (
    CalendarConnection,
    CalendarCopy,
    ConnectionKind,
    CopyStatus,
)
from slotwise.calendars.sync import booking_uid, sync_connection
from slotwise.catalog.models import Resource, Service

__all__ = [
    "BOOKING_TIMEOUT",
    "ConnectionInvalid",
    "Draft",
    "connect",
    "refresh_for_service",
    "refresh_stale",
    "stale_before",
]

BOOKING_TIMEOUT = 2.0
"""Seconds a booking waits for a stale calendar before booking against the copy."""
_WRITTEN = (BookingStatus.CONFIRMED, BookingStatus.PENDING)
_ENDED = (BookingStatus.CANCELLED,)


class ConnectionInvalid(Exception):
    """The connection cannot be made as given; ``field`` says which part is wrong."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True, slots=True)
class Draft:
    kind: str
    name: str
    url: str
    username: str = ""
    password: str = ""
    read_calendars: Sequence[str] | None = None  # CalDAV; None: every calendar found
    write_calendar: str = ""


def connect(resource: Resource, draft: Draft, now: datetime) -> CalendarConnection:
    """A new connection of ``resource``, checked against the calendar, then read once."""
    url = _checked_url(draft.url)
    read: list[str] = []
    if draft.kind == ConnectionKind.ICS:
        try:
            ics.fetch(url, auth=(draft.username, draft.password) if draft.username else None)
        except ics.FeedError as error:
            raise ConnectionInvalid("url", str(error)) from None
        if draft.write_calendar:
            raise ConnectionInvalid("write_calendar", "An ICS feed can only be read.")
    elif draft.kind == ConnectionKind.CALDAV:
        try:
            found = [c.url for c in caldav_client.calendars(url, draft.username, draft.password)]
        except caldav_client.CalDAVError as error:
            raise ConnectionInvalid("url", str(error)) from None
        read = list(found) if draft.read_calendars is None else list(draft.read_calendars)
        for calendar in [*read, *([draft.write_calendar] if draft.write_calendar else [])]:
            if calendar not in found:
                raise ConnectionInvalid(
                    "read_calendars", f"{calendar} is not one of this account's calendars."
                )
    else:
        raise ConnectionInvalid("kind", "kind is ics or caldav.")
    connection = CalendarConnection.objects.create(
        organization_id=resource.organization_id,
        resource=resource,
        kind=draft.kind,
        name=draft.name[:200] or urlsplit(url).hostname or draft.kind,
        url_encrypted=crypto.encrypt(url),
        username=draft.username,
        password_encrypted=crypto.encrypt(draft.password),
        read_calendars=read,
        write_calendar=draft.write_calendar,
        next_sync_at=now,
        created_at=now,
    )
    sync_connection(connection, now)
    connection.refresh_from_db()
    return connection


def _checked_url(url: str) -> str:
    url = url.strip()
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https", "webcal", "webcals") or not parts.hostname:
        raise ConnectionInvalid(
            "url", "Give the calendar's address, starting https:// or webcal://."
        )
    if settings.SLOTWISE_PRODUCTION and parts.scheme == "http":
        raise ConnectionInvalid("url", "Calendars are read over https:// only.")
    return url


def stale_before(now: datetime) -> datetime:
    return now - timedelta(minutes=settings.SLOTWISE_CALENDAR_MAX_AGE_MINUTES)


def refresh_for_service(service: Service, now: datetime) -> list[int]:
    """:func:`refresh_stale` for every resource a booking of ``service`` could take."""
    if not CalendarConnection.objects.filter(
        organization_id=service.organization_id, active=True
    ).exists():
        return []
    _, resources = load_pools(service)
    return refresh_stale(sorted(resources), now)


def refresh_stale(resource_ids: Sequence[int], now: datetime) -> list[int]:
    """Read again the calendars of ``resource_ids`` whose copy is stale; the ids of
    those that did not answer in time (their stored copy stands)."""
    stale = CalendarConnection.objects.filter(resource_id__in=resource_ids, active=True).filter(
        Q(last_success_at__isnull=True) | Q(last_success_at__lt=stale_before(now))
    )
    failed = []
    for connection in stale.select_related("resource"):
        if not sync_connection(connection, now, timeout=BOOKING_TIMEOUT).ok:
            failed.append(connection.pk)
    return failed


@hooks.on_booking_event
def _plan_copies(booking: Booking, event: BookingEvent, now: datetime) -> None:
    """Keep the booking's events in its resources' write calendars in step with it,
    and note on a new booking which of their calendars were stale."""
    if booking.status in _WRITTEN:
        held = booking.allocations.values("resource_id")
    elif booking.status in _ENDED:
        held = None
    else:
        return  # a hold is not written; a completed booking stays as it was
    connections = (
        list(CalendarConnection.objects.filter(resource_id__in=held, active=True))
        if held is not None
        else []
    )
    if event.action == "booking.created":
        stale = [
            c.pk
            for c in connections
            if c.last_success_at is None or c.last_success_at < stale_before(now)
        ]
        if stale:
            event.data["calendars_stale"] = stale
            event.save(update_fields=["data"])
    writers = {c.pk for c in connections if c.kind == ConnectionKind.CALDAV and c.write_calendar}
    existing = (
        {} if event.action == "booking.created"
        else {c.connection_id: c for c in booking.calendar_copies.all()}
    )  # fmt: skip
    if not writers and not existing:
        return
    for connection_id in writers - set(existing):
        CalendarCopy.objects.create(
            organization_id=booking.organization_id,
            booking=booking,
            connection_id=connection_id,
            uid=booking_uid(booking.pk),
            next_attempt_at=now,
        )
    for connection_id, copy in existing.items():
        copy.present = connection_id in writers
        copy.status, copy.attempts, copy.next_attempt_at = CopyStatus.PENDING, 0, now
        copy.save(update_fields=["present", "status", "attempts", "next_attempt_at"])
    from slotwise.calendars.tasks import write_copies

    pk = booking.pk
    transaction.on_commit(lambda: write_copies.enqueue(pk))
