"""The worker's part in payments: carry out refunds and fees, cancel unpaid checkouts.

Each change that writes a pending ledger entry asks for :func:`carry_out`
after commit; ``slotwise worker`` also runs :func:`sweep` every minute, which
picks up retries that came due and anything a crash left behind.
"""

from __future__ import annotations

from django.tasks import task
from django.utils import timezone

from slotwise.organizations.tenancy import no_tenant, tenant
from slotwise.payments.execution import cancel_due_payments, due_entries, execute
from slotwise.payments.models import LedgerEntry


@task()
def carry_out(entry_id: int) -> str | None:
    """Carry out one pending ledger entry (a refund or a fee) if it is due."""
    with no_tenant():
        organization_id = (
            LedgerEntry.objects.with_scopes_disabled()
            .filter(pk=entry_id)
            .values_list("organization_id", flat=True)
            .first()
        )
    if organization_id is None:
        return None
    with tenant(organization_id):
        outcome = execute(entry_id, timezone.now())
    return outcome.status if outcome else None


@task()
def cancel_payments() -> int:
    """Cancel with their providers the checkouts of bookings that ended unpaid."""
    with no_tenant():
        return cancel_due_payments(timezone.now())


@task()
def sweep() -> int:
    """Everything due: entries to retry, checkouts to cancel; how many were handled."""
    handled = 0
    with no_tenant():
        for organization_id, entry_id in due_entries(timezone.now()):
            with tenant(organization_id):
                if execute(entry_id, timezone.now()) is not None:
                    handled += 1
        handled += cancel_due_payments(timezone.now())
    return handled
