"""The tenant: every other row in slotwise belongs to exactly one organization."""

from __future__ import annotations

from django.db import models
from django.db.models.functions import Length
from django.db.models.lookups import Exact
from django.utils import timezone

from slotwise.organizations.validators import (
    validate_currency,
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
