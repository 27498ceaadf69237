"""Pay at the venue: nothing is taken online; the amount is recorded as due."""

from __future__ import annotations

from collections.abc import Mapping

from slotwise.payments.providers import register
from slotwise.payments.providers.base import (
    Checkout,
    Movement,
    PaymentProvider,
    PaymentState,
    ProviderError,
    Snapshot,
)


@register
class VenueProvider(PaymentProvider):
    """The customer pays on the day; staff record what they received. Refunds of
    what was paid at the venue are given back there, so they settle at once."""

    name = "venue"
    label = "Pay at the venue"
    online = False

    def start_payment(
        self,
        *,
        amount_minor: int,
        currency: str,
        description: str,
        email: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Checkout:
        return Checkout(reference=f"venue:{idempotency_key}", state=PaymentState.DUE)

    def fetch(self, reference: str) -> Snapshot:
        raise ProviderError("Payments at the venue are recorded by staff.", permanent=True)

    def cancel(self, reference: str) -> Snapshot:
        return Snapshot(reference, PaymentState.CANCELLED, 0, "")

    def refund(
        self,
        reference: str,
        *,
        amount_minor: int,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> Movement:
        return Movement(f"venue:{idempotency_key}", amount_minor, "succeeded")
