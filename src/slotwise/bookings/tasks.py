"""Background work of bookings. Tasks take ids and re-read the state when they run."""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from slotwise.bookings import services
from slotwise.bookings.models import Booking
from slotwise.organizations.tenancy import no_tenant, tenant, unscoped


@task()
def release_hold(booking_id: int) -> bool:
    """Release the hold ``booking_id`` if it has expired and is still held; whether it did.

    Enqueued to run when a hold expires. Until it runs, an expired hold
    already frees its slot for the slots endpoint and for new bookings.
    """
    with no_tenant():
        with unscoped():
            organization_id = (
                Booking.objects.filter(pk=booking_id)
                .values_list("organization_id", flat=True)
                .first()
            )
        if organization_id is None:
            return False
        with tenant(organization_id):
            return services.release_hold(booking_id, now=timezone.now())
