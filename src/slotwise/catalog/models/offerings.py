"""Services: what customers book, and the resources each one needs."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact

from slotwise.catalog.models.resources import Resource, ResourceKind
from slotwise.organizations.models import Organization
from slotwise.organizations.tenancy import TenantManager
from slotwise.organizations.validators import validate_currency


def validate_durations(value: Any) -> None:
    """A non-empty list of distinct positive whole minutes; the first is the default."""
    if (
        not isinstance(value, list)
        or not value
        or any(type(m) is not int or m < 1 for m in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(
            "Enter a list of distinct positive minute counts, default first, e.g. [60, 90]."
        )


DEFAULT_REMINDERS = (24 * 60, 60)
MAX_REMINDER_MINUTES = 60 * 24 * 60


def default_reminders() -> list[int]:
    return list(DEFAULT_REMINDERS)


def validate_reminders(value: Any) -> None:
    """At most 5 distinct whole minutes before the start, each up to 60 days."""
    if (
        not isinstance(value, list)
        or len(value) > 5
        or any(type(m) is not int or not 1 <= m <= MAX_REMINDER_MINUTES for m in value)
        or len(set(value)) != len(value)
    ):
        raise ValidationError(
            "Enter at most 5 distinct minute counts before the start, up to 86400, "
            "e.g. [1440, 60]; [] for no reminders."
        )


class WaitlistMode(models.TextChoices):
    """What happens when a slot of a service frees up (see :mod:`slotwise.waitlist`)."""

    SEQUENTIAL = "sequential", "Offered to one waiting customer at a time, held meanwhile"
    BROADCAST = "broadcast", "Offered to every matching customer; the first to claim wins"
    OFF = "off", "No waitlist"


class PaymentMode(models.TextChoices):
    """What a service asks of the customer when they book (see :mod:`slotwise.payments`)."""

    NONE = "none", "No payment"
    DEPOSIT = "deposit", "A deposit"
    FULL = "full", "Full prepayment"
    CARD = "card", "A saved card, for a no-show or late-cancellation fee"


def validate_policy(value: Any) -> None:
    """A cancellation policy the scheduling core can read (``parse_policy``)."""
    from slotwise.scheduling.refunds import PolicyError, parse_policy

    try:
        parse_policy(value)
    except PolicyError as error:
        raise ValidationError(str(error)) from None


class Service(models.Model):
    """Something customers book: its durations, slot grid, buffers, limits and price.

    ``step_minutes`` is the distance between candidate starts (empty: the
    duration). Buffers are blocked before and after each booking but may fall
    outside opening hours. ``seats_per_slot`` makes a group service whose
    slots sell that many seats. ``horizon_days`` (empty: unlimited) is how
    far ahead customers may book; ``min_notice_minutes`` how soon. The
    ``max_*`` limits count this service's bookings per resource, per local
    day and per Monday-to-Sunday week.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="services"
    )
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64)
    durations = models.JSONField(default=list, validators=[validate_durations])
    step_minutes = models.PositiveIntegerField(null=True, blank=True)
    buffer_before_minutes = models.PositiveIntegerField(default=0)
    buffer_after_minutes = models.PositiveIntegerField(default=0)
    min_notice_minutes = models.PositiveIntegerField(default=0)
    horizon_days = models.PositiveIntegerField(null=True, blank=True)
    seats_per_slot = models.PositiveIntegerField(null=True, blank=True)
    max_bookings_per_day = models.PositiveIntegerField(null=True, blank=True)
    max_minutes_per_day = models.PositiveIntegerField(null=True, blank=True)
    max_bookings_per_week = models.PositiveIntegerField(null=True, blank=True)
    max_minutes_per_week = models.PositiveIntegerField(null=True, blank=True)
    price_minor = models.PositiveIntegerField(default=0, help_text="In minor units: cents, pence.")
    currency = models.CharField(max_length=3, validators=[validate_currency])
    requires_approval = models.BooleanField(
        default=False, help_text="Bookings wait as pending until staff approve them."
    )
    payment_mode = models.CharField(max_length=16, choices=PaymentMode, default=PaymentMode.NONE)
    deposit_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="A deposit as a share of the price, 1 to 100."
    )
    deposit_minor = models.PositiveIntegerField(
        null=True, blank=True, help_text="A fixed deposit, in minor units."
    )
    cancellation_policy = models.JSONField(
        default=dict,
        blank=True,
        validators=[validate_policy],
        help_text="Refund tiers, same-day rule, fee, reschedule limits, no-show fee.",
    )
    waitlist_mode = models.CharField(
        max_length=16, choices=WaitlistMode, default=WaitlistMode.SEQUENTIAL
    )
    offer_minutes = models.PositiveIntegerField(
        default=30, help_text="How long a waitlist offer holds its slot (less when it is close)."
    )
    reminder_minutes = models.JSONField(
        default=default_reminders,
        blank=True,
        validators=[validate_reminders],
        help_text="When customers are reminded, in minutes before the start.",
    )
    active = models.BooleanField(default=True)

    objects = TenantManager()

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["organization", "slug"], name="service_slug_per_org"),
            models.CheckConstraint(
                condition=models.Q(step_minutes__isnull=True) | models.Q(step_minutes__gte=1),
                name="service_step_positive",
            ),
            models.CheckConstraint(
                condition=models.Q(seats_per_slot__isnull=True) | models.Q(seats_per_slot__gte=1),
                name="service_seats_per_slot_positive",
            ),
            models.CheckConstraint(
                condition=Exact(Length("currency"), 3), name="service_currency_3_letters"
            ),
            models.CheckConstraint(
                condition=models.Q(payment_mode__in=PaymentMode.values),
                name="service_payment_mode_known",
            ),
            models.CheckConstraint(
                condition=~models.Q(payment_mode="deposit")
                | models.Q(deposit_percent__isnull=False, deposit_minor__isnull=True)
                | models.Q(deposit_percent__isnull=True, deposit_minor__isnull=False),
                name="service_deposit_one_way",
            ),
        )

    def __str__(self) -> str:
        return self.name

    @property
    def default_duration(self) -> int:
        """The first of ``durations``, in minutes."""
        return int(self.durations[0])


class ServiceRequirement(models.Model):
    """One resource a booking of the service needs: a person, a room...

    The pool is ``pool`` if any are listed, else every active resource of
    ``kind`` in the organization; either way only active resources of that
    kind take part. A booking takes one resource from each requirement's
    pool. The requirement with the lowest ``ordering`` sets the slot grid.
    """

    service = models.ForeignKey(Service, on_delete=models.CASCADE, related_name="requirements")
    kind = models.CharField(max_length=16, choices=ResourceKind)
    pool = models.ManyToManyField(Resource, blank=True, related_name="requirements")
    ordering = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=["service", "ordering"], name="service_requirement_ordering_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ResourceKind.values),
                name="service_requirement_kind_known",
            ),
        )

    def __str__(self) -> str:
        return f"{self.service}: {self.get_kind_display()}"
