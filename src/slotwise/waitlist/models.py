"""Customers waiting for a service, and the slots offered to them when one frees up.

A :class:`WaitlistEntry` wants ``seats`` of a service: at one ``slot``, or
in a window (dates, weekdays and a time of day in the customer's own zone,
optionally one resource). An :class:`Offer` is a freed slot proposed to an
entry. In *sequential* mode the offer holds the slot for that customer (a
``held`` booking that lapses with the offer), so the public cannot take it;
in *broadcast* mode every matching entry gets an offer for the same slot
and the first to claim it books it through the booking engine.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from slotwise.bookings.models import Booking
from slotwise.catalog.models import Resource, Service
from slotwise.organizations.models import Organization
from slotwise.organizations.tenancy import TenantManager


class EntryStatus(models.TextChoices):
    WAITING = "waiting"
    BOOKED = "booked"  # claimed an offer
    EXPIRED = "expired"  # its window passed
    LEFT = "left"  # the customer left the list


class WaitlistEntry(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="waitlist_entries"
    )
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="waitlist")
    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, null=True, blank=True, related_name="waitlist"
    )
    customer_name = models.CharField(max_length=200)
    customer_email = models.EmailField()
    customer_phone = models.CharField(max_length=40, blank=True)
    customer_time_zone = models.CharField(max_length=64)
    seats = models.PositiveIntegerField(default=1)
    # One slot wanted...
    slot_start = models.DateTimeField(null=True, blank=True)
    # ...or a window, in the customer's zone: days from first to last, on ``weekdays``
    # (0 is Monday; empty: any), starting between ``earliest`` and ``latest``.
    first_day = models.DateField(null=True, blank=True)
    last_day = models.DateField(null=True, blank=True)
    weekdays = models.JSONField(default=list, blank=True)
    earliest = models.TimeField(null=True, blank=True)
    latest = models.TimeField(null=True, blank=True)
    priority = models.IntegerField(default=0, help_text="Higher is offered first.")
    # Starts (UTC ISO) offered to this entry and let go: never offered to it again.
    passed = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=16, choices=EntryStatus, default=EntryStatus.WAITING)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField(help_text="When its window has passed.")
    created_at = models.DateTimeField(default=timezone.now)
    booking = models.ForeignKey(
        Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = TenantManager()

    class Meta:
        verbose_name_plural = "waitlist entries"
        indexes = (
            models.Index(
                fields=["service", "-priority", "created_at"],
                condition=models.Q(status="waiting"),
                name="waitlist_queue",
            ),
        )
        constraints = (
            models.CheckConstraint(condition=models.Q(seats__gte=1), name="waitlist_seats"),
            models.CheckConstraint(
                condition=models.Q(slot_start__isnull=False)
                | models.Q(first_day__isnull=False, last_day__isnull=False),
                name="waitlist_slot_or_window",
            ),
        )

    def __str__(self) -> str:
        return f"{self.customer_email} waiting for {self.service_id}"


class OfferStatus(models.TextChoices):
    OPEN = "open"
    CLAIMED = "claimed"
    EXPIRED = "expired"  # not claimed in time
    GONE = "gone"  # broadcast: someone else claimed it first, or the slot was taken
    WITHDRAWN = "withdrawn"  # the customer left, or the slot stopped existing


class Offer(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="waitlist_offers"
    )
    entry = models.ForeignKey(WaitlistEntry, on_delete=models.CASCADE, related_name="offers")
    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="+")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    sequential = models.BooleanField()
    # Sequential: the held booking that keeps the slot for this customer.
    hold = models.ForeignKey(
        Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=OfferStatus, default=OfferStatus.OPEN)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    closed_at = models.DateTimeField(null=True, blank=True)
    booking = models.ForeignKey(
        Booking, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = TenantManager()

    class Meta:
        indexes = (
            models.Index(
                fields=["expires_at"], condition=models.Q(status="open"), name="offer_open_expiry"
            ),
        )
        constraints = (
            # An entry has at most one open offer: two backfills at once cannot
            # give the same customer two slots.
            models.UniqueConstraint(
                fields=["entry"], condition=models.Q(status="open"), name="offer_one_open"
            ),
        )

    def __str__(self) -> str:
        return f"offer {self.pk} to entry {self.entry_id}"
