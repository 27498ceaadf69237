"""Busy times copied from external calendars (Google, CalDAV, ICS feeds).

Only what the slot finder reads is here so far. An event blocks its
resource entirely from ``starts_at`` to ``ends_at``; for an all-day event
those are the resource's local midnights, worked out when the event is
imported, and ``all_day`` records how it was stated.
"""

from __future__ import annotations

from django.db import models

from slotwise.catalog.models import Resource
from slotwise.organizations.models import Organization
from slotwise.organizations.tenancy import TenantManager


class ExternalBusy(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="external_busy"
    )
    # No index of its own: the slot lookup index below starts with the resource.
    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="external_busy", db_index=False
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    all_day = models.BooleanField(default=False)
    source = models.CharField(max_length=200, help_text="Which calendar the event came from.")
    uid = models.CharField(max_length=500, help_text="The event's id in that calendar.")

    objects = TenantManager()

    class Meta:
        verbose_name_plural = "external busy times"
        indexes = (
            models.Index(
                fields=["resource", "starts_at", "ends_at"], name="external_busy_slot_lookup"
            ),
        )
        constraints = (
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="external_busy_ends_after_start",
            ),
        )

    def __str__(self) -> str:
        return f"{self.resource} busy {self.starts_at:%Y-%m-%d %H:%M %Z}"
