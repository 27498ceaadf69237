"""The outbox: every message is a row, written in the transaction of its cause.

A message exists exactly when the change that causes it committed, and its
unique key (booking, kind, occurrence, recipient) means it can never be
queued twice. The dispatcher (:mod:`.dispatch`) claims due rows for a
while (a lease), sends them, and marks them sent, or schedules a retry.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone

from slotwise.bookings.models import Booking
from slotwise.organizations.models import Organization
from slotwise.organizations.tenancy import TenantManager


class MessageKind(models.TextChoices):
    CONFIRMATION = "confirmation"
    REQUEST_RECEIVED = "request_received"
    APPROVED = "approved"
    DECLINED = "declined"
    REMINDER = "reminder"
    CANCELLATION = "cancellation"
    RESCHEDULE = "reschedule"
    STAFF_NEW = "staff_new"
    STAFF_CANCELLED = "staff_cancelled"
    STAFF_RESCHEDULED = "staff_rescheduled"
    AGENDA = "agenda"
    """A member's bookings of the day, sent in the morning."""
    WAITLIST_JOINED = "waitlist_joined"
    WAITLIST_OFFER = "waitlist_offer"
    WAITLIST_GONE = "waitlist_gone"
    """Waitlist messages to customers (slotwise.waitlist.emails): no booking of theirs yet."""
    WEBHOOK = "webhook"
    """A booking event posted to a URL the organization registered."""


CUSTOMER_KINDS = (
    MessageKind.CONFIRMATION,
    MessageKind.REQUEST_RECEIVED,
    MessageKind.APPROVED,
    MessageKind.DECLINED,
    MessageKind.REMINDER,
    MessageKind.CANCELLATION,
    MessageKind.RESCHEDULE,
)
"""What customers are sent; the rest go to staff or to programs."""


class MessageStatus(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    """No longer worth sending: a reminder whose booking moved, ended or was cancelled."""


def new_message_id() -> str:
    return f"<{uuid.uuid4().hex}@slotwise>"


class Message(models.Model):
    """One message to one recipient about one booking, and how its delivery goes.

    ``occurrence`` tells apart messages of one kind: the booking event that
    caused it, or for a reminder its offset and the start it reminds of
    (``1440m@2026-06-01T09:00:00+00:00``), so a rescheduled booking gets new
    reminders and the old ones are skipped. ``context`` holds what the text
    needs beyond the booking's current state (the old start of a reschedule,
    the calendar ``sequence``). ``message_id`` stays the same across retries,
    so a receiver can recognise a duplicate.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="messages"
    )
    # None for a message about a day rather than a booking: a member's agenda.
    booking = models.ForeignKey(
        Booking, on_delete=models.CASCADE, null=True, blank=True, related_name="messages"
    )
    kind = models.CharField(max_length=32, choices=MessageKind)
    occurrence = models.CharField(max_length=64, blank=True)
    channel = models.CharField(max_length=16, default="email")
    recipient = models.CharField(max_length=254)
    context = models.JSONField(default=dict, blank=True)
    message_id = models.CharField(max_length=100, unique=True, default=new_message_id)
    created_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=MessageStatus, default=MessageStatus.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField()
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=("booking", "kind", "occurrence", "recipient"), name="message_once"
            ),
            # NULLs differ in a unique key: messages without a booking need their own.
            models.UniqueConstraint(
                fields=("organization", "kind", "occurrence", "recipient"),
                condition=models.Q(booking__isnull=True),
                name="message_once_without_booking",
            ),
        )
        indexes = (
            models.Index(
                fields=("next_attempt_at",),
                condition=models.Q(status__in=("pending", "sending")),
                name="message_due",
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} to {self.recipient} ({self.status})"
