"""Card payments through Stripe: PaymentIntents, saved cards and refunds.

The deployment's Stripe account is ``settings.SLOTWISE_STRIPE`` (see
:func:`slotwise.config.stripe`). The customer's browser pays with Stripe.js,
given the publishable key (:meth:`StripeProvider.public_config`) and the
checkout's client secret; nothing here ever sees a card number.

Every request has a 10 s timeout and one retry on a network error, a 409 or
a 5xx, under the same idempotency key. A retried refund or saved-card charge
is safe beyond Stripe's own idempotency keys, which expire after a day: the
key is also kept in the object's metadata and looked for before anything is
created again.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import stripe
from django.conf import settings

from slotwise.config import Stripe
from slotwise.payments.providers import register
from slotwise.payments.providers.base import (
    Checkout,
    InvalidWebhook,
    Movement,
    PaymentProvider,
    PaymentState,
    ProviderError,
    Snapshot,
    WebhookEvent,
)

__all__ = ["StripeProvider"]

TIMEOUT_SECONDS = 10
NETWORK_RETRIES = 1
WEBHOOK_TOLERANCE_SECONDS = 5 * 60
IDEMPOTENCY_METADATA = "idempotency_key"
"""The metadata key that holds the idempotency key of a refund or a saved-card charge."""

# Stripe takes amounts in the currency's smallest unit, which is ISO 4217's
# minor unit, as slotwise keeps them: 1050 EUR is 10.50 €; and for Stripe's
# zero-decimal currencies (JPY, KRW, CLP...) 500 JPY is ¥500 in both, so
# amounts pass unchanged. Two currencies disagree with ISO 4217: Stripe
# counts ISK (0 decimals in ISO) in hundredths, and MGA (2 decimals in ISO)
# in whole ariary. The number is how many more decimals Stripe counts.
STRIPE_EXTRA_DECIMALS = {"ISK": 2, "MGA": -2}
# Stripe takes three-decimal currencies only in multiples of 10.
THREE_DECIMAL_CURRENCIES = frozenset({"BHD", "JOD", "KWD", "OMR", "TND"})

INTENT_STATES = {
    "requires_payment_method": PaymentState.REQUIRES_PAYMENT,
    "requires_confirmation": PaymentState.REQUIRES_PAYMENT,
    "requires_action": PaymentState.REQUIRES_ACTION,
    "processing": PaymentState.PROCESSING,
    # Not used by slotwise (it captures at once), but the money is not in yet.
    "requires_capture": PaymentState.PROCESSING,
    "succeeded": PaymentState.SUCCEEDED,
    "canceled": PaymentState.CANCELLED,
}
FINAL_STATES = (PaymentState.SUCCEEDED, PaymentState.CANCELLED)
REFUND_STATES = {"succeeded": "succeeded", "failed": "failed", "canceled": "failed"}


@register
class StripeProvider(PaymentProvider):
    """Cards through Stripe: payments confirmed in the browser (with 3-D Secure when
    the bank asks), cards saved for a later fee, refunds, and signed webhooks."""

    name = "stripe"
    label = "Card (Stripe)"
    online = True
    saves_cards = True

    def configured(self) -> bool:
        return settings.SLOTWISE_STRIPE is not None

    def public_config(self) -> dict[str, str]:
        account = settings.SLOTWISE_STRIPE
        return {} if account is None else {"publishable_key": account.publishable_key}

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
        params: dict[str, Any] = {
            "amount": to_stripe(amount_minor, currency),
            "currency": currency.lower(),
            # Cards, named rather than left to Stripe's automatic payment
            # methods: the page shows a card form.
            "payment_method_types": ["card"],
            "metadata": dict(metadata),
        }
        if description:
            params["description"] = description
        if email:
            params["receipt_email"] = email
        with translated_errors():
            intent = _client().v1.payment_intents.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        return Checkout(
            reference=intent.id,
            state=_state(intent.status),
            client_secret=intent.client_secret or "",
        )

    def start_card_setup(
        self,
        *,
        name: str,
        email: str,
        metadata: Mapping[str, str],
        idempotency_key: str,
    ) -> Checkout:
        client = _client()
        customer: dict[str, Any] = {"metadata": dict(metadata)}
        if name:
            customer["name"] = name
        if email:
            customer["email"] = email
        with translated_errors():
            created = client.v1.customers.create(
                params=customer, options={"idempotency_key": f"{idempotency_key}:customer"}
            )
            setup = client.v1.setup_intents.create(
                params={
                    "customer": created.id,
                    "usage": "off_session",
                    "payment_method_types": ["card"],
                    "metadata": dict(metadata),
                },
                options={"idempotency_key": idempotency_key},
            )
        return Checkout(
            reference=setup.id,
            state=_state(setup.status),
            client_secret=setup.client_secret or "",
            customer_reference=created.id,
        )

    def fetch(self, reference: str) -> Snapshot:
        client = _client()
        with translated_errors():
            if reference.startswith("seti_"):
                return _setup_snapshot(client.v1.setup_intents.retrieve(reference))
            if reference.startswith("pi_"):
                return _payment_snapshot(
                    client.v1.payment_intents.retrieve(
                        reference, params={"expand": ["latest_charge"]}
                    )
                )
        raise ProviderError(
            f"{reference!r} is not a Stripe payment or card setup.",
            permanent=True,
            code="unknown_reference",
        )

    def cancel(self, reference: str) -> Snapshot:
        snapshot = self.fetch(reference)
        if snapshot.state in FINAL_STATES:
            return snapshot
        client = _client()
        try:
            with translated_errors():
                if reference.startswith("seti_"):
                    return _setup_snapshot(client.v1.setup_intents.cancel(reference))
                return _payment_snapshot(
                    client.v1.payment_intents.cancel(
                        reference, params={"expand": ["latest_charge"]}
                    )
                )
        except ProviderError as error:
            if not error.permanent:
                raise
            # Paid (or cancelled) since it was fetched: that is the answer.
            snapshot = self.fetch(reference)
            if snapshot.state in FINAL_STATES:
                return snapshot
            raise

    def refund(
        self,
        reference: str,
        *,
        amount_minor: int,
        idempotency_key: str,
        metadata: Mapping[str, str],
    ) -> Movement:
        client = _client()
        with translated_errors():
            currency = client.v1.payment_intents.retrieve(reference).currency.upper()
            amount = to_stripe(amount_minor, currency)
            made = client.v1.refunds.list(params={"payment_intent": reference, "limit": 100})
            for refund in made.auto_paging_iter():
                if _metadata(refund).get(IDEMPOTENCY_METADATA) == idempotency_key:
                    return _refund_movement(refund, currency)
            refund = client.v1.refunds.create(
                params={
                    "payment_intent": reference,
                    "amount": amount,
                    "metadata": {**metadata, IDEMPOTENCY_METADATA: idempotency_key},
                },
                options={"idempotency_key": idempotency_key},
            )
        return _refund_movement(refund, currency)

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
        """Charge the saved card now, the customer absent. A charge made before under
        the same ``idempotency_key`` is returned, or its decline raised again; a
        decline, or a bank asking the absent customer to authenticate
        (``code="authentication_required"``), is a permanent :class:`ProviderError`.
        """
        amount = to_stripe(amount_minor, currency)
        client = _client()
        with translated_errors():
            made = client.v1.payment_intents.list(
                params={"customer": customer_reference, "limit": 100}
            )
            for intent in made.auto_paging_iter():
                if _metadata(intent).get(IDEMPOTENCY_METADATA) == idempotency_key:
                    return _charge_movement(intent)
            params: dict[str, Any] = {
                "amount": amount,
                "currency": currency.lower(),
                "customer": customer_reference,
                "payment_method": method_reference,
                "payment_method_types": ["card"],
                "off_session": True,
                "confirm": True,
                "metadata": {**metadata, IDEMPOTENCY_METADATA: idempotency_key},
            }
            if description:
                params["description"] = description
            intent = client.v1.payment_intents.create(
                params=params, options={"idempotency_key": idempotency_key}
            )
        return _charge_movement(intent)

    def parse_webhook(self, body: bytes, headers: Mapping[str, str]) -> WebhookEvent:
        """Verify a webhook from Stripe as ``stripe.Webhook.construct_event`` does: an
        HMAC-SHA256 (``v1``) of ``"{timestamp}.{body}"`` with the endpoint's signing
        secret, made less than 5 minutes ago (an older one is taken for a replay)."""
        account = settings.SLOTWISE_STRIPE
        if account is None or not account.webhook_secret:
            raise InvalidWebhook("No Stripe webhook secret is configured.")
        signature = next(
            (value for name, value in headers.items() if name.lower() == "stripe-signature"), ""
        )
        if not signature:
            raise InvalidWebhook("The Stripe-Signature header is missing.")
        try:
            stripe.WebhookSignature.verify_header(
                body, signature, account.webhook_secret, tolerance=WEBHOOK_TOLERANCE_SECONDS
            )
        except stripe.SignatureVerificationError as error:
            raise InvalidWebhook(_signature_problem(str(error.user_message))) from None
        except ValueError:
            raise InvalidWebhook("The body is not UTF-8.") from None
        try:
            event = json.loads(body)
            thing = event["data"]["object"]
            if thing.get("object") in ("payment_intent", "setup_intent"):
                reference = thing["id"]
            else:  # a charge or a refund
                reference = thing.get("payment_intent") or ""
                if isinstance(reference, dict):
                    reference = reference["id"]
            return WebhookEvent(
                id=str(event["id"]),
                type=str(event["type"]),
                reference=str(reference),
                created=datetime.fromtimestamp(int(event["created"]), tz=UTC),
            )
        except (ValueError, KeyError, TypeError, AttributeError, OverflowError):
            raise InvalidWebhook("The body is not a Stripe event.") from None


def to_stripe(amount_minor: int, currency: str) -> int:
    """``amount_minor`` of ``currency`` (ISO 4217 minor units) as Stripe counts it."""
    currency = currency.upper()
    if currency in THREE_DECIMAL_CURRENCIES and amount_minor % 10:
        raise ProviderError(
            f"Stripe takes {currency} amounts only in multiples of 10 (0.010 {currency}).",
            permanent=True,
            code="amount_not_supported",
        )
    extra = STRIPE_EXTRA_DECIMALS.get(currency, 0)
    if extra >= 0:
        return amount_minor * 10**extra
    if amount_minor % 10**-extra:
        raise ProviderError(
            f"Stripe takes {currency} amounts only in whole units.",
            permanent=True,
            code="amount_not_supported",
        )
    return amount_minor // 10**-extra


def from_stripe(amount: int, currency: str) -> int:
    """Stripe's ``amount`` of ``currency`` in ISO 4217 minor units."""
    extra = STRIPE_EXTRA_DECIMALS.get(currency.upper(), 0)
    return amount // 10**extra if extra >= 0 else amount * 10**-extra


@contextmanager
def translated_errors() -> Iterator[None]:
    """Stripe's errors as :class:`ProviderError`: permanent for a declined card or a
    request Stripe refuses, worth retrying for the network, rate limits, Stripe's
    own failures and a refused key (a configuration to fix). Messages never
    carry the secret key."""
    try:
        yield
    except stripe.CardError as error:
        decline = getattr(error.error, "decline_code", None) if error.error else None
        raise ProviderError(
            error.user_message or "The card was declined.",
            permanent=True,
            code=decline or error.code or "card_declined",
        ) from error
    except stripe.IdempotencyError as error:
        raise ProviderError(
            "Stripe refused an idempotency key already used for a different request.",
            permanent=True,
            code="idempotency_error",
        ) from error
    except stripe.RateLimitError as error:
        raise ProviderError(
            "Stripe is limiting the rate of requests.", code="rate_limited"
        ) from error
    except stripe.InvalidRequestError as error:
        raise ProviderError(
            error.user_message or "Stripe refused the request.",
            permanent=True,
            code=error.code or "invalid_request",
        ) from error
    except (stripe.AuthenticationError, stripe.PermissionError) as error:
        # Stripe's own message would show part of the key.
        raise ProviderError(
            "Stripe refused the secret key (SLOTWISE_STRIPE_SECRET_KEY): it is wrong, "
            "revoked, or lacks a permission.",
            code="authentication",
        ) from error
    except stripe.APIConnectionError as error:
        raise ProviderError("Stripe could not be reached.", code="unreachable") from error
    except stripe.StripeError as error:
        raise ProviderError(
            f"Stripe failed (HTTP {error.http_status or 'error'}).",
            code=error.code or "api_error",
        ) from error


def _client() -> stripe.StripeClient:
    account = settings.SLOTWISE_STRIPE
    if account is None:
        raise ProviderError(
            "Card payments through Stripe are not configured (SLOTWISE_STRIPE_*).",
            permanent=True,
            code="not_configured",
        )
    with _clients_lock:
        if account not in _clients:
            # The settings changed (only tests do that): let the old connections go.
            for _, connections in _clients.values():
                connections.close()
            _clients.clear()
            connections = stripe.RequestsClient(timeout=TIMEOUT_SECONDS)
            client = stripe.StripeClient(
                account.secret_key,
                base_addresses={"api": account.api_url},
                max_network_retries=NETWORK_RETRIES,
                http_client=connections,
            )
            _clients[account] = (client, connections)
        return _clients[account][0]


# One client for the account, so that its connections are kept between
# requests; never the global stripe.api_key.
_clients: dict[Stripe, tuple[stripe.StripeClient, stripe.RequestsClient]] = {}
_clients_lock = threading.Lock()


def _state(status: str) -> PaymentState:
    # A status Stripe adds later is taken as not settled yet.
    return INTENT_STATES.get(status, PaymentState.PROCESSING)


def _payment_snapshot(intent: Any) -> Snapshot:
    currency = intent.currency.upper()
    charge = getattr(intent, "latest_charge", None)
    if isinstance(charge, str):  # not expanded
        charge = None
    paid = charge is not None and charge.status == "succeeded"
    received = getattr(intent, "amount_received", None)
    if received is None:  # localstripe has no amount_received
        received = charge.amount if paid and intent.status == "succeeded" else 0
    error = getattr(intent, "last_payment_error", None)
    return Snapshot(
        reference=intent.id,
        state=_state(intent.status),
        amount_minor=from_stripe(intent.amount, currency),
        currency=currency,
        received_minor=from_stripe(received, currency),
        refunded_minor=from_stripe(charge.amount_refunded, currency) if charge else 0,
        charge_reference=charge.id if paid else "",
        method_reference=_id(getattr(intent, "payment_method", None)),
        customer_reference=_id(getattr(intent, "customer", None)),
        failure=(getattr(error, "message", None) or "") if error else "",
        metadata=_metadata(intent),
    )


def _setup_snapshot(setup: Any) -> Snapshot:
    error = getattr(setup, "last_setup_error", None)
    return Snapshot(
        reference=setup.id,
        state=_state(setup.status),
        amount_minor=0,
        currency="",
        method_reference=_id(getattr(setup, "payment_method", None)),
        customer_reference=_id(getattr(setup, "customer", None)),
        failure=(getattr(error, "message", None) or "") if error else "",
        metadata=_metadata(setup),
    )


def _refund_movement(refund: Any, currency: str) -> Movement:
    return Movement(
        reference=refund.id,
        amount_minor=from_stripe(refund.amount, currency),
        state=REFUND_STATES.get(refund.status, "pending"),
        failure=getattr(refund, "failure_reason", None) or "",
    )


def _charge_movement(intent: Any) -> Movement:
    """A saved-card charge's outcome; raise as a decline if it did not go through."""
    status = intent.status
    if status in ("succeeded", "processing", "requires_capture"):
        return Movement(
            reference=intent.id,
            amount_minor=from_stripe(intent.amount, intent.currency),
            state="succeeded" if status == "succeeded" else "pending",
        )
    if status == "requires_action":
        # Stripe declines at once with authentication_required; localstripe
        # leaves the payment waiting for a customer who is not there.
        raise ProviderError(
            "The bank wants the customer to authenticate this charge, and they are not here.",
            permanent=True,
            code="authentication_required",
        )
    error = getattr(intent, "last_payment_error", None)
    code = (getattr(error, "decline_code", None) or getattr(error, "code", None)) if error else None
    raise ProviderError(
        (getattr(error, "message", None) if error else None)
        or f"The saved card was not charged (Stripe: {status}).",
        permanent=True,
        code=code or ("canceled" if status == "canceled" else "card_declined"),
    )


def _signature_problem(message: str) -> str:
    if "tolerance" in message:
        return "The signature is more than 5 minutes old: a replay?"
    if "matching the expected signature" in message:
        return "The signature does not match."
    return "The Stripe-Signature header cannot be read."


def _id(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value.id)


def _metadata(thing: Any) -> dict[str, str]:
    metadata = getattr(thing, "metadata", None)
    return {} if metadata is None else {k: str(v) for k, v in metadata.to_dict().items()}
