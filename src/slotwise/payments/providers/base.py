"""What slotwise asks of a payment provider: a documented base class.

A provider moves money; it never decides anything. slotwise decides what is
due (a deposit, a refund by the cancellation policy, a no-show fee), records
it in its ledger first, and then asks the provider to carry it out with an
idempotency key derived from the ledger row, so a retry never pays twice.
What the provider says happened is always re-read from the provider
(:meth:`PaymentProvider.fetch`), never trusted from a webhook's payload.

To add a provider (Mollie, Adyen, PayPal...), subclass
:class:`PaymentProvider`, implement what it supports, and register it with
:func:`slotwise.payments.providers.register`; an organization then chooses
it by ``name``. Nothing in bookings changes. Each provider keeps its own
deployment settings (``SLOTWISE_STRIPE_*`` for Stripe) and its own tests
against a real or protocol-faithful server.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import ClassVar

__all__ = [
    "Checkout",
    "InvalidWebhook",
    "Movement",
    "PaymentProvider",
    "PaymentState",
    "ProviderError",
    "Snapshot",
    "WebhookEvent",
]


class ProviderError(Exception):
    """The provider could not do it. ``permanent`` errors (a declined card, an
    invalid request) are not worth retrying; the others (unreachable, 5xx, rate
    limited) are."""

    def __init__(self, message: str, *, permanent: bool = False, code: str = "") -> None:
        super().__init__(message)
        self.permanent = permanent
        self.code = code


class InvalidWebhook(Exception):
    """A webhook whose signature does not verify, is too old, or cannot be read."""


class PaymentState(StrEnum):
    """Where a customer's payment (or saved card) stands, in slotwise's words."""

    REQUIRES_PAYMENT = "requires_payment"  # nothing entered yet, or a card was declined
    REQUIRES_ACTION = "requires_action"  # the customer must authenticate (3-D Secure)
    PROCESSING = "processing"
    SUCCEEDED = "succeeded"  # paid, or (for a card setup) the card is saved
    CANCELLED = "cancelled"
    DUE = "due"  # to be paid outside any provider (at the venue)


@dataclass(frozen=True, slots=True)
class Checkout:
    """What the customer's browser needs to pay (or to save a card)."""

    reference: str  # the provider's id of the payment, e.g. a PaymentIntent's pi_...
    state: PaymentState
    client_secret: str = ""  # handed to the provider's script in the browser
    customer_reference: str = ""  # the provider's customer, for a saved card


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A payment as the provider reports it now."""

    reference: str
    state: PaymentState
    amount_minor: int  # asked for (0 for a card setup)
    currency: str  # upper case, ISO 4217
    received_minor: int = 0  # actually paid
    refunded_minor: int = 0
    charge_reference: str = ""  # the provider's id of the charge, once paid
    method_reference: str = ""  # a saved card's payment method
    customer_reference: str = ""
    failure: str = ""  # why the last attempt failed, in the provider's words
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Movement:
    """A refund or a charge the provider carried out (or has under way)."""

    reference: str  # re_... or pi_...
    amount_minor: int
    state: str  # "succeeded", "pending" or "failed"
    failure: str = ""


@dataclass(frozen=True, slots=True)
class WebhookEvent:
    """A verified notification: which event (to handle each once) about which payment."""

    id: str
    type: str
    reference: str  # the payment (intent) it is about; "" if none
    created: datetime


class PaymentProvider:
    """A way to take money. Subclasses set ``name`` and ``label`` and implement what
    they support; the defaults say it is not supported.

    ``online`` providers take payment before the booking is confirmed (the
    booking is held meanwhile); an offline one (pay at the venue) confirms at
    once and records the amount as due.
    """

    name: ClassVar[str] = ""
    label: ClassVar[str] = ""
    online: ClassVar[bool] = True
    saves_cards: ClassVar[bool] = False

    def configured(self) -> bool:
        """Whether this deployment has what the provider needs (keys...)."""
        return True

    def public_config(self) -> dict[str, str]:
        """What the customer's browser may know (a publishable key), never a secret."""
        return {}

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
        """Ask for ``amount_minor`` of ``currency``; the customer pays it in the browser."""
        raise NotImplementedError

    def start_card_setup(
        self,
        *,
        name: str,
        email: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Checkout:
        """Save the customer's card for a later fee (no-show, late cancellation)."""
        raise ProviderError(f"{self.label} cannot save cards.", permanent=True)

    def fetch(self, reference: str) -> Snapshot:
        """The payment (or card setup) ``reference`` as the provider sees it now."""
        raise NotImplementedError

    def cancel(self, reference: str) -> Snapshot:
        """Cancel a payment not made (yet); one already cancelled or paid is left as
        it is. Its state afterwards."""
        raise NotImplementedError

    def refund(
        self,
        reference: str,
        *,
        amount_minor: int,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> Movement:
        """Give back ``amount_minor`` of the payment ``reference``. A refund made before
        under the same ``idempotency_key`` is found and returned, not made again."""
        raise NotImplementedError

    def charge_saved(
        self,
        *,
        customer_reference: str,
        method_reference: str,
        amount_minor: int,
        currency: str,
        description: str,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> Movement:
        """Charge a saved card without the customer present (a no-show fee)."""
        raise ProviderError(f"{self.label} cannot charge saved cards.", permanent=True)

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Verify a webhook and say what it is about; :class:`InvalidWebhook` if forged,
        replayed beyond the provider's tolerance, or unreadable."""
        raise InvalidWebhook(f"{self.label} sends no webhooks.")
