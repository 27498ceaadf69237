"""Staff see every message of a booking, how its delivery went, and resend one.

``GET /api/v1/staff/bookings/{id}/messages`` and
``POST /api/v1/staff/messages/{id}/resend``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Path, Schema, Status

from slotwise.accounts.access import Caller
from slotwise.accounts.permissions import Permission
from slotwise.api.problems import Problem, ValidationProblem, problem_response
from slotwise.bookings import queries
from slotwise.bookings.services import BookingNotFound
from slotwise.notifications.models import Message, MessageStatus, new_message_id
from slotwise.organizations.auth import StaffRouter, requires

router = StaffRouter(tags=["staff: messages"])

IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
ERRORS = {401: Problem, 403: Problem, 404: Problem, 422: ValidationProblem}


class MessageOut(Schema):
    id: int
    kind: str
    channel: str
    recipient: str
    status: str
    due_at: datetime
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    sent_at: datetime | None
    created_at: datetime


@router.get(
    "/bookings/{booking_id}/messages",
    response={200: list[MessageOut], **ERRORS},
    summary="A booking's messages",
)
@requires(Permission.BOOKINGS_READ)
def booking_messages(request: HttpRequest, booking_id: IdPath) -> Any:
    """Every message about the booking, oldest due first: what, to whom, and how its
    delivery went (``pending``, ``sending``, ``sent``, ``failed`` after the last
    attempt, or ``skipped`` when no longer worth sending)."""
    caller: Caller = request.auth
    try:
        booking = queries.access_booking(
            caller.organization, booking_id, within=caller.resource_ids
        )
    except BookingNotFound as error:
        return problem_response(404, "not-found", "Not found", str(error))
    return [_message(m) for m in booking.messages.order_by("due_at", "pk")]


@router.post(
    "/messages/{message_id}/resend",
    response={202: MessageOut, **ERRORS, 409: Problem},
    summary="Send a message again",
)
@requires(Permission.BOOKINGS_WRITE)
def resend(request: HttpRequest, message_id: IdPath) -> Any:
    """A failed message is tried again now, from its first attempt; a sent one is
    sent again as a new message (a new Message-ID, so it is not taken for a
    duplicate). ``202`` with the message that will go out."""
    caller: Caller = request.auth
    now = timezone.now()
    with transaction.atomic():
        message = _reachable(caller).select_for_update().filter(pk=message_id).first()
        if message is None:
            return problem_response(
                404, "not-found", "Not found", f"There is no message {message_id}."
            )
        if message.status == MessageStatus.FAILED:
            message.status = MessageStatus.PENDING
            message.attempts = 0
            message.next_attempt_at = now
            message.save(update_fields=["status", "attempts", "next_attempt_at"])
            again = message
        elif message.status == MessageStatus.SENT:
            copies = Message.objects.filter(
                booking=message.booking_id, occurrence__startswith=f"{message.occurrence}#"
            ).count()
            again = Message.objects.create(
                organization_id=message.organization_id,
                booking_id=message.booking_id,
                kind=message.kind,
                occurrence=f"{message.occurrence}#{copies + 1}",
                channel=message.channel,
                recipient=message.recipient,
                context=message.context,
                message_id=new_message_id(),
                created_at=now,
                due_at=now,
                next_attempt_at=now,
            )
        else:
            return problem_response(
                409,
                "message-not-resendable",
                "Message not resendable",
                f"A {message.status} message cannot be resent; only sent or failed ones.",
            )
        from slotwise.notifications.tasks import schedule_delivery

        transaction.on_commit(lambda: schedule_delivery(now))
    return Status(202, _message(again))


def _reachable(caller: Caller) -> Any:
    messages = Message.objects.all()
    if caller.resource_ids is not None:
        messages = messages.filter(booking__allocations__resource_id__in=caller.resource_ids)
    return messages


def _message(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "kind": message.kind,
        "channel": message.channel,
        "recipient": message.recipient,
        "status": message.status,
        "due_at": message.due_at,
        "attempts": message.attempts,
        "next_attempt_at": message.next_attempt_at
        if message.status in (MessageStatus.PENDING, MessageStatus.SENDING)
        else None,
        "last_error": message.last_error,
        "sent_at": message.sent_at,
        "created_at": message.created_at,
    }
