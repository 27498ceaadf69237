"""What an organization offers: its resources, their opening hours, and its services."""

from slotwise.catalog.models.hours import (
    Closure,
    DateOverride,
    DateOverrideHours,
    Schedule,
    WeeklyRule,
)
from slotwise.catalog.models.offerings import (
    PaymentMode,
    Service,
    ServiceRequirement,
    WaitlistMode,
)
from slotwise.catalog.models.resources import Resource, ResourceKind

__all__ = [
    "Closure",
    "DateOverride",
    "DateOverrideHours",
    "PaymentMode",
    "Resource",
    "ResourceKind",
    "Schedule",
    "Service",
    "ServiceRequirement",
    "WaitlistMode",
    "WeeklyRule",
]
