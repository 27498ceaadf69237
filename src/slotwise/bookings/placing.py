"""Placing a customer's booking: every step a public booking goes through, in order.

The booking API and the booking pages both call :func:`place`, so a booking
made on a page is checked, limited and paid for exactly as one made over the
API: the customer's zone and the service are validated, the organization's
write rate is counted, external calendars whose copy is stale are read, the
booking is made under lock (held while the customer pays, if the service asks
for payment) and the checkout is started.

Raises what those steps raise: :class:`~slotwise.availability.services.SlotQueryError`,
:class:`~slotwise.bookings.services.BookingError`,
:class:`~slotwise.payments.services.PaymentError` and
:class:`~slotwise.api.ratelimits.RateLimited`.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from slotwise.api.ratelimits import WRITE, check_organization_rate
from slotwise.availability.services import customer_zone, get_bookable_service
from slotwise.bookings import services
from slotwise.bookings.models import Booking
from slotwise.calendars import services as calendars
from slotwise.organizations.tenancy import enter_tenant
from slotwise.payments import services as payments

__all__ = ["place"]


def place(
    service_id: int,
    *,
    start: datetime,
    customer: services.Customer,
    now: datetime,
    duration: int | None = None,
    seats: int = 1,
    hold: bool = False,
) -> tuple[Booking, str, ZoneInfo]:
    """Book and return the booking, its manage token and the customer's zone."""
    zone = customer_zone(customer.time_zone)
    service = get_bookable_service(service_id)
    enter_tenant(service.organization_id)
    check_organization_rate(service.organization_id, WRITE)
    calendars.refresh_for_service(service, now)
    booking, token = services.book(
        service,
        start=start,
        customer=customer,
        now=now,
        duration_minutes=duration,
        seats=seats,
        # Held while the customer pays, when the service asks for payment.
        hold=hold or payments.checkout_needed(service),
    )
    payments.start_checkout(booking, now)
    return booking, token, zone
