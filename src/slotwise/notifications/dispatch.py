"""Delivering due messages: claim a batch, send each, record how it went.

Any number of workers may run :func:`deliver_due` at once. A worker claims
due messages for a while (``LEASE``) in one short transaction (on PostgreSQL
with ``FOR UPDATE SKIP LOCKED``, so workers never wait for or take each
other's), sends them outside any transaction, then marks each sent, or
schedules its retry with exponential backoff and jitter; after
``MAX_ATTEMPTS``, or at once when the channel says retrying cannot help, it
is marked failed and shows as such to staff. A worker that dies mid-batch
leaves its claims to run out, and the messages are sent again: at worst a
duplicate with the same Message-ID, never a loss.

A reminder is sent late, after downtime, only while its booking is still
confirmed, at the same start, and has not started. A channel may also say a
message is no longer worth sending (``Channel.skip_reason``: a webhook whose
endpoint was deleted); it is then marked skipped.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from slotwise.bookings.models import BookingStatus
from slotwise.notifications.channels import CHANNELS, DeliveryError, PermanentError
from slotwise.notifications.models import Message, MessageKind, MessageStatus
from slotwise.notifications.services import reminder_occurrence

__all__ = ["BATCH", "LEASE", "MAX_ATTEMPTS", "Delivered", "backoff", "deliver_due"]

BATCH = 50
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=2)


@dataclass
class Delivered:
    """What one :func:`deliver_due` run did."""

    sent: int = 0
    retried: int = 0
    failed: int = 0
    skipped: int = 0

    @property
    def handled(self) -> int:
        return self.sent + self.retried + self.failed + self.skipped


def deliver_due(now: datetime | None = None, *, batch: int = BATCH) -> Delivered:
    """Send up to ``batch`` messages due by ``now``; what became of them."""
    now = now or timezone.now()
    done = Delivered()
    for message in _claim(now, batch):
        _deliver(message, now, done)
    return done


def backoff(attempts: int, rng: random.Random | None = None) -> timedelta:
    """The wait before attempt ``attempts + 1``: 30 s, 1 min, 2 min ... at most
    2 hours, each within ±20 % so that retries of many messages spread out."""
    base = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)
    return base * (rng or random).uniform(0.8, 1.2)


def _claim(now: datetime, batch: int) -> list[Message]:
    due = Q(status=MessageStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=MessageStatus.SENDING, claimed_until__lte=now
    )
    with transaction.atomic():
        rows = Message.objects.with_scopes_disabled().filter(due).order_by("next_attempt_at", "pk")
        if connection.vendor == "postgresql":
            rows = rows.select_for_update(skip_locked=True)
        ids = list(rows.values_list("pk", flat=True)[:batch])
        Message.objects.with_scopes_disabled().filter(pk__in=ids).update(
            status=MessageStatus.SENDING, claimed_until=now + LEASE, attempts=F("attempts") + 1
        )
    return list(
        Message.objects.with_scopes_disabled()
        .filter(pk__in=ids)
        .select_related("booking__service", "booking__organization")
        .order_by("next_attempt_at", "pk")
    )


def _deliver(message: Message, now: datetime, done: Delivered) -> None:
    channel = CHANNELS[message.channel]
    reason = _not_worth_sending(message, now) or channel.skip_reason(message)
    if reason:
        _finish(message, MessageStatus.SKIPPED, last_error=reason)
        done.skipped += 1
        return
    try:
        channel.send(message)
    except DeliveryError as error:
        if message.attempts >= MAX_ATTEMPTS or isinstance(error, PermanentError):
            _finish(message, MessageStatus.FAILED, last_error=str(error)[:1000])
            done.failed += 1
        else:
            _finish(
                message,
                MessageStatus.PENDING,
                last_error=str(error)[:1000],
                next_attempt_at=now + backoff(message.attempts),
            )
            done.retried += 1
        return
    _finish(message, MessageStatus.SENT, last_error="", sent_at=timezone.now())
    done.sent += 1


def _not_worth_sending(message: Message, now: datetime) -> str:
    if message.kind == MessageKind.AGENDA:
        from slotwise.notifications.agenda import agenda_bookings

        return "" if agenda_bookings(message) else "Nothing is booked that day."
    if message.kind == MessageKind.WAITLIST_OFFER:
        from slotwise.waitlist.emails import not_worth_sending

        return not_worth_sending(message)
    if message.kind != MessageKind.REMINDER:
        return ""
    booking = message.booking
    if booking.status != BookingStatus.CONFIRMED:
        return f"The booking is {booking.status}."
    minutes = message.context.get("minutes_before", 0)
    # A resent reminder's occurrence is the original's and "#<n>".
    if message.occurrence.partition("#")[0] != reminder_occurrence(minutes, booking.starts_at):
        return "The booking moved."
    if now >= booking.starts_at:
        return "The booking has started."
    return ""


def _finish(message: Message, status: str, **fields: object) -> None:
    """Record the outcome, unless another worker took the message over meanwhile."""
    Message.objects.with_scopes_disabled().filter(
        pk=message.pk, status=MessageStatus.SENDING, attempts=message.attempts
    ).update(status=status, claimed_until=None, **fields)
