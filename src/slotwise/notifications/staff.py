"""Notices to the people who work there: a booking is new, cancelled or moved.

A member hears of the bookings of the resources that are them
(``Resource.user``) unless they switched that off
(``Membership.notify_own_bookings``), and of every booking if they switched
that on (``notify_all_bookings``: owners who want to see everything). A hold
is news only once confirmed; a hold given up is no news at all. Times are
given in the zone of the member's own resource, else the organization's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.core.mail import EmailMultiAlternatives
from django.db.models import Q
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from slotwise.accounts.models import Membership
from slotwise.bookings.local_times import describe_moment, describe_span, short_moment
from slotwise.bookings.models import Booking, BookingEvent, BookingStatus
from slotwise.catalog.models import Resource
from slotwise.notifications.emails import assemble
from slotwise.notifications.models import Message, MessageKind

__all__ = ["STAFF_KINDS", "build_staff_email", "plan_staff_notices"]

_BY_EVENT = {
    "booking.created": MessageKind.STAFF_NEW,
    "booking.hold_confirmed": MessageKind.STAFF_NEW,
    "booking.cancelled": MessageKind.STAFF_CANCELLED,
    "booking.rescheduled": MessageKind.STAFF_RESCHEDULED,
}
STAFF_KINDS = frozenset(_BY_EVENT.values())
_SUBJECTS = {
    MessageKind.STAFF_NEW: "New booking: %(service)s on %(when)s (%(zone)s), %(customer)s",
    MessageKind.STAFF_CANCELLED: "Cancelled: %(service)s on %(when)s (%(zone)s), %(customer)s",
    MessageKind.STAFF_RESCHEDULED: "Moved: %(service)s to %(when)s (%(zone)s), %(customer)s",
}


def plan_staff_notices(booking: Booking, event: BookingEvent, now: datetime) -> list[Message]:
    """The notices ``event`` causes, one per member who wants it."""
    kind = _BY_EVENT.get(event.action)
    if kind is None or not _is_news(booking, event, kind):
        return []
    if kind == MessageKind.STAFF_CANCELLED:
        held = Resource.objects.filter(pk__in=event.data.get("resources", []))
    else:
        held = Resource.objects.filter(allocations__booking=booking)
    resources = list(held.values_list("user_id", "time_zone", "name"))
    providers = {user_id: zone for user_id, zone, _ in resources if user_id is not None}
    members = Membership.objects.filter(organization_id=booking.organization_id).filter(
        Q(notify_all_bookings=True) | Q(notify_own_bookings=True, user_id__in=providers)
    )
    base: dict[str, Any] = {"resources": sorted(name for _, _, name in resources)}
    if kind == MessageKind.STAFF_RESCHEDULED:
        base["old_start"] = event.data["old"][0]
    if kind == MessageKind.STAFF_CANCELLED:
        base["reason"] = booking.cancel_reason
        base["by"] = booking.cancelled_by
    notices = [
        Message(
            organization_id=booking.organization_id,
            booking=booking,
            kind=kind,
            occurrence=str(event.pk),
            recipient=email,
            context={**base, "zone": providers.get(user_id) or ""},
            created_at=now,
            due_at=now,
            next_attempt_at=now,
        )
        for user_id, email in members.values_list("user_id", "user__email")
    ]
    return Message.objects.bulk_create(notices)


def _is_news(booking: Booking, event: BookingEvent, kind: MessageKind) -> bool:
    if kind == MessageKind.STAFF_NEW:
        return booking.status in (BookingStatus.CONFIRMED, BookingStatus.PENDING)
    if kind == MessageKind.STAFF_CANCELLED:
        # Taken at some point: created as more than a hold, or a hold confirmed.
        return (
            booking.events.filter(action="booking.hold_confirmed").exists()
            or booking.events.filter(action="booking.created")
            .exclude(data__status=BookingStatus.HELD)
            .exists()
        )
    return True


def build_staff_email(message: Message) -> EmailMultiAlternatives:
    """The notice for a member: who booked what, when, on which resources."""
    from zoneinfo import ZoneInfo

    booking: Booking = message.booking
    kind = MessageKind(message.kind)
    extra = message.context if isinstance(message.context, dict) else {}
    zone = ZoneInfo(extra.get("zone") or booking.organization.time_zone)
    old_start = extra.get("old_start")
    with translation.override(booking.organization.locale):
        subject = gettext(_SUBJECTS[kind]) % {
            "service": booking.service.name,
            "when": short_moment(booking.starts_at, zone),
            "zone": zone.key,
            "customer": booking.customer_name or booking.customer_email or "-",
        }
        subject = " ".join(subject.split())
        context = {
            "kind": kind.value,
            "subject": subject,
            "organization": booking.organization.name,
            "service": booking.service.name,
            "when": describe_span(booking.starts_at, booking.ends_at, zone),
            "previously": describe_moment(datetime.fromisoformat(old_start), zone)
            if isinstance(old_start, str)
            else "",
            "customer_name": booking.customer_name,
            "customer_email": booking.customer_email,
            "customer_phone": booking.customer_phone,
            "seats": booking.seats,
            "status": booking.status,
            "resources": ", ".join(extra.get("resources", [])),
            "reason": extra.get("reason", ""),
            "booking_id": booking.pk,
        }
        text = render_to_string("notifications/email/staff.txt", context)
        html = render_to_string("notifications/email/staff.html", context)
    return assemble(message, subject, text, html)
