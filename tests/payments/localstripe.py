"""localstripe, a Stripe-compatible server, as the payment tests' Stripe.

Run as ``python -m tests.payments.localstripe [PORT]`` from the repository: it
listens on 127.0.0.1 only (localstripe's own command listens on every
interface), prints the port it got (``0``, the default, picks a free one) and
keeps its data in memory (localstripe's own command pickles it to /tmp after
every request). Emptying the data also forgets the registered webhooks, so
that each test starts from nothing.

Where localstripe lags behind Stripe in what slotwise uses, the launcher
brings it level, each time with what Stripe documents:

- a PaymentIntent takes ``description`` and ``receipt_email`` (localstripe
  answers 400 "Unexpected description, receipt_email");
- PaymentIntents can be listed by ``customer``, newest first (localstripe
  takes no filter at all: 400 "Unexpected customer").

:class:`LocalStripe` drives a running server the way a customer's browser and
Stripe's test cards would: a card, paying an intent with it, 3-D Secure.
"""

from __future__ import annotations

import json
import socket
import sys
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# Stripe's test cards, as localstripe knows them (localstripe/resources.py,
# PaymentMethod._attaching_is_declined, _charging_is_declined and
# _requires_authentication).
CARD_OK = "4242424242424242"
CARD_DECLINED_WHEN_SAVED = "4000000000000002"  # declined when attached or saved, not when paid
CARD_DECLINED_WHEN_CHARGED = "4000000000000341"  # saved fine, every charge declined
CARD_3DS = "4000002760003184"  # every payment asks for 3-D Secure
CARD_3DS_OTHER = "4000002500003155"


@dataclass(frozen=True)
class LocalStripe:
    """A running localstripe at ``url``, and the keys slotwise uses with it.

    localstripe accepts any ``sk_...`` key and any ``whsec_...`` secret; these
    ones are of the shapes slotwise's settings insist on.
    """

    url: str
    secret_key: str = "sk_test_localstripe"
    publishable_key: str = "pk_test_localstripe"
    webhook_secret: str = "whsec_localstripe"

    def card(self, number: str) -> str:
        """A new card payment method (expiry 12/2030, CVC 123); its ``pm_...`` id."""
        answer = self._ok(
            "POST",
            "/v1/payment_methods",
            {
                "type": "card",
                "card": {"number": number, "exp_month": "12", "exp_year": "2030", "cvc": "123"},
            },
        )
        return str(answer["id"])

    def pay(self, intent_id: str, number: str) -> dict[str, Any]:
        """Pay the PaymentIntent with a new card, as Stripe.js does in the customer's
        browser; the intent afterwards, or Stripe's error if the card was declined.

        localstripe's confirm does not take ``payment_method`` (500, "Not
        implemented"): the card is set on the intent first, then confirmed.
        """
        self._ok("POST", f"/v1/payment_intents/{intent_id}", {"payment_method": self.card(number)})
        status, answer = self._call("POST", f"/v1/payment_intents/{intent_id}/confirm")
        if status not in (200, 402):
            raise RuntimeError(f"localstripe answered {status}: {answer}")
        return answer

    def authenticate(
        self, intent_id: str, client_secret: str, *, success: bool = True
    ) -> dict[str, Any]:
        """Pass (or fail) the 3-D Secure check a payment is waiting for, with the
        publishable key and the client secret, as the customer's browser would."""
        return self._ok(
            "POST",
            f"/v1/payment_intents/{intent_id}/_authenticate",
            {
                "client_secret": client_secret,
                "success": "true" if success else "false",
                "key": self.publishable_key,
            },
            key="",
        )

    def save_card(self, setup_intent_id: str, number: str) -> dict[str, Any]:
        """Confirm the SetupIntent with a new card: the customer saving it."""
        return self._ok(
            "POST",
            f"/v1/setup_intents/{setup_intent_id}/confirm",
            {"payment_method": self.card(number)},
        )

    def register_webhook(
        self, url: str, secret: str, *, events: list[str] | None = None, name: str = "slotwise"
    ) -> None:
        """Have localstripe POST its events (or only ``events``) to ``url``, signed
        with ``secret``, as a Stripe webhook endpoint. It sends each one a
        second after the event."""
        data: dict[str, Any] = {"url": url, "secret": secret}
        if events is not None:
            data["events"] = events
        self._ok("POST", f"/_config/webhooks/{name}", data)

    def get(self, path: str) -> dict[str, Any]:
        """What the server holds at ``path`` (``/v1/refunds?payment_intent=pi_...``),
        to check what slotwise sent."""
        return self._ok("GET", path)

    def flush(self) -> None:
        """Forget every object and webhook."""
        self._ok("DELETE", "/_config/data")

    def _ok(
        self,
        method: str,
        path: str,
        data: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
    ) -> dict[str, Any]:
        status, answer = self._call(method, path, data, key=key)
        if status != 200:
            raise RuntimeError(f"localstripe answered {status} to {method} {path}: {answer}")
        return answer

    def _call(
        self,
        method: str,
        path: str,
        data: Mapping[str, Any] | None = None,
        *,
        key: str | None = None,
    ) -> tuple[int, dict[str, Any]]:
        key = self.secret_key if key is None else key
        body = urllib.parse.urlencode(_form(data or {})).encode() if method == "POST" else None
        request = urllib.request.Request(self.url + path, data=body, method=method)  # noqa: S310
        if key:
            request.add_header("Authorization", f"Bearer {key}")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        return status, (json.loads(raw) if raw.strip() else {})


def _form(data: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    """Stripe's form encoding: ``card[number]=...``, ``events[0]=...``."""
    fields: list[tuple[str, str]] = []
    for name, value in data.items():
        key = f"{prefix}[{name}]" if prefix else str(name)
        if isinstance(value, Mapping):
            fields += _form(value, key)
        elif isinstance(value, list):
            fields += _form({str(i): item for i, item in enumerate(value)}, key)
        else:
            fields.append((key, str(value)))
    return fields


# The server process


def _bring_level_with_stripe() -> None:
    from localstripe import webhooks
    from localstripe.errors import UserError
    from localstripe.resources import PaymentIntent, StripeObject, store

    store.dump_to_disk = lambda: None
    clear = store.clear

    def clear_everything() -> None:
        clear()
        webhooks._webhooks.clear()

    store.clear = clear_everything

    create = PaymentIntent.__init__

    def create_with_description(
        self: Any, *, description: Any = None, receipt_email: Any = None, **data: Any
    ) -> None:
        for value in (description, receipt_email):
            if value is not None and not isinstance(value, str):
                raise UserError(400, "Bad request")
        create(self, **data)
        self.description = description
        self.receipt_email = receipt_email

    PaymentIntent.__init__ = create_with_description

    def list_intents(cls: Any, url: str, customer: Any = None, **kwargs: Any) -> Any:
        intents = StripeObject._api_list_all.__func__(cls, url, **kwargs)
        if customer is not None:
            intents._list = [i for i in intents._list if i.customer == customer]
        intents._list.sort(key=lambda intent: intent.created, reverse=True)
        return intents

    PaymentIntent._api_list_all = classmethod(list_intents)


def main(port: int) -> None:
    from aiohttp import web
    from localstripe import server

    _bring_level_with_stripe()
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", port))
    print(listener.getsockname()[1], flush=True)
    web.run_app(server.app, sock=listener, print=None, access_log=None)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 0)
