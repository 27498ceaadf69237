"""A booking's terms: its price, what is paid when booking, and its cancellation policy.

They are copied from the service when the booking is made
(:func:`terms_for`) and read from the booking ever after (:func:`policy_of`),
so editing a service never changes what existing bookings were promised.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from slotwise.bookings.models import Booking
from slotwise.catalog.models import PaymentMode, Service
from slotwise.scheduling.refunds import Policy, deposit_minor, parse_policy, policy_dict

__all__ = [
    "currency_of",
    "due_now",
    "payment_mode",
    "policy_of",
    "price_of",
    "terms_for",
    "zone_of",
]


def terms_for(service: Service, seats: int, time_zone: str) -> dict[str, Any]:
    """The terms a booking of ``seats`` of ``service`` is made on, as stored with it;
    ``time_zone`` is the provider's, whose calendar days the policy's same-day rule
    counts."""
    price = service.price_minor * seats
    mode = service.payment_mode if price > 0 else PaymentMode.NONE
    if mode == PaymentMode.FULL:
        due = price
    elif mode == PaymentMode.DEPOSIT:
        due = deposit_minor(
            price, percent=service.deposit_percent, fixed_minor=service.deposit_minor
        )
    else:
        due = 0
    return {
        "price_minor": price,
        "currency": service.currency,
        "payment_mode": mode,
        "due_minor": due,
        "policy": policy_dict(parse_policy(service.cancellation_policy)),
        "time_zone": time_zone,
    }


def policy_of(booking: Booking) -> Policy:
    """The cancellation policy ``booking`` was made under (none for bookings made
    before policies existed: a full refund until the start)."""
    return parse_policy((booking.terms or {}).get("policy"))


def zone_of(booking: Booking) -> ZoneInfo:
    """The provider's zone the terms count days in."""
    return ZoneInfo((booking.terms or {}).get("time_zone") or booking.organization.time_zone)


def price_of(booking: Booking) -> int:
    return int((booking.terms or {}).get("price_minor", 0))


def currency_of(booking: Booking) -> str:
    return str((booking.terms or {}).get("currency") or booking.service.currency)


def due_now(booking: Booking) -> int:
    """What the customer pays when booking: the deposit or the full price, else 0."""
    return int((booking.terms or {}).get("due_minor", 0))


def payment_mode(booking: Booking) -> str:
    return str((booking.terms or {}).get("payment_mode", PaymentMode.NONE))
