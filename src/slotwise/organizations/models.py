"""The tenant: every other row in slotwise belongs to exactly one organization."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone

from slotwise.organizations.validators import (
    validate_api_key_scopes,
    validate_currency,
    validate_embed_origins,
    validate_locale,
    validate_time_zone,
)


class Organization(models.Model):
    """A business that takes bookings: its zone, currency and locale are the defaults
    for everything it owns (resources may sit in other zones)."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=64, unique=True)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    currency = models.CharField(max_length=3, validators=[validate_currency])
    locale = models.CharField(max_length=35, default="en", validators=[validate_locale])
    embed_origins = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_embed_origins],
        help_text=(
            "Sites that may show the booking pages in a frame, such as "
            "https://www.example-salon.com; none means no site may."
        ),
    )
    payment_provider = models.CharField(
        max_length=32,
        default="venue",
        help_text="How customers pay when a service asks for payment: stripe, or venue.",
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        constraints = (
            models.CheckConstraint(
                condition=Exact(Length("currency"), 3), name="organization_currency_3_letters"
            ),
            models.CheckConstraint(
                condition=~models.Q(time_zone=""), name="organization_time_zone_set"
            ),
        )

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A key that lets a program act for its organization on the staff API.

    The key itself (``sw_<prefix>_<secret>``) is shown once when issued;
    only ``prefix``, to find the row, and the SHA-256 of the whole key are
    kept. A revoked key stays, so the record of who had access remains.
    ``last_used_at`` is kept to within an hour (see
    :func:`slotwise.organizations.services.organization_for_api_key`).
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="api_keys"
    )
    name = models.CharField(max_length=100, help_text="Who or what holds the key.")
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, editable=False)
    scopes = models.JSONField(
        default=list,
        validators=[validate_api_key_scopes],
        help_text='What the key may do: "read", "write", or names such as "bookings:read".',
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Never, if empty.")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "API key"
        constraints = (
            models.CheckConstraint(
                condition=Exact(Length("secret_hash"), 64), name="api_key_secret_hash_sha256_hex"
            ),
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix})"
