"""Posting a webhook: the JSON body planned with the event, signed, to the endpoint's URL.

Headers of every request::

    Content-Type: application/json
    User-Agent: slotwise-webhooks
    Webhook-Id: msg_5f0c...              the same on every attempt of one delivery
    Webhook-Timestamp: 1780304400        Unix seconds when this attempt was made
    Webhook-Signature: v1=<hex>          HMAC-SHA256, keyed with the endpoint's secret,
                                         of "<Webhook-Id>.<Webhook-Timestamp>.<body>"

A ``2xx`` answer is a delivery. Anything else (another status, a redirect,
which is never followed, a timeout, a refused connection) raises
:class:`~slotwise.notifications.channels.DeliveryError`, and the dispatcher
tries again later. A delivery for an endpoint deleted or deactivated since it
was planned is skipped, not sent (:meth:`WebhookChannel.skip_reason`).
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from django.core.exceptions import ValidationError
from django.utils import timezone

from slotwise.notifications.channels import Channel, DeliveryError
from slotwise.notifications.models import Message
from slotwise.organizations.tenancy import tenant
from slotwise.webhooks.events import CHANNEL
from slotwise.webhooks.models import WebhookEndpoint
from slotwise.webhooks.validators import validate_webhook_url

__all__ = ["TIMEOUT_SECONDS", "USER_AGENT", "WebhookChannel", "body_of", "signature"]

TIMEOUT_SECONDS = 10
USER_AGENT = "slotwise-webhooks"
_SHOWN_OF_AN_ANSWER = 200  # characters of a refusal's body kept in ``last_error``


def body_of(message: Message) -> bytes:
    """The bytes posted for ``message``: its context as compact JSON, keys sorted,
    so that every attempt posts the same bytes."""
    return json.dumps(message.context, sort_keys=True, separators=(",", ":")).encode()


def signature(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """``v1=`` and the hex HMAC-SHA256 of ``<webhook_id>.<timestamp>.<body>``."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    return "v1=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


class WebhookChannel(Channel):
    """Posts ``webhook`` messages to the endpoint named by their recipient."""

    name = CHANNEL

    def skip_reason(self, message: Message) -> str:
        endpoint = _endpoint(message)
        if endpoint is None:
            return "The endpoint was deleted."
        if not endpoint.active:
            return "The endpoint is inactive."
        try:
            validate_webhook_url(endpoint.url)
        except ValidationError:
            return "The endpoint's URL is not one slotwise posts to."
        return ""

    def send(self, message: Message) -> None:
        endpoint = _endpoint(message)
        if endpoint is None or not endpoint.active:
            # Changed since skip_reason() looked; the next attempt skips it.
            raise DeliveryError("The endpoint was deleted or deactivated.")
        body = body_of(message)
        timestamp = int(timezone.now().timestamp())
        request = urllib.request.Request(  # noqa: S310 - the URL is validated: http(s) only
            endpoint.url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": USER_AGENT,
                "Webhook-Id": message.message_id,
                "Webhook-Timestamp": str(timestamp),
                "Webhook-Signature": signature(
                    endpoint.secret, message.message_id, timestamp, body
                ),
            },
        )
        try:
            with _opener().open(request, timeout=TIMEOUT_SECONDS) as response:
                status = response.status
        except urllib.error.HTTPError as error:
            try:
                raise DeliveryError(_refusal(error)) from error
            finally:
                error.close()
        except urllib.error.URLError as error:
            raise DeliveryError(f"Unreachable: {error.reason}") from error
        except (OSError, http.client.HTTPException, ValueError) as error:
            raise DeliveryError(f"{type(error).__name__}: {error}") from error
        if not 200 <= status < 300:
            raise DeliveryError(f"HTTP {status}")


def _endpoint(message: Message) -> WebhookEndpoint | None:
    """The endpoint ``message`` is for (recipient ``webhook:<id>``), if it still exists."""
    pk = message.recipient.removeprefix("webhook:")
    if not pk.isdigit():
        return None
    with tenant(message.organization_id):
        return WebhookEndpoint.objects.filter(pk=int(pk)).first()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer like any other non-2xx: the delivery failed."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _opener() -> urllib.request.OpenerDirector:
    """HTTP and HTTPS only (certificates verified), no redirects; the
    environment's proxy settings (``HTTPS_PROXY``) are honoured."""
    opener = urllib.request.OpenerDirector()
    for handler in (
        urllib.request.ProxyHandler(),
        urllib.request.HTTPHandler(),
        urllib.request.HTTPSHandler(),
        urllib.request.HTTPDefaultErrorHandler(),
        _NoRedirects(),
        urllib.request.HTTPErrorProcessor(),
    ):
        opener.add_handler(handler)
    return opener


def _refusal(error: urllib.error.HTTPError) -> str:
    said = ""
    try:
        said = error.read(_SHOWN_OF_AN_ANSWER).decode("utf-8", "replace").strip()
    except (OSError, http.client.HTTPException, ValueError):
        pass
    note = " (redirects are not followed)" if 300 <= error.code < 400 else ""
    text = f"HTTP {error.code} {error.reason}{note}"
    return f"{text}: {' '.join(said.split())}" if said else text
