"""What customers paid, what is owed back, and what the provider told us.

The :class:`LedgerEntry` rows are the books: every charge, refund and fee of
a booking, written *before* the provider is asked to move money (with the
row's ``idempotency_key``), then marked succeeded or failed. What a booking
holds of the customer's money is the sum of its succeeded charges and fees
minus its refunds not failed. A :class:`Payment` is one checkout with a
provider (a PaymentIntent, a saved-card setup, or an amount due at the
venue). :class:`ProviderEvent` records each webhook handled, so a repeated
one is handled once.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from slotwise.bookings.models import Booking
from slotwise.organizations.models import Organization
from slotwise.organizations.tenancy import TenantManager


class PaymentKind(models.TextChoices):
    PAYMENT = "payment"
    CARD = "card"  # a card saved for later fees


class PaymentStatus(models.TextChoices):
    REQUIRES_PAYMENT = "requires_payment"
    REQUIRES_ACTION = "requires_action"
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"
    CANCELLED = "cancelled"
    DUE = "due"  # at the venue
    CANCELLING = "cancelling"  # the booking ended unpaid: the provider is to cancel it


OPEN_STATUSES = (
    PaymentStatus.REQUIRES_PAYMENT,
    PaymentStatus.REQUIRES_ACTION,
    PaymentStatus.PROCESSING,
)


class Payment(models.Model):
    """One checkout of a booking with a provider."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="payments"
    )
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="payments")
    provider = models.CharField(max_length=32)
    kind = models.CharField(max_length=16, choices=PaymentKind, default=PaymentKind.PAYMENT)
    reference = models.CharField(max_length=255, help_text="The provider's id: pi_..., seti_...")
    amount_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    status = models.CharField(max_length=20, choices=PaymentStatus)
    client_secret = models.CharField(max_length=255, blank=True)
    customer_reference = models.CharField(max_length=255, blank=True)
    method_reference = models.CharField(max_length=255, blank=True)
    failure = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=["provider", "reference"], name="payment_reference_per_provider"
            ),
        )
        indexes = (
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="cancelling"),
                name="payment_cancelling",
            ),
        )

    def __str__(self) -> str:
        return f"{self.provider} {self.reference}"


class EntryKind(models.TextChoices):
    CHARGE = "charge"  # the customer paid
    REFUND = "refund"  # given back
    FEE = "fee"  # charged to a saved card: no-show, late cancellation


class EntryStatus(models.TextChoices):
    PENDING = "pending"  # to be carried out by the provider
    SUCCEEDED = "succeeded"
    FAILED = "failed"  # gave up: staff must look at it


class LedgerEntry(models.Model):
    """A movement of money for a booking, in minor units of ``currency``."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="ledger_entries"
    )
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="ledger_entries")
    payment = models.ForeignKey(
        Payment, on_delete=models.PROTECT, null=True, blank=True, related_name="entries"
    )
    kind = models.CharField(max_length=16, choices=EntryKind)
    status = models.CharField(max_length=16, choices=EntryStatus)
    amount_minor = models.PositiveBigIntegerField()
    currency = models.CharField(max_length=3)
    provider = models.CharField(max_length=32)
    reason = models.CharField(max_length=40, help_text="payment, cancellation, no-show...")
    reference = models.CharField(max_length=255, blank=True, help_text="The provider's id.")
    idempotency_key = models.CharField(max_length=120, unique=True)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    settled_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        ordering = ("created_at", "id")
        indexes = (
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="ledger_pending_due",
            ),
            models.Index(fields=["organization", "created_at"], name="ledger_org_created"),
        )
        constraints = (
            models.CheckConstraint(
                condition=models.Q(amount_minor__gt=0), name="ledger_amount_positive"
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} {self.amount_minor} {self.currency} ({self.status})"


class ProviderEvent(models.Model):
    """A provider's webhook, recorded when handled: the same event id is handled once."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255)
    type = models.CharField(max_length=100)
    reference = models.CharField(max_length=255, blank=True)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=["provider", "event_id"], name="provider_event_once"),
        )

    def __str__(self) -> str:
        return f"{self.provider} {self.event_id}"
