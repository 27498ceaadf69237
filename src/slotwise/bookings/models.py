"""Bookings and the resources they occupy.

Only what the slot finder reads is here so far: a booking's time, seats and
status, and one :class:`Allocation` per resource it holds, carrying the
*blocked* range (booked time plus the service's buffers as they were when
the booking was made, so a later change of buffers does not move old
bookings).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from slotwise.catalog.models import Resource, Service
from slotwise.organizations.models import Organization


class BookingStatus(models.TextChoices):
    HELD = "held"
    PENDING = "pending"
    CONFIRMED = "confirmed"
    CANCELLED = "cancelled"


BLOCKING_STATUSES = (BookingStatus.HELD, BookingStatus.PENDING, BookingStatus.CONFIRMED)
"""Statuses whose bookings occupy their resources; a cancelled booking frees them."""


class Booking(models.Model):
    """A customer's booking of a service from ``starts_at`` to ``ends_at`` (buffers excluded)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="bookings"
    )
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="bookings")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    seats = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=16, choices=BookingStatus, default=BookingStatus.PENDING)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = (
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="booking_ends_after_start",
            ),
            models.CheckConstraint(condition=models.Q(seats__gte=1), name="booking_seats_positive"),
            models.CheckConstraint(
                condition=models.Q(status__in=BookingStatus.values), name="booking_status_known"
            ),
        )

    def __str__(self) -> str:
        return f"{self.service} at {self.starts_at:%Y-%m-%d %H:%M %Z}"


class Allocation(models.Model):
    """``units`` of ``resource`` held by ``booking`` from ``blocked_start`` to ``blocked_end``.

    For a group service every booking of a session holds one unit: the
    session occupies the resource, the seats are counted on the bookings.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="allocations"
    )
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="allocations")
    # No index of its own: the slot lookup index below starts with the resource.
    resource = models.ForeignKey(
        Resource, on_delete=models.PROTECT, related_name="allocations", db_index=False
    )
    blocked_start = models.DateTimeField()
    blocked_end = models.DateTimeField()
    units = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = (
            models.Index(
                fields=["resource", "blocked_start", "blocked_end"], name="allocation_slot_lookup"
            ),
        )
        constraints = (
            models.CheckConstraint(
                condition=models.Q(blocked_end__gt=models.F("blocked_start")),
                name="allocation_ends_after_start",
            ),
            models.CheckConstraint(
                condition=models.Q(units__gte=1), name="allocation_units_positive"
            ),
        )

    def __str__(self) -> str:
        return f"{self.resource} for booking {self.booking_id}"
