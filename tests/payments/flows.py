"""What a customer does through the public API when paying, for the payment tests:
book, pay (as Stripe.js would, through localstripe), confirm, cancel."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
START = "2026-06-01T10:00:00+01:00"  # 09:00 UTC, a Monday, Europe/London
START_UTC = datetime(2026, 6, 1, 9, tzinfo=UTC)
VISA = "4242424242424242"
POLICY = {
    "tiers": [
        {"before_minutes": 48 * 60, "refund_percent": 100},
        {"before_minutes": 24 * 60, "refund_percent": 50},
    ],
}
"""Full refund until 48 hours before, half until 24, nothing after."""


def post(client: Any, path: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(path, json.dumps(data or {}), content_type="application/json")


def manage(token: str, action: str = "") -> str:
    return f"/api/v1/bookings/manage/{token}{action}"


def book(client: Any, service: Any, start: str = START, zone: str = "UTC") -> dict[str, Any]:
    """Book ``service`` as Ada (times in ``zone``); the answer, with its manage token."""
    response = post(
        client,
        "/api/v1/bookings",
        {
            "service_id": service.pk,
            "start": start,
            "customer": {"name": "Ada", "email": "ada@example.com", "time_zone": zone},
        },
    )
    assert response.status_code == 201, response.content
    return response.json()


def paid(client: Any, localstripe: Any, service: Any, start: str = START) -> dict[str, Any]:
    """A booking of ``service`` paid with a Visa card and confirmed; its answer."""
    answer = book(client, service, start)
    localstripe.pay(answer["payment"]["checkout"]["reference"], VISA)
    confirmed = post(client, manage(answer["manage_token"], "/confirm"))
    assert confirmed.status_code == 200, confirmed.content
    return {**confirmed.json(), "manage_token": answer["manage_token"]}


def refunded(localstripe: Any, reference: str) -> int:
    """What localstripe has given back of the payment ``reference``."""
    charge = localstripe.get(f"/v1/payment_intents/{reference}")["latest_charge"]
    if isinstance(charge, str):
        charge = localstripe.get(f"/v1/charges/{charge}")
    return int(charge["amount_refunded"])


def intent_of(booking: Any) -> str:
    """The provider's id of ``booking``'s payment."""
    from slotwise.payments.models import Payment  # models load once Django is set up

    return Payment.objects.with_scopes_disabled().get(booking=booking).reference
