"""Calendar feeds out of slotwise: subscribe to bookings from any calendar app.

* ``/calendars/resource/<token>.ics``: a resource's bookings (from 30 days
  back), for its provider's own calendar; the token is made (and replaced)
  by staff.
* ``/calendars/me/<token>.ics``: a customer's own bookings in every
  organization, by their verified addresses; the token is made by the
  customer (``POST /api/v1/me/calendar-feed``).
* ``/api/v1/bookings/manage/{token}/calendar.ics``: one booking, to download.

Only tokens' SHA-256 are stored; an unknown token is a plain 404.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from datetime import timedelta

import icalendar
from django.conf import settings
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from slotwise.bookings.models import BLOCKING_STATUSES, Booking, BookingStatus
from slotwise.calendars.models import FeedKind, FeedToken
from slotwise.calendars.sync import booking_uid
from slotwise.catalog.models import Resource
from slotwise.organizations.tenancy import unscoped

__all__ = [
    "booking_calendar",
    "customer_feed",
    "new_customer_feed",
    "new_resource_feed",
    "resource_feed",
]

PAST_DAYS = 30
CONTENT_TYPE = "text/calendar; charset=utf-8"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_resource_feed(resource: Resource) -> str:
    """A new feed address of ``resource``'s bookings (the old one stops working)."""
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        FeedToken.objects.filter(resource=resource).delete()
        FeedToken.objects.create(kind=FeedKind.RESOURCE, resource=resource, token_hash=_hash(token))
    return settings.SLOTWISE_SITE_URL + reverse("resource-feed", args=[token])


def new_customer_feed(user: object) -> str:
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        FeedToken.objects.filter(user=user).delete()
        FeedToken.objects.create(kind=FeedKind.CUSTOMER, user=user, token_hash=_hash(token))
    return settings.SLOTWISE_SITE_URL + reverse("customer-feed", args=[token])


@require_GET
def resource_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = FeedToken.objects.select_related("resource").filter(token_hash=_hash(token)).first()
    if feed is None or feed.resource is None:
        return HttpResponse("No such feed.", status=404, content_type="text/plain")
    since = timezone.now() - timedelta(days=PAST_DAYS)
    with unscoped():
        bookings = (
            Booking.objects.filter(
                allocations__resource=feed.resource,
                status__in=[*BLOCKING_STATUSES, BookingStatus.COMPLETED],
                ends_at__gte=since,
            )
            .select_related("service", "organization")
            .distinct()
            .order_by("starts_at")
        )
        body = _calendar(feed.resource.name, bookings, staff=True)
    return _ics(body, f"{feed.resource.name}.ics")


@require_GET
def customer_feed(request: HttpRequest, token: str) -> HttpResponse:
    feed = FeedToken.objects.select_related("user").filter(token_hash=_hash(token)).first()
    if feed is None or feed.user is None:
        return HttpResponse("No such feed.", status=404, content_type="text/plain")
    from slotwise.accounts.me_api import bookings_of

    since = timezone.now() - timedelta(days=PAST_DAYS)
    with unscoped():
        bookings = (
            bookings_of(feed.user)
            .filter(
                status__in=[*BLOCKING_STATUSES, BookingStatus.COMPLETED],
                ends_at__gte=since,
            )
            .exclude(status=BookingStatus.HELD)
            .select_related("service", "organization")
            .order_by("starts_at")
        )
        body = _calendar("My bookings", bookings, staff=False)
    return _ics(body, "bookings.ics")


def booking_calendar(booking: Booking) -> HttpResponse:
    """One booking as a calendar file to download."""
    return _ics(_calendar(booking.service.name, [booking], staff=False), "booking.ics")


def _calendar(name: str, bookings: Iterable[Booking], *, staff: bool) -> bytes:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//slotwise//bookings//EN")
    calendar.add("version", "2.0")
    calendar.add("x-wr-calname", name)
    for booking in bookings:
        event = icalendar.Event()
        event.add("uid", booking_uid(booking.pk))
        event.add("dtstamp", booking.updated_at)
        event.add("dtstart", booking.starts_at)
        event.add("dtend", booking.ends_at)
        who = f": {booking.customer_name}" if staff else f", {booking.organization.name}"
        event.add("summary", f"{booking.service.name}{who}")
        event.add("location", booking.organization.name)
        event.add("status", "CONFIRMED" if booking.status != "pending" else "TENTATIVE")
        if staff:
            event.add("description", f"{booking.customer_email}\nSeats: {booking.seats}")
        calendar.add_component(event)
    return bytes(calendar.to_ical())


def _ics(body: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(body, content_type=CONTENT_TYPE)
    safe = "".join(c for c in filename if c.isalnum() or c in "-_. ") or "calendar.ics"
    response["Content-Disposition"] = f'inline; filename="{safe}"'
    response["Cache-Control"] = "private, max-age=300"
    return response
