"""The worker's part in the waitlist: offer freed slots, end offers whose time is up.

A change that frees capacity asks for :func:`backfill_service` after it
commits (within seconds). ``slotwise worker`` runs :func:`sweep` every
minute: offers whose time is up end (a held slot goes to the next entry),
and every service with people waiting is matched again, which catches
capacity that appeared without a booking changing (new hours, a resource).
"""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from slotwise.organizations.tenancy import no_tenant, tenant
from slotwise.waitlist.models import EntryStatus, Offer, OfferStatus, WaitlistEntry
from slotwise.waitlist.services import backfill, expire_due


@task()
def backfill_service(service_id: int) -> int:
    """Offer the service's free slots to who is waiting; how many offers were made."""
    with no_tenant():
        organization_id = (
            WaitlistEntry.objects.with_scopes_disabled()
            .filter(service_id=service_id)
            .values_list("organization_id", flat=True)
            .first()
        )
    if organization_id is None:
        return 0
    with tenant(organization_id):
        return backfill(service_id, timezone.now())


@task()
def sweep() -> int:
    """End the offers that are due, then match every service with people waiting."""
    made = 0
    with no_tenant():
        due = set(
            Offer.objects.with_scopes_disabled()
            .filter(status=OfferStatus.OPEN, expires_at__lte=timezone.now())
            .values_list("organization_id", flat=True)
        )
        for organization_id in due:
            with tenant(organization_id):
                expire_due(timezone.now())
        waiting = set(
            WaitlistEntry.objects.with_scopes_disabled()
            .filter(status=EntryStatus.WAITING)
            .values_list("organization_id", "service_id")
        )
        for organization_id, service_id in sorted(waiting):
            with tenant(organization_id):
                made += backfill(service_id, timezone.now())
    return made
