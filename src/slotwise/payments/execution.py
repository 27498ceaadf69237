"""Carrying out what the ledger says is owed: refunds, fees, cancelled checkouts.

A pending :class:`~slotwise.payments.models.LedgerEntry` is claimed for a
while (``LEASE``) in a short transaction (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL, so two workers never carry out the same one), then the provider
is asked with the entry's idempotency key, outside any transaction, and the
answer is written. A temporary failure is retried with growing delays; a
permanent one (a declined card), or ``MAX_ATTEMPTS`` temporary ones, leaves
the entry ``failed``, in the audit log and in the staff's list of payments
needing attention, where staff can retry it. Nothing is dropped: an entry
whose worker died comes back when its lease ends.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction

from slotwise.audit import context as audit_context
from slotwise.audit.services import log_action
from slotwise.organizations.tenancy import tenant
from slotwise.payments import providers
from slotwise.payments.models import (
    EntryKind,
    EntryStatus,
    LedgerEntry,
    Payment,
    PaymentKind,
    PaymentStatus,
)
from slotwise.payments.providers.base import PaymentState, ProviderError

__all__ = ["LEASE", "MAX_ATTEMPTS", "backoff", "cancel_due_payments", "due_entries", "execute"]

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8... minutes after the ``attempts``-th failure, at most 6 hours."""
    return min(timedelta(minutes=2 ** (attempts - 1)), timedelta(hours=6))


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    error: str = ""


def execute(entry_id: int, now: datetime) -> Outcome | None:
    """Carry out one pending entry if it is due and not claimed; what happened, or
    ``None`` if it was not this worker's to do."""
    claimed = _claim(entry_id, now)
    if claimed is None:
        return None
    entry = claimed
    provider = providers.get(entry.provider)
    metadata = {
        "booking": str(entry.booking_id),
        "idempotency_key": entry.idempotency_key,
        "reason": entry.reason,
    }
    try:
        if entry.kind == EntryKind.REFUND:
            if entry.payment is None and provider.online:
                raise ProviderError("A refund needs the payment it gives back.", permanent=True)
            movement = provider.refund(
                entry.payment.reference if entry.payment else "",
                amount_minor=entry.amount_minor,
                idempotency_key=entry.idempotency_key,
                metadata=metadata,
            )
        else:
            card = entry.payment
            if card is None or card.kind != PaymentKind.CARD:
                raise ProviderError("A fee needs a saved card.", permanent=True)
            movement = provider.charge_saved(
                customer_reference=card.customer_reference,
                method_reference=card.method_reference,
                amount_minor=entry.amount_minor,
                currency=entry.currency,
                description=f"{entry.reason} fee, booking {entry.booking_id}",
                idempotency_key=entry.idempotency_key,
                metadata=metadata,
            )
    except ProviderError as error:
        return _failed(entry, str(error) or type(error).__name__, error.permanent, now)
    if movement.state == "failed":
        return _failed(entry, movement.failure or "The provider refused it.", True, now)
    with transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(
            status=EntryStatus.SUCCEEDED,
            reference=movement.reference[:255],
            settled_at=now,
            next_attempt_at=None,
            last_error="",
        )
    return Outcome(EntryStatus.SUCCEEDED)


def _claim(entry_id: int, now: datetime) -> LedgerEntry | None:
    with transaction.atomic():
        rows = LedgerEntry.objects.select_related("payment").filter(
            pk=entry_id, status=EntryStatus.PENDING
        )
        if connection.vendor == "postgresql":
            rows = rows.select_for_update(skip_locked=True, of=("self",))
        entry = rows.first()
        if entry is None or (entry.next_attempt_at is not None and entry.next_attempt_at > now):
            return None
        entry.attempts += 1
        entry.next_attempt_at = now + LEASE
        entry.save(update_fields=["attempts", "next_attempt_at"])
        return entry


def _failed(entry: LedgerEntry, error: str, permanent: bool, now: datetime) -> Outcome:
    give_up = permanent or entry.attempts >= MAX_ATTEMPTS
    with transaction.atomic():
        LedgerEntry.objects.filter(pk=entry.pk).update(
            status=EntryStatus.FAILED if give_up else EntryStatus.PENDING,
            next_attempt_at=None if give_up else now + backoff(entry.attempts),
            last_error=error[:500],
        )
        if give_up:
            log_action(
                f"payment.{entry.kind}_failed",
                organization=entry.organization_id,
                target=entry.booking,
                data={
                    "entry": entry.pk,
                    "amount_minor": entry.amount_minor,
                    "currency": entry.currency,
                    "error": error[:200],
                },
                actor=audit_context.SYSTEM,
                now=now,
            )
    return Outcome(EntryStatus.FAILED if give_up else EntryStatus.PENDING, error)


def due_entries(now: datetime, limit: int = 100) -> list[tuple[int, int]]:
    """(organization, entry) of pending entries due by ``now``, oldest first."""
    return list(
        LedgerEntry.objects.with_scopes_disabled()
        .filter(status=EntryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("organization_id", "pk")[:limit]
    )


def cancel_due_payments(now: datetime, limit: int = 100) -> int:
    """Cancel with the provider the checkouts of bookings that ended unpaid; how many
    were settled. A payment that turns out to have succeeded meanwhile is settled
    as paid (and refunded, its booking having ended)."""
    from slotwise.payments.services import settle

    due = list(
        Payment.objects.with_scopes_disabled()
        .filter(status=PaymentStatus.CANCELLING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "pk")
        .values_list("organization_id", "pk", "provider", "reference", "attempts")[:limit]
    )
    done = 0
    for organization_id, pk, provider_name, reference, attempts in due:
        with tenant(organization_id):
            try:
                snapshot = providers.get(provider_name).cancel(reference)
            except ProviderError as error:
                failure = str(error)
            else:
                if snapshot.state in (PaymentState.CANCELLED, PaymentState.SUCCEEDED):
                    settle(pk, snapshot, now)
                    done += 1
                    continue
                failure = f"The provider left it {snapshot.state}."
            Payment.objects.filter(pk=pk).update(
                attempts=attempts + 1,
                next_attempt_at=now + backoff(attempts + 1),
                failure=failure[:500],
            )
    return done
