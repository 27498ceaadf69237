"""Where other parts of slotwise join in what happens to bookings, without bookings
knowing them.

* A *listener* runs for every booking event, in the event's own transaction,
  before the messages it causes are planned: payments register one that
  writes the refund or fee a cancellation or no-show is owed, and may add to
  ``event.data`` what the customer is to be told (the refund). Raising
  aborts the change.
* A *describer* adds a part to a booking's API answer (``payment``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from slotwise.bookings.models import Booking, BookingEvent

__all__ = ["Describer", "Listener", "describe", "notify", "on_booking_event", "register_describer"]

Listener = Callable[[Booking, BookingEvent, datetime], None]
Describer = Callable[[Booking], dict[str, Any]]

_LISTENERS: list[Listener] = []
_DESCRIBERS: list[Describer] = []


def on_booking_event(listener: Listener) -> Listener:
    if listener not in _LISTENERS:
        _LISTENERS.append(listener)
    return listener


def register_describer(describer: Describer) -> Describer:
    if describer not in _DESCRIBERS:
        _DESCRIBERS.append(describer)
    return describer


def notify(booking: Booking, event: BookingEvent, now: datetime) -> None:
    for listener in _LISTENERS:
        listener(booking, event, now)


def describe(booking: Booking) -> dict[str, Any]:
    parts: dict[str, Any] = {}
    for describer in _DESCRIBERS:
        parts.update(describer(booking))
    return parts
