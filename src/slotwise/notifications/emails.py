"""What a notification email says: subject, text and HTML bodies, and a calendar file.

:func:`build_email` turns one outbox :class:`~.models.Message` into an email,
and sends nothing. It reads the booking as it is now, plus what the message's
``context`` kept from its cause (the start before a reschedule, a reason, the
calendar ``sequence``, a reminder's lead time). Every time is in the
customer's zone, named, with its UTC offset, and everything is in the
organization's language.

The bodies come from one template per kind, ``notifications/email/<kind>.html``,
which fills the ``intro`` block of the layout it is given: ``layout.txt`` for
the text body (autoescape off) and ``layout.html`` for the HTML one.

The calendar file (``booking.ics``) invites (``METHOD:REQUEST``) for a
confirmation, an approval and a reschedule, and withdraws the event
(``METHOD:CANCEL``) for a cancellation or a decline; its UID is the same in
every message about one booking, so a calendar updates one event. A reminder
and a request still awaiting approval carry none.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from email.message import MIMEPart
from email.utils import parseaddr
from typing import Any

import icalendar
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, gettext_noop, ngettext

from slotwise.bookings.local_times import (
    describe_moment,
    describe_span,
    recipient_zone,
    short_moment,
)
from slotwise.bookings.models import Booking, CancelledBy
from slotwise.bookings.services import link_token
from slotwise.money import format_minor
from slotwise.notifications.models import CUSTOMER_KINDS, Message, MessageKind

__all__ = ["build_email", "calendar_uid", "manage_url"]

# Marked for translation here, translated when a subject is built.
_SUBJECTS = {
    MessageKind.CONFIRMATION: gettext_noop("Confirmed: %(service)s on %(when)s (%(zone)s)"),
    MessageKind.REQUEST_RECEIVED: gettext_noop(
        "Request received: %(service)s on %(when)s (%(zone)s)"
    ),
    MessageKind.APPROVED: gettext_noop("Approved: %(service)s on %(when)s (%(zone)s)"),
    MessageKind.DECLINED: gettext_noop("Declined: %(service)s on %(when)s (%(zone)s)"),
    MessageKind.REMINDER: gettext_noop("Reminder: %(service)s on %(when)s (%(zone)s)"),
    MessageKind.CANCELLATION: gettext_noop("Cancelled: %(service)s on %(when)s (%(zone)s)"),
    MessageKind.RESCHEDULE: gettext_noop("Moved: %(service)s, now on %(when)s (%(zone)s)"),
}

INVITE = frozenset({MessageKind.CONFIRMATION, MessageKind.APPROVED, MessageKind.RESCHEDULE})
WITHDRAW = frozenset({MessageKind.CANCELLATION, MessageKind.DECLINED})
# Nothing is left to manage once a booking is cancelled or declined.
MANAGEABLE = frozenset(MessageKind) - WITHDRAW


def build_email(message: Message) -> EmailMultiAlternatives:
    """The email for ``message``, ready for a mail connection, in the organization's language.

    The ``Message-ID`` is the message's own, the same on every attempt, so a
    receiver recognises a retry as a duplicate.
    """
    booking: Booking = message.booking
    kind = MessageKind(message.kind)
    if kind == MessageKind.AGENDA:
        from slotwise.notifications.agenda import build_agenda_email

        return build_agenda_email(message)
    if kind in WAITLIST_KINDS:
        from slotwise.waitlist.emails import build_waitlist_email

        return build_waitlist_email(message)
    if kind not in CUSTOMER_KINDS:
        from slotwise.notifications.staff import build_staff_email

        return build_staff_email(message)
    with translation.override(booking.organization.locale):
        context = _context(message, booking, kind)
        subject = " ".join(_subject(booking, kind).split())  # never a header break
        context["subject"] = subject
        template = f"notifications/email/{kind.value}.html"
        text = render_to_string(template, {**context, "layout": "notifications/email/layout.txt"})
        html = render_to_string(template, {**context, "layout": "notifications/email/layout.html"})
        calendar = _calendar(message, booking, kind, context["manage_url"])
    email = assemble(message, subject, _tidy(text), html)
    if calendar is not None:
        email.attach(calendar)
    return email


WAITLIST_KINDS = (
    MessageKind.WAITLIST_JOINED,
    MessageKind.WAITLIST_OFFER,
    MessageKind.WAITLIST_GONE,
)


def assemble(message: Message, subject: str, text: str, html: str) -> EmailMultiAlternatives:
    """The email of ``message`` with these bodies: from slotwise, to its recipient,
    under its own Message-ID (the same on every attempt)."""
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.recipient],
        headers={"Message-ID": message.message_id, "Auto-Submitted": "auto-generated"},
    )
    email.attach_alternative(html, "text/html")
    return email


def manage_url(booking: Booking) -> str:
    """The address of the booking's page, where the customer sees and cancels it."""
    path = reverse("manage_booking", kwargs={"token": link_token(booking)})
    return f"{settings.SLOTWISE_SITE_URL}{path}"


def calendar_uid(booking: Booking) -> str:
    """``booking-42@harbour-pine.slotwise``: one calendar event per booking, for good."""
    return f"booking-{booking.pk}@{booking.organization.slug}.slotwise"


def _subject(booking: Booking, kind: MessageKind) -> str:
    zone = recipient_zone(booking)
    return gettext(_SUBJECTS[kind]) % {
        "service": booking.service.name,
        "when": short_moment(booking.starts_at, zone),
        "zone": zone.key,
    }


def _context(message: Message, booking: Booking, kind: MessageKind) -> dict[str, Any]:
    zone = recipient_zone(booking)
    extra = message.context if isinstance(message.context, dict) else {}
    old_start = _instant(extra.get("old_start")) if kind == MessageKind.RESCHEDULE else None
    reason = ""
    if kind in WITHDRAW:
        reason = str(extra.get("reason", booking.cancel_reason) or "").strip()
    return {
        "kind": kind.value,
        "language": translation.get_language(),
        "customer_name": booking.customer_name,
        "service": booking.service.name,
        "organization": booking.organization.name,
        "when": describe_span(booking.starts_at, booking.ends_at, zone),
        "previously": describe_moment(old_start, zone) if old_start else "",
        "seats": booking.seats,
        "reason": reason,
        "lead_time": _lead_time(extra.get("minutes_before")),
        "by_customer": booking.cancelled_by == CancelledBy.CUSTOMER,
        "manage_url": manage_url(booking) if kind in MANAGEABLE else "",
        "invitation": kind in INVITE,
        "withdrawal": kind in WITHDRAW,
        "money": _money(extra.get("refund")) if kind in WITHDRAW else "",
    }


def _money(refund: object) -> str:
    """What a cancellation does with the customer's money, in a sentence."""
    if not isinstance(refund, dict):
        return ""
    currency = str(refund.get("currency", ""))
    amount = int(refund.get("amount_minor") or 0)
    paid = int(refund.get("paid_minor") or 0)
    charge = int(refund.get("charge_minor") or 0)
    if charge:
        fee = format_minor(charge, currency)
        return gettext(
            "Under the booking's cancellation terms, a late-cancellation fee of %(fee)s "
            "is charged to the card you saved."
        ) % {"fee": fee}
    if amount:
        return gettext(
            "%(amount)s of the %(paid)s you paid is refunded to your original payment method."
        ) % {"amount": format_minor(amount, currency), "paid": format_minor(paid, currency)}
    if paid:
        return gettext(
            "Under the booking's cancellation terms, the %(paid)s you paid is not refunded."
        ) % {"paid": format_minor(paid, currency)}
    return ""


def _instant(value: object) -> datetime | None:
    """An ISO 8601 instant from the context; UTC if it names no offset."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _lead_time(minutes: object) -> str:
    """``2 days``, ``1 hour``, ``90 minutes``: how long before the start a reminder goes."""
    if not isinstance(minutes, int) or isinstance(minutes, bool) or minutes <= 0:
        return ""
    if minutes % 1440 == 0:
        days = minutes // 1440
        return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(count)d hour", "%(count)d hours", hours) % {"count": hours}
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def _tidy(text: str) -> str:
    """The text body without trailing spaces or runs of blank lines the template left."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)) + "\n"


def _calendar(message: Message, booking: Booking, kind: MessageKind, link: str) -> MIMEPart | None:
    """``booking.ics``, or None for a kind that neither invites nor withdraws."""
    if kind in INVITE:
        method, status = "REQUEST", "CONFIRMED"
    elif kind in WITHDRAW:
        method, status = "CANCEL", "CANCELLED"
    else:
        return None
    organization = booking.organization
    extra = message.context if isinstance(message.context, dict) else {}
    sequence = extra.get("sequence", 0)

    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//slotwise//booking//EN")
    calendar.add("version", "2.0")
    calendar.add("method", method)
    event = icalendar.Event()
    event.add("uid", calendar_uid(booking))
    event.add("sequence", sequence if isinstance(sequence, int) else 0)
    event.add("dtstamp", message.created_at.astimezone(UTC))
    event.add("dtstart", booking.starts_at.astimezone(UTC))
    event.add("dtend", booking.ends_at.astimezone(UTC))
    event.add(
        "summary",
        gettext("%(service)s with %(organization)s")
        % {"service": booking.service.name, "organization": organization.name},
    )
    if link:
        event.add("description", gettext("See or cancel your booking: %(url)s") % {"url": link})
    event.add("status", status)
    event.add("organizer", _address(settings.DEFAULT_FROM_EMAIL, organization.name))
    attendee = _address(booking.customer_email or message.recipient, booking.customer_name)
    attendee.params.update({"ROLE": "REQ-PARTICIPANT", "PARTSTAT": "ACCEPTED", "RSVP": "FALSE"})
    event.add("attendee", attendee)
    calendar.add_component(event)

    part = MIMEPart()
    # Bytes, base64-encoded: the file keeps its CRLF line ends whatever the mail policy.
    part.set_content(
        calendar.to_ical(),
        maintype="text",
        subtype="calendar",
        cte="base64",
        disposition="attachment",
        filename="booking.ics",
        params={"method": method, "charset": "utf-8"},
    )
    return part


def _address(address: str, name: str) -> icalendar.vCalAddress:
    """``mailto:`` for ``address`` (which may be ``Name <a@b.example>``), with ``CN``."""
    value = icalendar.vCalAddress(f"mailto:{parseaddr(address)[1] or address}")
    # A double quote cannot appear in a parameter value, even quoted.
    name = " ".join(name.replace('"', "'").split())
    if name:
        value.params["CN"] = name
    return value
