"""Text messages (SMS) to customers, through Twilio's REST API.

When a Twilio account is configured (``settings.SLOTWISE_TWILIO``, from the
``SLOTWISE_TWILIO_*`` variables) and the booking has a phone number that is
a valid E.164 number once spaces and dashes are taken out (``+81 90-1234-5678``),
the customer is texted the confirmation, the reminders, a cancellation and a
reschedule: :func:`plan_text_messages` gives each such customer email of the
event a twin on channel ``sms``, of the same kind, occurrence, due time and
context. A reminder's twin therefore follows the booking exactly as the email
does: a reschedule skips both, and the dispatcher skips a stale one by its
occurrence. Requests, approvals and declines are not texted, to keep texts
few. Any other phone number gets no texts, silently.

:class:`SmsChannel` posts each text to Twilio
(``POST /2010-04-01/Accounts/{sid}/Messages.json``). Twilio takes no
idempotency key, so a worker killed after Twilio accepted a text and before it
was marked sent sends it again: a duplicate, as with email, never a loss.

    >>> text_for(confirmation)
    'Harbour & Pine: Portrait session confirmed for Mon 1 Jun, 18:00 (Asia/Tokyo).
    Manage: https://book.example.com/manage/m42-...'
"""

from __future__ import annotations

import base64
import http.client
import json
import re
import urllib.error
import urllib.request
from datetime import datetime
from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext, gettext_noop

from slotwise.bookings.local_times import recipient_zone, short_moment
from slotwise.bookings.models import Booking, BookingEvent
from slotwise.config import E164
from slotwise.notifications.channels import Channel, DeliveryError, PermanentError, register
from slotwise.notifications.emails import _instant, _lead_time, manage_url
from slotwise.notifications.models import Message, MessageKind, MessageStatus

__all__ = ["SMS_KINDS", "SmsChannel", "phone_number", "plan_text_messages", "text_for"]

SMS_KINDS = frozenset(
    {
        MessageKind.CONFIRMATION,
        MessageKind.REMINDER,
        MessageKind.CANCELLATION,
        MessageKind.RESCHEDULE,
    }
)
"""What a customer is texted, besides being emailed."""
TIMEOUT = 10
"""Seconds to wait for Twilio's answer."""
_LONGEST_NAME = 40  # an organization's or service's name, so a text stays one or two parts

_TEXTS = {
    MessageKind.CONFIRMATION: gettext_noop(
        "%(organization)s: %(service)s confirmed for %(when)s (%(zone)s). Manage: %(link)s"
    ),
    MessageKind.REMINDER: gettext_noop(
        "%(organization)s: reminder, %(service)s in %(lead_time)s, on %(when)s (%(zone)s). "
        "Manage: %(link)s"
    ),
    MessageKind.RESCHEDULE: gettext_noop(
        "%(organization)s: %(service)s moved from %(previously)s to %(when)s (%(zone)s). "
        "Manage: %(link)s"
    ),
    MessageKind.CANCELLATION: gettext_noop(
        "%(organization)s: %(service)s on %(when)s (%(zone)s) is cancelled."
    ),
}


def phone_number(value: str) -> str | None:
    """``+44 20-7946-0958`` is ``+442079460958``; anything not E.164 is ``None``."""
    number = re.sub(r"[\s-]+", "", value)
    return number if E164.fullmatch(number) else None


def plan_text_messages(booking: Booking, event: BookingEvent, now: datetime) -> list[Message]:
    """Texts twinning the customer's new emails of :data:`SMS_KINDS` (a planner).

    It runs after the customer's emails of ``event`` were written: the
    event's own message (its occurrence is the event's id) and the pending
    reminders, which are those of the booking's current start.
    """
    if settings.SLOTWISE_TWILIO is None or not booking.customer_email:
        return []
    phone = phone_number(booking.customer_phone)
    if phone is None:
        return []
    emails = booking.messages.filter(
        channel="email", recipient=booking.customer_email, kind__in=SMS_KINDS
    ).filter(
        Q(kind=MessageKind.REMINDER, status=MessageStatus.PENDING)
        | (~Q(kind=MessageKind.REMINDER) & Q(occurrence=str(event.pk)))
    )
    texted = set(
        booking.messages.filter(channel=SmsChannel.name, recipient=phone).values_list(
            "kind", "occurrence"
        )
    )
    twins = [
        Message(
            organization_id=booking.organization_id,
            booking=booking,
            kind=email.kind,
            occurrence=email.occurrence,
            channel=SmsChannel.name,
            recipient=phone,
            context=email.context,
            created_at=now,
            due_at=email.due_at,
            next_attempt_at=email.due_at,
        )
        for email in emails
        if (email.kind, email.occurrence) not in texted
    ]
    return Message.objects.bulk_create(twins)


def text_for(message: Message) -> str:
    """The text of ``message``: one line, in the organization's language, the time in
    the customer's zone with the zone named."""
    booking: Booking = message.booking
    kind = MessageKind(message.kind)
    extra = message.context if isinstance(message.context, dict) else {}
    zone = recipient_zone(booking)
    old_start = _instant(extra.get("old_start"))
    with translation.override(booking.organization.locale):
        text = gettext(_TEXTS[kind]) % {
            "organization": _short(booking.organization.name),
            "service": _short(booking.service.name),
            "when": short_moment(booking.starts_at, zone),
            "previously": short_moment(old_start, zone) if old_start else "?",
            "zone": zone.key,
            "lead_time": _lead_time(extra.get("minutes_before")),
            "link": manage_url(booking) if kind != MessageKind.CANCELLATION else "",
        }
    return " ".join(text.split())


class SmsChannel(Channel):
    """Texts through Twilio's Messages API, with the account's SID and auth token.

    Twilio's ``201`` is sent. ``429``, ``5xx``, ``401`` (credentials an operator
    may yet fix) and no answer at all are retried; any other ``4xx`` (``400``
    with code ``21211``, an invalid number) is a :class:`PermanentError`.
    """

    name = "sms"

    def send(self, message: Message) -> None:
        account = settings.SLOTWISE_TWILIO
        if account is None:
            raise DeliveryError("Text messages are not configured (SLOTWISE_TWILIO_*).")
        fields = {"To": message.recipient, "Body": text_for(message)}
        if account.sender.startswith("MG"):
            fields["MessagingServiceSid"] = account.sender
        else:
            fields["From"] = account.sender
        credentials = base64.b64encode(f"{account.account_sid}:{account.auth_token}".encode())
        request = urllib.request.Request(  # noqa: S310 (config allows only http and https)
            f"{account.api_url}/2010-04-01/Accounts/{account.account_sid}/Messages.json",
            data=urlencode(fields).encode(),
            method="POST",
            headers={
                "Authorization": f"Basic {credentials.decode()}",
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as error:
            with error:
                raise _refusal(error.code, error.read()) from error
        except (OSError, http.client.HTTPException) as error:  # refused, reset, timed out
            raise DeliveryError(f"{type(error).__name__}: {error}") from error


def _refusal(status: int, body: bytes) -> DeliveryError:
    """The error for Twilio's answer ``status``, with its code and message if it gave them."""
    try:
        answer = json.loads(body)
    except ValueError:
        answer = None
    detail = ""
    if isinstance(answer, dict):
        detail = f" (code {answer.get('code')}: {answer.get('message')})"
    text = f"Twilio answered {status}{detail}"
    if status in (401, 429) or status >= 500 or status < 400:
        return DeliveryError(text)
    return PermanentError(text)


def _short(name: str) -> str:
    name = " ".join(name.split())
    return name if len(name) <= _LONGEST_NAME else name[: _LONGEST_NAME - 3].rstrip() + "..."


register(SmsChannel())
