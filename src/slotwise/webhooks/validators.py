"""What a webhook endpoint may be: where it is (a strict URL) and what it wants to hear."""

from __future__ import annotations

import ipaddress
import re
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError

__all__ = [
    "EVENT_TYPES",
    "LOCAL_HOSTS",
    "MAX_URL_LENGTH",
    "validate_event_types",
    "validate_webhook_url",
]

EVENT_TYPES = (
    "booking.created",
    "booking.hold_confirmed",
    "booking.hold_expired",
    "booking.approved",
    "booking.rejected",
    "booking.rescheduled",
    "booking.cancelled",
    "booking.completed",
    "booking.no_show",
)
"""Every booking event an endpoint may subscribe to: the actions of the booking history."""

MAX_URL_LENGTH = 1000
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1"})
"""The only hosts plain ``http://`` may reach: a receiver on one's own machine."""

_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST_NAME = re.compile(rf"\A{_LABEL}(\.{_LABEL})*\.?\Z")
_PRINTABLE_ASCII = re.compile(r"\A[!-~]+\Z")  # no spaces, no control characters


def validate_webhook_url(value: Any) -> None:
    """An ``https://`` URL with a host, at most :data:`MAX_URL_LENGTH` characters.

    Accepted: ``https://hooks.example.com/slotwise``, with a port, path or
    query, and ``http://localhost:8000/hook`` or ``http://127.0.0.1/...``
    for a receiver on one's own machine. Refused: user names or passwords in
    the URL, any other scheme, plain ``http://`` to any other host, a
    fragment, spaces, and characters outside ASCII (write a host in its
    ``xn--`` form and percent-encode the rest).
    """
    if not isinstance(value, str) or not value:
        raise ValidationError("Enter the URL as text, such as https://hooks.example.com/slotwise.")
    if len(value) > MAX_URL_LENGTH:
        raise ValidationError(f"The URL is longer than {MAX_URL_LENGTH} characters.")
    if not _PRINTABLE_ASCII.match(value) or "\\" in value:
        raise ValidationError(
            "The URL may hold no spaces, backslashes or characters outside ASCII "
            "(percent-encode them)."
        )
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not value.lower().startswith(f"{scheme}://"):
        raise ValidationError("The URL must start with https://.")
    if "@" in parts.netloc:
        raise ValidationError("The URL may not hold a user name or password.")
    host = (parts.hostname or "").lower()
    if not _is_host(host, bracketed=parts.netloc.startswith("[")):
        raise ValidationError("The URL does not name a host.")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or parts.netloc.endswith(":"):
        raise ValidationError("The URL has an invalid port.")
    if scheme == "http" and host not in LOCAL_HOSTS:
        raise ValidationError(
            "The URL must start with https:// (http:// only for localhost and 127.0.0.1)."
        )
    if parts.fragment or value.endswith("#"):
        raise ValidationError("The URL may not have a fragment (#...): it is never sent.")


def validate_event_types(value: Any) -> None:
    """A list of distinct names from :data:`EVENT_TYPES`; empty means every one."""
    if not isinstance(value, list):
        raise ValidationError('Enter the event types as a list, such as ["booking.created"].')
    unknown = [name for name in value if not isinstance(name, str) or name not in EVENT_TYPES]
    if unknown:
        raise ValidationError(
            f"Unknown event type {unknown[0]!r}; the types are {', '.join(EVENT_TYPES)}."
        )
    if len(set(value)) != len(value):
        raise ValidationError("An event type is named twice.")


def _is_host(host: str, *, bracketed: bool) -> bool:
    if bracketed:
        try:
            return ipaddress.ip_address(host).version == 6
        except ValueError:
            return False
    return len(host) < 254 and bool(_HOST_NAME.match(host))
