"""The worker's part in calendars: read those due, write bookings' events.

``slotwise worker`` runs :func:`sweep` every minute: every connection whose
``next_sync_at`` has come is read (every ``SLOTWISE_CALENDAR_SYNC_MINUTES``,
or later after failures), and every pending booking event is written.
A booking's change asks for :func:`write_copies` after it commits.
"""

from __future__ import annotations

from django.db.models import Q
from django.tasks import task
from django.utils import timezone

from slotwise.calendars.models import CalendarConnection, CalendarCopy, CopyStatus
from slotwise.calendars.sync import sync_connection, write_copy
from slotwise.organizations.tenancy import no_tenant, tenant

MAX_PER_SWEEP = 200


@task()
def write_copies(booking_id: int) -> int:
    """Write (or remove) the pending events of one booking; how many were done."""
    with no_tenant():
        organization_id = (
            CalendarCopy.objects.with_scopes_disabled()
            .filter(booking_id=booking_id)
            .values_list("organization_id", flat=True)
            .first()
        )
    if organization_id is None:
        return 0
    done = 0
    with tenant(organization_id):
        copies = CalendarCopy.objects.filter(
            booking_id=booking_id, status=CopyStatus.PENDING
        ).select_related("connection", "booking__service", "booking__organization")
        for copy in copies:
            done += write_copy(copy, timezone.now())
    return done


@task()
def sweep() -> int:
    """Read the calendars that are due and write the events that are; how many."""
    now = timezone.now()
    handled = 0
    with no_tenant():
        due = list(
            CalendarConnection.objects.with_scopes_disabled()
            .filter(Q(next_sync_at__isnull=True) | Q(next_sync_at__lte=now), active=True)
            .order_by("next_sync_at", "pk")
            .values_list("organization_id", "pk")[:MAX_PER_SWEEP]
        )
        for organization_id, pk in due:
            with tenant(organization_id):
                connection = CalendarConnection.objects.select_related("resource").get(pk=pk)
                sync_connection(connection, timezone.now())
                handled += 1
        copies = list(
            CalendarCopy.objects.with_scopes_disabled()
            .filter(status=CopyStatus.PENDING, next_attempt_at__lte=now)
            .values_list("organization_id", "pk")[:MAX_PER_SWEEP]
        )
        for organization_id, pk in copies:
            with tenant(organization_id):
                copy = CalendarCopy.objects.select_related(
                    "connection", "booking__service", "booking__organization"
                ).get(pk=pk)
                handled += write_copy(copy, timezone.now())
    return handled
