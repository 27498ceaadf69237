"""Where an organization wants its booking events posted, and the key that signs them.

Each delivery is an outbox row (:class:`slotwise.notifications.models.Message`,
kind ``webhook``, recipient ``webhook:<endpoint id>``), so a delivery log
outlives the endpoint it was meant for.
"""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone

from slotwise.organizations.models import Organization
from slotwise.organizations.tenancy import TenantManager
from slotwise.webhooks.validators import MAX_URL_LENGTH, validate_event_types, validate_webhook_url

__all__ = ["SECRET_HINT_LENGTH", "WebhookEndpoint", "new_secret"]

SECRET_HINT_LENGTH = 6
"""How much of a secret is shown after it was first handed out."""


def new_secret() -> str:
    """256 random bits, URL-safe base64 (43 characters)."""
    return secrets.token_urlsafe(32)


class WebhookEndpoint(models.Model):
    """A URL that receives the organization's booking events, signed with ``secret``.

    ``events`` lists the event types it wants (``booking.created`` ...); an
    empty list means all of them. ``secret`` is kept as it is, not hashed: it
    is the key that signs every delivery, so slotwise must have it. It is
    shown whole once, when it is made; afterwards only its first
    :data:`SECRET_HINT_LENGTH` characters (:attr:`secret_hint`).
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    url = models.CharField(max_length=MAX_URL_LENGTH, validators=[validate_webhook_url])
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_event_types],
        help_text='Event types such as "booking.created"; none means every one.',
    )
    secret = models.CharField(max_length=64, default=new_secret, editable=False)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = TenantManager()

    class Meta:
        indexes = (models.Index(fields=["organization", "active"], name="webhook_org_active"),)

    def __str__(self) -> str:
        return self.url

    @property
    def recipient(self) -> str:
        """What its deliveries name as their recipient: ``webhook:<id>``."""
        return f"webhook:{self.pk}"

    @property
    def secret_hint(self) -> str:
        return self.secret[:SECRET_HINT_LENGTH]

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events
