"""Which messages a booking change causes, written in the change's own transaction.

:func:`plan_messages` is called for every booking event (from the booking
services' one history writer), so a message exists exactly when its cause
committed. Customer messages by event:

    booking.created, booking.hold_confirmed   confirmation (or request_received
                                              while it awaits approval)
    booking.approved                          approved
    booking.rejected                          declined
    booking.cancelled                         cancellation, if they were told of it
    booking.rescheduled                       reschedule

Reminders follow the booking: a confirmed booking has one per offset of its
service (``Service.reminder_minutes``) whose moment is still ahead; a
reschedule skips the old ones and plans new ones, anything else that ends
the booking skips them. A booking made 3 hours ahead gets the 1-hour
reminder but not the 24-hour one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.db import transaction

from slotwise.bookings.models import Booking, BookingEvent, BookingStatus
from slotwise.notifications.models import Message, MessageKind, MessageStatus

__all__ = ["Planner", "plan_messages", "register_planner", "reminder_occurrence"]

Planner = Callable[[Booking, BookingEvent, datetime], list[Message]]
_PLANNERS: list[Planner] = []


def register_planner(planner: Planner) -> Planner:
    """Have ``planner`` write its own messages for every booking event too (staff
    notices, webhooks); it runs in the event's transaction, after the customer's."""
    if planner not in _PLANNERS:
        _PLANNERS.append(planner)
    return planner


_BY_EVENT = {
    "booking.approved": MessageKind.APPROVED,
    "booking.rejected": MessageKind.DECLINED,
    "booking.cancelled": MessageKind.CANCELLATION,
    "booking.rescheduled": MessageKind.RESCHEDULE,
}
# What a customer must have been told of a booking to be told it was cancelled.
_TOLD = (MessageKind.CONFIRMATION, MessageKind.REQUEST_RECEIVED, MessageKind.APPROVED)


def plan_messages(booking: Booking, event: BookingEvent, now: datetime) -> list[Message]:
    """Write the messages ``event`` causes for ``booking`` (its state after the event),
    and ask for their delivery after commit."""
    # A booking just made has no messages yet, and this is its first event.
    fresh = event.action == "booking.created"
    planned: list[Message] = []
    kind = _customer_kind(booking, event)
    if kind is not None and booking.customer_email:
        sequence = 1 if fresh else BookingEvent.objects.filter(booking=booking).count()
        context: dict[str, object] = {"sequence": sequence}
        if kind == MessageKind.RESCHEDULE:
            context["old_start"] = event.data["old"][0]  # [start, end] in UTC
        if kind in (MessageKind.CANCELLATION, MessageKind.DECLINED):
            context["reason"] = booking.cancel_reason
            if "refund" in event.data:  # written by payments for this event
                context["refund"] = event.data["refund"]
        planned += _create(booking, [(kind, str(event.pk), now, context)], now)
    planned += _sync_reminders(booking, now, fresh=fresh)
    for planner in _PLANNERS:
        planned += planner(booking, event, now)
    if planned:
        from slotwise.notifications.tasks import schedule_delivery

        earliest = min(message.due_at for message in planned)
        transaction.on_commit(lambda: schedule_delivery(earliest))
    return planned


def reminder_occurrence(minutes: int, start: datetime) -> str:
    """``1440m@2026-06-01T09:00:00+00:00``: which reminder of which start."""
    return f"{minutes}m@{start.isoformat()}"


def _customer_kind(booking: Booking, event: BookingEvent) -> MessageKind | None:
    if event.action in ("booking.created", "booking.hold_confirmed"):
        if booking.status == BookingStatus.CONFIRMED:
            return MessageKind.CONFIRMATION
        if booking.status == BookingStatus.PENDING:
            return MessageKind.REQUEST_RECEIVED
        return None
    kind = _BY_EVENT.get(event.action)
    if kind == MessageKind.CANCELLATION and not booking.messages.filter(kind__in=_TOLD).exists():
        return None  # a hold given up: they were never told of it
    return kind


def _sync_reminders(booking: Booking, now: datetime, *, fresh: bool) -> list[Message]:
    wanted = {}
    if booking.status == BookingStatus.CONFIRMED and booking.customer_email:
        for minutes in booking.service.reminder_minutes:
            due = booking.starts_at - timedelta(minutes=minutes)
            if due > now:
                wanted[reminder_occurrence(minutes, booking.starts_at)] = (minutes, due)
    if not fresh:
        stale = booking.messages.filter(
            kind=MessageKind.REMINDER, status=MessageStatus.PENDING
        ).exclude(occurrence__in=wanted)
        stale.update(status=MessageStatus.SKIPPED, last_error="The booking changed.")
    return _create(
        booking,
        [
            (MessageKind.REMINDER, occurrence, due, {"minutes_before": minutes})
            for occurrence, (minutes, due) in wanted.items()
        ],
        now,
    )


def _create(
    booking: Booking,
    specs: list[tuple[MessageKind, str, datetime, dict[str, object]]],
    now: datetime,
) -> list[Message]:
    """Write the messages of ``specs`` that were not written before: the unique key
    decides, in the same statement. All of ``specs`` come back, written or not."""
    messages = [
        Message(
            organization_id=booking.organization_id,
            booking=booking,
            kind=kind,
            occurrence=occurrence,
            recipient=booking.customer_email,
            context=context,
            created_at=now,
            due_at=due,
            next_attempt_at=due,
        )
        for kind, occurrence, due, context in specs
    ]
    if messages:
        Message.objects.bulk_create(messages, ignore_conflicts=True)
    return messages
