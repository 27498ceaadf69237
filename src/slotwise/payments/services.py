"""Taking payment when a booking is made, and settling money when it ends.

The flow of a service that asks for payment online (a deposit, the full
price, or a card saved for fees):

1. :func:`start_checkout` runs after the booking committed as ``held``: the
   organization's provider opens a payment (Stripe: a PaymentIntent, or a
   SetupIntent for a saved card) with an idempotency key derived from the
   booking. If the provider cannot be reached the hold is released at once.
2. The customer pays in the browser. A webhook or the customer's
   confirmation makes :func:`sync` re-read the payment from the provider;
   :func:`settle` records the charge in the ledger and confirms the hold.
3. A hold that lapses unpaid is released by the booking services; the
   listener below then marks the payment ``cancelling`` and the worker
   cancels it with the provider. A payment that succeeds after its booking
   ended is refunded in full.

Whenever a booking ends (cancelled, rejected, lapsed) or is marked a no-show,
:func:`_on_booking_event` runs in the same transaction: it computes what is
owed with the scheduling core (:func:`~slotwise.scheduling.cancellation_outcome`
on the terms copied onto the booking), writes the refund or fee as a pending
:class:`~slotwise.payments.models.LedgerEntry`, and asks the worker to carry
it out after commit (:mod:`slotwise.payments.execution`). The amount also goes
into the event, so the cancellation email states it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q, Sum

from slotwise import money
from slotwise.bookings import hooks, services
from slotwise.bookings import terms as booking_terms
from slotwise.bookings.models import Booking, BookingEvent, BookingStatus, CancelledBy
from slotwise.catalog.models import PaymentMode, Service
from slotwise.organizations.models import Organization
from slotwise.payments import providers
from slotwise.payments.models import (
    OPEN_STATUSES,
    EntryKind,
    EntryStatus,
    LedgerEntry,
    Payment,
    PaymentKind,
    PaymentStatus,
)
from slotwise.payments.providers.base import PaymentProvider, PaymentState, ProviderError, Snapshot
from slotwise.scheduling.refunds import Canceller, Outcome, cancellation_outcome, no_show_charge

__all__ = [
    "PaymentError",
    "PaymentRequired",
    "PaymentsUnavailable",
    "Quote",
    "RefundChanged",
    "cancellation_quote",
    "checkout_needed",
    "record_received",
    "settle",
    "start_checkout",
    "sync",
]


class PaymentError(Exception):
    pass


class PaymentsUnavailable(PaymentError):
    """The payment provider cannot be used now (unreachable, not configured)."""


class PaymentRequired(PaymentError):
    """The booking waits for its payment, which has not succeeded (yet)."""

    def __init__(self, message: str, payment: Payment) -> None:
        super().__init__(message)
        self.payment = payment


class RefundChanged(PaymentError):
    """The refund is no longer what the customer was shown (a tier boundary passed)."""

    def __init__(self, message: str, quote: Quote) -> None:
        super().__init__(message)
        self.quote = quote


_CANCEL_ACTIONS = {"booking.cancelled", "booking.rejected", "booking.hold_expired"}
_STATES = {
    PaymentState.REQUIRES_PAYMENT: PaymentStatus.REQUIRES_PAYMENT,
    PaymentState.REQUIRES_ACTION: PaymentStatus.REQUIRES_ACTION,
    PaymentState.PROCESSING: PaymentStatus.PROCESSING,
    PaymentState.SUCCEEDED: PaymentStatus.SUCCEEDED,
    PaymentState.CANCELLED: PaymentStatus.CANCELLED,
    PaymentState.DUE: PaymentStatus.DUE,
}


def provider_for(organization: Organization) -> PaymentProvider:
    try:
        return providers.get(organization.payment_provider)
    except KeyError:
        raise PaymentsUnavailable(
            f"The payment provider {organization.payment_provider!r} is not available."
        ) from None


def checkout_needed(service: Service) -> bool:
    """Whether booking ``service`` waits (held) for an online payment or card."""
    if service.payment_mode == PaymentMode.NONE or service.price_minor == 0:
        return False
    provider = provider_for(service.organization)
    if not provider.online:
        return False
    return service.payment_mode != PaymentMode.CARD or provider.saves_cards


def start_checkout(booking: Booking, now: datetime) -> Payment | None:
    """Open the payment ``booking``'s terms ask for, once it is committed; ``None``
    when they ask for none. :class:`PaymentsUnavailable` (the hold released) when
    the provider cannot open it."""
    mode = booking_terms.payment_mode(booking)
    due = booking_terms.due_now(booking)
    if mode == PaymentMode.NONE or (mode != PaymentMode.CARD and due == 0):
        return None
    provider = provider_for(booking.organization)
    if mode == PaymentMode.CARD and not provider.saves_cards:
        return None
    if provider.online and not provider.configured():
        _give_up(booking, now, "Online payment is not set up.")
        raise PaymentsUnavailable("Online payment is not set up for this organization.")
    metadata = {"booking": str(booking.pk), "organization": str(booking.organization_id)}
    key = f"slotwise-booking-{booking.pk}-checkout"
    try:
        if mode == PaymentMode.CARD:
            checkout = provider.start_card_setup(
                name=booking.customer_name,
                email=booking.customer_email,
                metadata=metadata,
                idempotency_key=key,
            )
        else:
            checkout = provider.start_payment(
                amount_minor=due,
                currency=booking_terms.currency_of(booking),
                description=f"{booking.service.name}, {booking.starts_at:%Y-%m-%d %H:%M} UTC",
                email=booking.customer_email,
                metadata=metadata,
                idempotency_key=key,
            )
    except ProviderError as error:
        _give_up(booking, now, "The payment could not be started.")
        raise PaymentsUnavailable(f"The payment could not be started: {error}") from error
    return Payment.objects.create(
        organization_id=booking.organization_id,
        booking=booking,
        provider=provider.name,
        kind=PaymentKind.CARD if mode == PaymentMode.CARD else PaymentKind.PAYMENT,
        reference=checkout.reference,
        amount_minor=0 if mode == PaymentMode.CARD else due,
        currency=booking_terms.currency_of(booking),
        status=_STATES[checkout.state],
        client_secret=checkout.client_secret,
        customer_reference=checkout.customer_reference,
        created_at=now,
        updated_at=now,
    )


def _give_up(booking: Booking, now: datetime, reason: str) -> None:
    if booking.status == BookingStatus.HELD:
        services.cancel(booking, by=CancelledBy.SYSTEM, now=now, reason=reason)


def current_payment(booking: Booking) -> Payment | None:
    """The booking's checkout: its latest payment with a provider."""
    return booking.payments.order_by("-created_at", "-pk").first()


def confirm_checkout(booking: Booking, now: datetime) -> Booking:
    """The customer says they paid: re-read the payment and, if it succeeded, the hold
    is confirmed. :class:`PaymentRequired` if it has not."""
    payment = current_payment(booking)
    if payment is None or booking.status != BookingStatus.HELD:
        return services.confirm_hold(booking, now=now)
    payment = sync(payment, now)
    booking.refresh_from_db()
    if booking.status == BookingStatus.CANCELLED:
        raise services.HoldExpired(
            "The hold on this slot lapsed before the payment arrived; the payment is "
            "refunded in full."
            if payment.status == PaymentStatus.SUCCEEDED
            else "The hold on this slot lapsed; book it again if it is free."
        )
    if booking.status == BookingStatus.HELD:
        detail = payment.failure or "The payment has not been received yet."
        raise PaymentRequired(detail, payment)
    return booking


def sync(payment: Payment, now: datetime) -> Payment:
    """Re-read ``payment`` from its provider and act on what it says (:func:`settle`)."""
    provider = providers.get(payment.provider)
    try:
        snapshot = provider.fetch(payment.reference)
    except ProviderError as error:
        raise PaymentsUnavailable(f"The payment provider did not answer: {error}") from error
    return settle(payment.pk, snapshot, now)


def settle(payment_id: int, snapshot: Snapshot, now: datetime) -> Payment:
    """Record what the provider reports of a payment, in one transaction: a success
    is written to the ledger (once) and confirms the booking's hold; a success
    for a booking that ended is refunded in full."""
    booking_id = Payment.objects.filter(pk=payment_id).values_list("booking_id", flat=True).first()
    with transaction.atomic():
        # The booking first, then its payment: the order the booking services lock them
        # in when a cancellation marks the payment (the other order deadlocks).
        _lock(Booking.objects.all(), booking_id or 0)
        payment = _lock(Payment.objects.select_related("booking__service"), payment_id)
        status = _STATES[snapshot.state]
        if payment.status != PaymentStatus.CANCELLING or status in (
            PaymentStatus.SUCCEEDED,
            PaymentStatus.CANCELLED,
        ):
            payment.status = status
        payment.failure = snapshot.failure[:500]
        payment.method_reference = snapshot.method_reference or payment.method_reference
        payment.customer_reference = snapshot.customer_reference or payment.customer_reference
        payment.updated_at = now
        payment.save()
        if status != PaymentStatus.SUCCEEDED:
            return payment
        booking = payment.booking
        charged = None
        if payment.kind == PaymentKind.PAYMENT:
            charged = _record_charge(payment, snapshot, now)
        booking.refresh_from_db()
        if booking.status == BookingStatus.HELD:
            try:
                services.confirm_hold(booking, now=now)
            except services.HoldExpired:
                # Paid too late: the release below refunds what was just paid.
                services.release_hold(booking.pk, now=now)
        elif booking.status == BookingStatus.CANCELLED and charged is not None:
            # The booking ended before this payment arrived: all of it goes back.
            _refund(booking, charged.amount_minor, "late-payment", now)
        return payment


def _record_charge(payment: Payment, snapshot: Snapshot, now: datetime) -> LedgerEntry | None:
    """The ledger row of a payment received; ``None`` if it was recorded before."""
    key = f"charge:{payment.provider}:{payment.reference}"
    if LedgerEntry.objects.filter(idempotency_key=key).exists():
        return None
    return LedgerEntry.objects.create(
        organization_id=payment.organization_id,
        booking_id=payment.booking_id,
        payment=payment,
        kind=EntryKind.CHARGE,
        status=EntryStatus.SUCCEEDED,
        amount_minor=snapshot.received_minor or payment.amount_minor,
        currency=payment.currency,
        provider=payment.provider,
        reason=booking_terms.payment_mode(payment.booking),
        reference=snapshot.charge_reference,
        idempotency_key=key,
        created_at=now,
        settled_at=now,
    )


def record_received(
    booking: Booking, amount_minor: int, now: datetime, note: str = ""
) -> LedgerEntry:
    """Staff received ``amount_minor`` at the venue for ``booking``."""
    with transaction.atomic():
        _lock(Booking.objects.all(), booking.pk)  # one recording at a time numbers its key
        count = LedgerEntry.objects.filter(booking=booking, provider="venue").count()
        payment = booking.payments.filter(provider="venue").first()
        entry = LedgerEntry.objects.create(
            organization_id=booking.organization_id,
            booking=booking,
            payment=payment,
            kind=EntryKind.CHARGE,
            status=EntryStatus.SUCCEEDED,
            amount_minor=amount_minor,
            currency=booking_terms.currency_of(booking),
            provider="venue",
            reason="venue",
            reference=note[:255],
            idempotency_key=f"venue:{booking.pk}:{count + 1}",
            created_at=now,
            settled_at=now,
        )
        if payment is not None and paid_minor(booking) >= payment.amount_minor:
            payment.status = PaymentStatus.SUCCEEDED
            payment.updated_at = now
            payment.save(update_fields=["status", "updated_at"])
        return entry


def paid_minor(booking: Booking) -> int:
    """What ``booking`` holds of the customer's money now: charges and fees received,
    less refunds made or under way."""
    totals = LedgerEntry.objects.filter(booking=booking).aggregate(
        taken=Sum(
            "amount_minor",
            filter=Q(kind__in=(EntryKind.CHARGE, EntryKind.FEE), status=EntryStatus.SUCCEEDED),
        ),
        returned=Sum(
            "amount_minor", filter=Q(kind=EntryKind.REFUND) & ~Q(status=EntryStatus.FAILED)
        ),
    )
    return (totals["taken"] or 0) - (totals["returned"] or 0)


def _card(booking: Booking) -> Payment | None:
    return booking.payments.filter(kind=PaymentKind.CARD, status=PaymentStatus.SUCCEEDED).first()


@dataclass(frozen=True, slots=True)
class Quote:
    """What cancelling now gives back (or costs), and until when that holds."""

    outcome: Outcome
    paid_minor: int
    currency: str
    valid_until: datetime | None  # the last instant this quote holds; None: until the start


def cancellation_quote(booking: Booking, now: datetime, by: str = CancelledBy.CUSTOMER) -> Quote:
    """What cancelling ``booking`` at ``now`` gives back, by the terms it was made on."""
    held = paid_minor(booking) if booking_terms.payment_mode(booking) != PaymentMode.NONE else 0
    outcome = _outcome(booking, now, by, held)
    return Quote(outcome, held, booking_terms.currency_of(booking), _valid_until(booking, now))


def _outcome(booking: Booking, now: datetime, by: str, held: int) -> Outcome:
    return cancellation_outcome(
        booking_terms.policy_of(booking),
        price_minor=booking_terms.price_of(booking),
        paid_minor=held,
        start=booking.starts_at,
        at=now,
        zone=booking_terms.zone_of(booking),
        by=Canceller(by),
        card_saved=held == 0 and _card(booking) is not None,
    )


def _valid_until(booking: Booking, now: datetime) -> datetime | None:
    """When the customer's refund next drops: a tier's boundary or the start's local
    midnight (same-day rule), whichever comes first after ``now``."""
    policy = booking_terms.policy_of(booking)
    candidates = [booking.starts_at - tier.before for tier in policy.tiers]
    if policy.same_day_percent is not None:
        zone = booking_terms.zone_of(booking)
        local = booking.starts_at.astimezone(zone)
        midnight = datetime.combine(local.date(), datetime.min.time(), tzinfo=zone)
        candidates.append(midnight - timedelta(microseconds=1))
    ahead = [moment for moment in candidates if moment >= now]
    return min(ahead) if ahead else None


@hooks.on_booking_event
def _on_booking_event(booking: Booking, event: BookingEvent, now: datetime) -> None:
    if booking_terms.payment_mode(booking) == PaymentMode.NONE:
        return
    if event.action in _CANCEL_ACTIONS:
        _settle_cancellation(booking, event, now)
    elif event.action == "booking.no_show":
        _charge_no_show(booking, event, now)


def _settle_cancellation(booking: Booking, event: BookingEvent, now: datetime) -> None:
    held = paid_minor(booking)
    outcome = _outcome(booking, now, booking.cancelled_by or CancelledBy.SYSTEM, held)
    currency = booking_terms.currency_of(booking)
    if outcome.refund_minor:
        _refund(booking, outcome.refund_minor, "cancellation", now)
    if outcome.charge_minor:
        _fee(booking, outcome.charge_minor, "late-cancellation", now)
    Payment.objects.filter(booking=booking, status__in=OPEN_STATUSES).update(
        status=PaymentStatus.CANCELLING, next_attempt_at=now, updated_at=now
    )
    _schedule_cancellations(booking)
    event.data["refund"] = {
        "amount_minor": outcome.refund_minor,
        "amount": money.format_minor(outcome.refund_minor, currency),
        "paid_minor": held,
        "charge_minor": outcome.charge_minor,
        "currency": currency,
        "percent": outcome.percent,
        "rule": outcome.rule,
    }
    event.save(update_fields=["data"])


def _charge_no_show(booking: Booking, event: BookingEvent, now: datetime) -> None:
    fee = no_show_charge(
        booking_terms.policy_of(booking),
        price_minor=booking_terms.price_of(booking),
        paid_minor=paid_minor(booking),
    )
    if fee and _card(booking) is not None:
        _fee(booking, fee, "no-show", now)
        event.data["fee"] = {
            "amount_minor": fee,
            "currency": booking_terms.currency_of(booking),
        }
        event.save(update_fields=["data"])


def _refund(booking: Booking, amount: int, reason: str, now: datetime) -> list[LedgerEntry]:
    """Pending refunds of ``amount`` over the booking's charges, the latest first, none
    of them beyond what is left of its charge."""
    entries = []
    charges = LedgerEntry.objects.filter(
        booking=booking, kind__in=(EntryKind.CHARGE, EntryKind.FEE), status=EntryStatus.SUCCEEDED
    ).order_by("-created_at", "-pk")
    for charge in charges:
        if amount <= 0:
            break
        refunded = (
            LedgerEntry.objects.filter(
                booking=booking, kind=EntryKind.REFUND, payment=charge.payment
            )
            .exclude(status=EntryStatus.FAILED)
            .aggregate(total=Sum("amount_minor"))["total"]
            or 0
        )
        available = charge.amount_minor - refunded if charge.payment_id else charge.amount_minor
        share = min(amount, available)
        if share <= 0:
            continue
        entries.append(_pending(booking, charge.payment, EntryKind.REFUND, share, reason, now,
                                provider=charge.provider))  # fmt: skip
        amount -= share
    return entries


def _fee(booking: Booking, amount: int, reason: str, now: datetime) -> LedgerEntry | None:
    card = _card(booking)
    if card is None:
        return None
    return _pending(booking, card, EntryKind.FEE, amount, reason, now, provider=card.provider)


def _pending(
    booking: Booking,
    payment: Payment | None,
    kind: str,
    amount: int,
    reason: str,
    now: datetime,
    *,
    provider: str,
) -> LedgerEntry:
    sequence = LedgerEntry.objects.filter(booking=booking, kind=kind).count() + 1
    entry = LedgerEntry.objects.create(
        organization_id=booking.organization_id,
        booking=booking,
        payment=payment,
        kind=kind,
        status=EntryStatus.PENDING,
        amount_minor=amount,
        currency=booking_terms.currency_of(booking),
        provider=provider,
        reason=reason,
        idempotency_key=f"slotwise-booking-{booking.pk}-{kind}-{sequence}",
        next_attempt_at=now,
        created_at=now,
    )
    from slotwise.payments.tasks import carry_out

    transaction.on_commit(lambda: carry_out.enqueue(entry.pk))
    return entry


def _schedule_cancellations(booking: Booking) -> None:
    from slotwise.payments.tasks import cancel_payments

    transaction.on_commit(lambda: cancel_payments.enqueue())


def _lock(rows: Any, pk: int) -> Any:
    if connection.vendor == "postgresql":
        rows = rows.select_for_update(of=("self",))
    found = rows.filter(pk=pk).first()
    if found is None:
        raise PaymentError("The payment no longer exists.")
    return found


def describe(booking: Booking) -> dict[str, Any]:
    """The ``payment`` part of a booking's API answer."""
    mode = booking_terms.payment_mode(booking)
    if mode == PaymentMode.NONE:
        return {"payment": None}
    payment = current_payment(booking)
    currency = booking_terms.currency_of(booking)
    held = paid_minor(booking)
    body: dict[str, Any] = {
        "mode": mode,
        "due_minor": booking_terms.due_now(booking),
        "paid_minor": held,
        "currency": currency,
        "paid": money.format_minor(held, currency),
        "provider": payment.provider if payment else booking.organization.payment_provider,
        "status": payment.status if payment else None,
        "failure": payment.failure if payment else "",
    }
    if payment is not None and payment.status in OPEN_STATUSES:
        provider = providers.get(payment.provider)
        body["checkout"] = {
            "reference": payment.reference,
            "client_secret": payment.client_secret,
            **provider.public_config(),
        }
    return {"payment": body}


hooks.register_describer(describe)
