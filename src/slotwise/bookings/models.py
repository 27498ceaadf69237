"""Bookings, the resources they occupy, and what happened to them.

A :class:`Booking` has one :class:`Allocation` per resource it holds while it
occupies them (held, pending or confirmed), carrying the *blocked* range:
booked time plus the service's buffers as they were when the booking was
made, so a later change of buffers does not move old bookings. When a
booking stops occupying (cancelled, an expired hold, a rejected request)
its allocations are deleted, so that what occupies a resource is exactly
its allocation rows. Every change is a :class:`BookingEvent`.

On PostgreSQL an exclusion constraint (migration 0002) forbids two
overlapping *exclusive* allocations of one resource: the database's own
last line of defence for single-capacity resources, behind the row locks
of :mod:`slotwise.bookings.services`.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from slotwise.catalog.models import Resource, Service
from slotwise.organizations.models import Organization
from slotwise.organizations.tenancy import TenantManager


class BookingStatus(models.TextChoices):
    HELD = "held"  # reserved during checkout until expires_at
    PENDING = "pending"  # awaiting payment or the provider's approval
    CONFIRMED = "confirmed"
    COMPLETED = "completed"
    NO_SHOW = "no_show"
    CANCELLED = "cancelled"


BLOCKING_STATUSES = (BookingStatus.HELD, BookingStatus.PENDING, BookingStatus.CONFIRMED)
"""Statuses whose bookings occupy their resources (a hold only until it expires)."""


class CancelledBy(models.TextChoices):
    CUSTOMER = "customer"
    STAFF = "staff"
    SYSTEM = "system"  # an expired hold, a rejected request


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
    expires_at = models.DateTimeField(null=True, blank=True, help_text="When a hold lapses.")
    customer_name = models.CharField(max_length=200, blank=True)
    customer_email = models.EmailField(blank=True)
    customer_phone = models.CharField(max_length=40, blank=True)
    customer_time_zone = models.CharField(max_length=64, blank=True)
    # SHA-256 of the customer's manage token; the token itself is only ever shown once.
    manage_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    series = models.ForeignKey(
        "Series", on_delete=models.SET_NULL, null=True, blank=True, related_name="bookings"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.CharField(max_length=16, choices=CancelledBy, blank=True)
    cancel_reason = models.CharField(max_length=500, blank=True)
    # The service's price, payment and cancellation terms as they were when the
    # booking was made: later edits of the service never change them.
    terms = models.JSONField(default=dict, blank=True)
    reschedules = models.PositiveIntegerField(default=0, help_text="Times the customer moved it.")
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = (
            models.Index(fields=["organization", "starts_at"], name="booking_org_start"),
            models.Index(
                fields=["expires_at"],
                condition=models.Q(status="held"),
                name="booking_hold_expiry",
            ),
        )
        constraints = (
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="booking_ends_after_start",
            ),
            models.CheckConstraint(condition=models.Q(seats__gte=1), name="booking_seats_positive"),
            models.CheckConstraint(
                condition=~models.Q(status="held") | models.Q(expires_at__isnull=False),
                name="booking_hold_expires",
            ),
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
    # The booking takes the whole resource (capacity 1, not a group session):
    # what the exclusion constraint guards on PostgreSQL.
    exclusive = models.BooleanField(default=False)

    objects = TenantManager()

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


class Series(models.Model):
    """Bookings made together from a recurrence rule, in the provider's wall clock."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="series")
    service = models.ForeignKey(Service, on_delete=models.PROTECT, related_name="series")
    rrule = models.CharField(max_length=500)
    time_zone = models.CharField(max_length=64, help_text="The wall clock the rule runs on.")
    # SHA-256 of the series' manage token, shown once, as for a booking.
    manage_token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantManager()

    class Meta:
        verbose_name_plural = "series"

    def __str__(self) -> str:
        return f"{self.service}: {self.rrule}"


class BookingEvent(models.Model):
    """One thing that happened to a booking: created, confirmed, rescheduled, cancelled..."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="booking_events"
    )
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(default=timezone.now)
    action = models.CharField(max_length=40)
    actor = models.CharField(max_length=16, choices=CancelledBy)
    data = models.JSONField(default=dict, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ("at", "id")

    def __str__(self) -> str:
        return f"{self.action} of booking {self.booking_id}"


class IdempotencyKey(models.Model):
    """The answer to a POST made with an ``Idempotency-Key``, kept to be replayed.

    ``scope`` says who may replay it (a client's key never answers
    another's); ``request_hash`` tells a retry from a different request that
    reuses the key. A row without ``status`` is a request still running.
    """

    scope = models.CharField(max_length=200)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    body = models.BinaryField(null=True, blank=True)
    content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_key_per_scope"),
        )

    def __str__(self) -> str:
        return self.key
