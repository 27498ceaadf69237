"""Resources: the people, rooms, tables and equipment that bookings occupy."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from slotwise.catalog.models.hours import Schedule
from slotwise.organizations.models import Organization
from slotwise.organizations.tenancy import TenantManager
from slotwise.organizations.validators import validate_time_zone


class ResourceKind(models.TextChoices):
    PERSON = "person"
    ROOM = "room"
    TABLE = "table"
    EQUIPMENT = "equipment"


class Resource(models.Model):
    """Something a booking occupies, ``capacity`` units at a time.

    A person or a room usually has a capacity of 1; a table for six has 6.
    Its schedule's wall-clock hours are read in the resource's own
    ``time_zone``, so one schedule can serve providers in several zones. A
    resource without a schedule is never open.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="resources"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=ResourceKind)
    capacity = models.PositiveIntegerField(default=1)
    time_zone = models.CharField(max_length=64, validators=[validate_time_zone])
    # PROTECT: deleting hours still in use would silently close every resource on them.
    schedule = models.ForeignKey(
        Schedule,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="resources",
    )
    active = models.BooleanField(default=True)
    # The member who is this resource (a provider): with the staff role they
    # manage this resource's bookings and no others.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="resources",
    )

    objects = TenantManager()

    class Meta:
        constraints = (
            models.CheckConstraint(
                condition=models.Q(capacity__gte=1), name="resource_capacity_at_least_1"
            ),
            models.CheckConstraint(
                condition=models.Q(kind__in=ResourceKind.values), name="resource_kind_known"
            ),
            models.CheckConstraint(
                condition=~models.Q(time_zone=""), name="resource_time_zone_set"
            ),
        )

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        super().clean()
        if self.schedule_id is not None and self.schedule.organization_id != self.organization_id:
            raise ValidationError({"schedule": "The schedule belongs to another organization."})
