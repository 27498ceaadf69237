"""Background delivery of the outbox through Django's Tasks API.

A change that writes messages asks, after commit, for :func:`deliver` to run
when the first of them is due; :func:`deliver` sends what is due in batches
and asks to run again for the next retry. ``slotwise worker`` also asks for
it every minute (:data:`SWEEP`), which catches anything a crash left behind.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.tasks import task
from django.utils import timezone

from slotwise.notifications.agenda import plan_agendas
from slotwise.notifications.dispatch import BATCH, deliver_due
from slotwise.notifications.models import Message, MessageStatus
from slotwise.organizations.tenancy import no_tenant

SWEEP = timedelta(minutes=1)
MAX_BATCHES = 20


@task()
def deliver() -> int:
    """Write the agendas whose morning has come, then send what is due (at most
    ``MAX_BATCHES`` batches); how many were handled."""
    handled = 0
    with no_tenant():
        plan_agendas(timezone.now())
        for _ in range(MAX_BATCHES):
            done = deliver_due(timezone.now())
            handled += done.handled
            if done.handled < BATCH:
                break
        upcoming = (
            Message.objects.with_scopes_disabled()
            .filter(status=MessageStatus.PENDING, attempts__gt=0)
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )
    if upcoming is not None:
        schedule_delivery(upcoming)
    return handled


def schedule_delivery(when: datetime) -> None:
    """Ask a worker to run :func:`deliver` at ``when`` (now, if that has passed).

    A backend that cannot run tasks later leaves future messages to the sweep.
    """
    if when <= timezone.now():
        deliver.enqueue()
    elif deliver.get_backend().supports_defer:
        deliver.using(run_after=when).enqueue()
