"""Which deliveries a booking event causes, and the JSON each one posts.

:func:`plan_webhooks` is a planner of the outbox
(:func:`slotwise.notifications.services.register_planner`): it runs in the
transaction of every booking event and writes one message per active
endpoint of the organization that wants the event, with the body to post
already in its ``context``. A retry posts the very same body; a booking
that rolled back posts nothing. The body::

    {
      "id": "msg_5f0c...",             # the delivery's id, also its Webhook-Id
      "type": "booking.cancelled",
      "created_at": "2026-06-01T09:00:00.123456Z",
      "data": {"booking": {...}}       # the booking just after the event
    }

``data`` also has ``previous`` (``starts_at``, ``ends_at``) for
``booking.rescheduled``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from slotwise.bookings.models import Booking, BookingEvent
from slotwise.notifications.models import Message, MessageKind
from slotwise.webhooks.models import WebhookEndpoint
from slotwise.webhooks.validators import EVENT_TYPES

__all__ = ["CHANNEL", "booking_data", "plan_webhooks"]

CHANNEL = "webhook"


def plan_webhooks(booking: Booking, event: BookingEvent, now: datetime) -> list[Message]:
    """One delivery of ``event`` per active endpoint of the booking's organization
    that wants it, due ``now``."""
    if event.action not in EVENT_TYPES:
        return []
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(
            organization_id=booking.organization_id, active=True
        ).order_by("pk")
        if endpoint.wants(event.action)
    ]
    if not endpoints:
        return []
    data: dict[str, Any] = {"booking": booking_data(booking)}
    if event.action == "booking.rescheduled":
        old_start, old_end = event.data["old"]
        data["previous"] = {"starts_at": _utc_text(old_start), "ends_at": _utc_text(old_end)}
    deliveries = []
    for endpoint in endpoints:
        delivery_id = f"msg_{uuid.uuid4().hex}"
        deliveries.append(
            Message(
                organization_id=booking.organization_id,
                booking=booking,
                kind=MessageKind.WEBHOOK,
                occurrence=str(event.pk),
                channel=CHANNEL,
                recipient=endpoint.recipient,
                message_id=delivery_id,
                context={
                    "id": delivery_id,
                    "type": event.action,
                    "created_at": _utc(event.at),
                    "data": data,
                },
                created_at=now,
                due_at=now,
                next_attempt_at=now,
            )
        )
    return Message.objects.bulk_create(deliveries)


def booking_data(booking: Booking) -> dict[str, Any]:
    """What a webhook tells of a booking; instants in UTC, ISO 8601."""
    return {
        "id": booking.pk,
        "status": booking.status,
        "service": {"id": booking.service_id, "name": booking.service.name},
        "starts_at": _utc(booking.starts_at),
        "ends_at": _utc(booking.ends_at),
        "seats": booking.seats,
        "customer": {
            "name": booking.customer_name,
            "email": booking.customer_email,
            "time_zone": booking.customer_time_zone,
        },
        "cancelled_at": _utc(booking.cancelled_at) if booking.cancelled_at else None,
        "cancelled_by": booking.cancelled_by or None,
        "cancel_reason": booking.cancel_reason,
    }


def _utc(moment: datetime) -> str:
    """``2026-06-01T09:00:00Z``: as the API writes instants."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _utc_text(text: str) -> str:
    return _utc(datetime.fromisoformat(text))
