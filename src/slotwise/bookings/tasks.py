"""Background work of bookings. Tasks take ids and re-read the state when they run."""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from slotwise.bookings import services


@task()
def release_hold(booking_id: int) -> bool:
    """Release the hold ``booking_id`` if it has expired and is still held; whether it did.

    Enqueued to run when a hold expires. Until it runs, an expired hold
    already frees its slot for the slots endpoint and for new bookings.
    """
    return services.release_hold(booking_id, now=timezone.now())
