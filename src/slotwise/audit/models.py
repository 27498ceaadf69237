"""Audit entries: one row per security-relevant or booking-changing action.

Entries are only ever added (:func:`slotwise.audit.services.log_action`):
saving an existing entry or updating entries in bulk raises. They go when
their organization is deleted; when a user is deleted their entries stay,
without the link to them (``actor`` still names ``user:<id>``).
"""

from __future__ import annotations

from typing import Any, NoReturn

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AppendOnly(TypeError):
    """An attempt to change an audit entry."""


class AuditEntryQuerySet(models.QuerySet["AuditEntry"]):
    def update(self, **kwargs: Any) -> NoReturn:
        raise AppendOnly("Audit entries are never changed.")


class AuditEntry(models.Model):
    """``actor`` did ``action`` to ``target`` at ``at``, from ``ip`` with ``user_agent``.

    ``actor`` is ``user:<id>``, ``api-key:<prefix>``, ``customer`` (someone
    not signed in, acting on a booking), ``anonymous`` (someone not signed
    in, otherwise: a failed sign-in...) or ``system`` (a worker, the command
    line). ``organization`` is empty for account-level actions (a sign-in).
    ``data`` holds the details (never a password, token, key or hash).
    """

    # The (organization, at, id) index serves the foreign key as well.
    organization = models.ForeignKey(
        "organizations.Organization",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="audit_entries",
        db_index=False,
    )
    at = models.DateTimeField()
    actor = models.CharField(max_length=40)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    action = models.CharField(max_length=64)
    target_type = models.CharField(max_length=40, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=200, blank=True)

    objects = AuditEntryQuerySet.as_manager()

    class Meta:
        verbose_name_plural = "audit entries"
        indexes = (models.Index(fields=("organization", "at", "id"), name="audit_entry_org_at"),)

    def __str__(self) -> str:
        return f"{self.action} by {self.actor} at {self.at.isoformat()}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise AppendOnly("Audit entries are never changed.")
        super().save(*args, **kwargs)
