"""A provider's own calendars: where their busy time comes from, and where their
bookings are written.

A :class:`CalendarConnection` is one external calendar account of a
resource: an ICS feed (the secret iCal address Google, Outlook and Apple
publish) or a CalDAV account. Its events are copied into
:class:`ExternalBusy` rows by :mod:`slotwise.calendars.sync`, which the slot
finder reads; an event blocks its resource entirely from ``starts_at`` to
``ends_at`` (for an all-day event, the resource's local midnights). A
:class:`CalendarCopy` is a booking written into a CalDAV calendar. A
:class:`FeedToken` opens a calendar feed out of slotwise.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

from slotwise.bookings.models import Booking
from slotwise.catalog.models import Resource
from slotwise.organizations.models import Organization
from slotwise.organizations.tenancy import TenantManager


class ConnectionKind(models.TextChoices):
    ICS = "ics", "ICS feed"
    CALDAV = "caldav", "CalDAV account"


class CalendarConnection(models.Model):
    """An external calendar of a resource. The feed address and the password are
    secrets, stored encrypted (:mod:`slotwise.crypto`) and never shown again."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="calendar_connections"
    )
    resource = models.ForeignKey(
        Resource, on_delete=models.CASCADE, related_name="calendar_connections"
    )
    kind = models.CharField(max_length=16, choices=ConnectionKind)
    name = models.CharField(max_length=200)
    url_encrypted = models.TextField(help_text="The feed or server address, encrypted.")
    username = models.CharField(max_length=200, blank=True)
    password_encrypted = models.TextField(blank=True)
    read_calendars = models.JSONField(
        default=list, blank=True, help_text="CalDAV: the calendars whose events block slots."
    )
    write_calendar = models.CharField(
        max_length=1000, blank=True, help_text="CalDAV: where bookings are written; none: nowhere."
    )
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    sync_tokens = models.JSONField(default=dict, blank=True)
    active = models.BooleanField(default=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    failures = models.PositiveIntegerField(default=0)
    next_sync_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = TenantManager()

    class Meta:
        indexes = (
            models.Index(
                fields=["next_sync_at"], condition=models.Q(active=True), name="calendar_sync_due"
            ),
        )
        constraints = (
            models.CheckConstraint(
                condition=models.Q(kind__in=ConnectionKind.values), name="calendar_kind_known"
            ),
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.kind}) of {self.resource_id}"


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
    connection = models.ForeignKey(
        CalendarConnection,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="busy",
        db_index=False,
    )
    calendar = models.CharField(max_length=1000, blank=True, help_text="CalDAV: the calendar.")
    href = models.CharField(max_length=1000, blank=True, help_text="CalDAV: the event's address.")

    objects = TenantManager()

    class Meta:
        verbose_name_plural = "external busy times"
        indexes = (
            models.Index(
                fields=["resource", "starts_at", "ends_at"], name="external_busy_slot_lookup"
            ),
            models.Index(fields=["connection", "calendar"], name="external_busy_connection"),
        )
        constraints = (
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="external_busy_ends_after_start",
            ),
        )

    def __str__(self) -> str:
        return f"{self.resource} busy {self.starts_at:%Y-%m-%d %H:%M %Z}"


class CopyStatus(models.TextChoices):
    PENDING = "pending"  # to be written (or removed)
    SYNCED = "synced"
    FAILED = "failed"  # gave up: shown to staff


class CalendarCopy(models.Model):
    """A booking as an event in a provider's CalDAV calendar (``present``), or to be
    removed from it (``present=False``). The event's UID comes from the booking,
    so writing it again replaces it. ``drift`` is what the provider changed in
    their calendar since (``moved``, ``deleted``): reported, never applied."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="calendar_copies"
    )
    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="calendar_copies")
    connection = models.ForeignKey(
        CalendarConnection, on_delete=models.CASCADE, related_name="copies"
    )
    uid = models.CharField(max_length=255)
    present = models.BooleanField(default=True)
    href = models.CharField(max_length=1000, blank=True)
    status = models.CharField(max_length=16, choices=CopyStatus, default=CopyStatus.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=500, blank=True)
    synced_at = models.DateTimeField(null=True, blank=True)
    drift = models.CharField(max_length=16, blank=True)
    drift_at = models.DateTimeField(null=True, blank=True)

    objects = TenantManager()

    class Meta:
        constraints = (
            models.UniqueConstraint(
                fields=["booking", "connection"], name="calendar_copy_once_per_connection"
            ),
        )
        indexes = (
            models.Index(
                fields=["next_attempt_at"],
                condition=models.Q(status="pending"),
                name="calendar_copy_due",
            ),
        )

    def __str__(self) -> str:
        return f"{self.uid} in {self.connection_id}"


class FeedKind(models.TextChoices):
    RESOURCE = "resource"  # a resource's bookings, for its provider's calendar app
    CUSTOMER = "customer"  # a customer's own bookings, everywhere


class FeedToken(models.Model):
    """The secret of a calendar feed out of slotwise; rotating it makes a new one and
    deletes the old. Only its SHA-256 is kept."""

    kind = models.CharField(max_length=16, choices=FeedKind)
    resource = models.OneToOneField(
        Resource, on_delete=models.CASCADE, null=True, blank=True, related_name="feed_token"
    )
    user = models.OneToOneField(
        "accounts.User",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="feed_token",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = (
            models.CheckConstraint(
                condition=(models.Q(kind="resource") & models.Q(resource__isnull=False))
                | (models.Q(kind="customer") & models.Q(user__isnull=False)),
                name="feed_token_owner",
            ),
        )

    def __str__(self) -> str:
        return f"{self.kind} feed"
