"""Field validators shared by every app that stores a zone, a currency or a locale,
and the check on the sites an organization lets frame its booking pages."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

__all__ = [
    "MAX_EMBED_ORIGINS",
    "validate_currency",
    "validate_embed_origin",
    "validate_embed_origins",
    "validate_locale",
    "validate_time_zone",
    "zone_named",
]

# Present in some system zone databases but not places: "localtime" follows
# whatever the host is set to, "Factory" is a placeholder without an offset.
_NOT_PLACES = frozenset({"localtime", "Factory", "posixrules"})


@lru_cache(maxsize=1)
def _known_zones() -> frozenset[str]:
    return frozenset(available_timezones()) - _NOT_PLACES


def zone_named(name: str) -> ZoneInfo:
    """The IANA zone called ``name``; ``ValueError`` for anything else.

    Only names from the zone database are accepted, so a file path such as
    ``../../etc/passwd`` never reaches the zone loader.

        >>> zone_named("Europe/London")
        zoneinfo.ZoneInfo(key='Europe/London')
    """
    if name not in _known_zones():
        raise ValueError(f"{name!r} is not an IANA time zone")
    return ZoneInfo(name)


def validate_time_zone(value: str) -> None:
    if value not in _known_zones():
        raise ValidationError("%(value)s is not an IANA time zone.", params={"value": value})


validate_currency = RegexValidator(
    re.compile(r"\A[A-Z]{3}\Z"), "Enter an ISO 4217 currency code such as EUR."
)
"""Three capital letters; which codes are in circulation is not the database's business."""

validate_locale = RegexValidator(
    re.compile(r"\A[a-z]{2,3}(-[A-Za-z]{4})?(-([A-Z]{2}|[0-9]{3}))?\Z"),
    "Enter a BCP 47 locale such as en-GB.",
)
"""Language, optional script and optional region: ``en``, ``en-GB``, ``zh-Hant-TW``."""


MAX_EMBED_ORIGINS = 20
"""How many sites one organization may let frame its booking pages."""

# Plain http is for trying an embed out on one's own machine. CSP has no
# syntax for IPv6 addresses, so [::1] cannot be listed.
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})
_ORIGIN = re.compile(
    r"\A(?P<scheme>[^:/?#]+)://(?P<host>[^:/?#]*)(?::(?P<port>[^/?#]*))?(?P<rest>.*)\Z", re.DOTALL
)
_LABEL = r"(?!-)[a-z0-9-]{1,63}(?<!-)"
_HOST_NAME = re.compile(rf"\A{_LABEL}(\.{_LABEL})*\Z", re.IGNORECASE)
_EXAMPLE = "https://www.example-salon.com"


def validate_embed_origin(value: Any) -> None:
    """One site that may frame the booking pages: ``https://`` and a host, nothing more.

    Accepted: ``https://www.example-salon.com``, ``https://book.example.com:8443``,
    ``https://*.example-salon.com`` (every subdomain, not the domain itself) and,
    for testing, ``http://localhost:8000``. Refused: a path (even ``/``), a
    query, a user name, ``http://`` for any other host, and a wildcard
    anywhere but a leading ``*.`` or over fewer than two labels (``*.com``).
    Anything accepted is safe to copy into a Content-Security-Policy header.
    """
    if not isinstance(value, str):
        raise ValidationError(
            "Enter each site as text, such as %(example)s.", params=_params(value)
        )
    match = _ORIGIN.match(value)
    if match is None:
        raise ValidationError(
            "%(value)s is not a site address such as %(example)s.", params=_params(value)
        )
    scheme, host, port, rest = match.group("scheme", "host", "port", "rest")
    scheme, host = scheme.lower(), host.lower()
    if scheme not in ("https", "http"):
        raise ValidationError("%(value)s must start with https://.", params=_params(value))
    wildcard = host.startswith("*.")
    name = host.removeprefix("*.")
    if not (_HOST_NAME.match(name.replace("*", "x")) and len(name) < 254):
        raise ValidationError("%(value)s does not name a host.", params=_params(value))
    if "*" in name:
        raise ValidationError(
            "%(value)s: the only wildcard allowed is a leading *. for every subdomain.",
            params=_params(value),
        )
    if scheme == "http" and (wildcard or name not in _LOOPBACK_HOSTS):
        raise ValidationError(
            "%(value)s must start with https:// (http:// is only for localhost).",
            params=_params(value),
        )
    if wildcard and "." not in name:
        raise ValidationError(
            "%(value)s would let sites of many owners frame the pages; name a domain, "
            "as in *.example-salon.com.",
            params=_params(value),
        )
    if rest:
        raise ValidationError(
            "%(value)s has more than a site address: leave out the path, e.g. %(example)s.",
            params=_params(value),
        )
    if port is not None and not (port.isascii() and port.isdigit() and 0 < int(port) < 65536):
        raise ValidationError("%(value)s has an invalid port.", params=_params(value))


def validate_embed_origins(value: Any) -> None:
    """A list of at most :data:`MAX_EMBED_ORIGINS` distinct sites, each as
    :func:`validate_embed_origin` wants it; every problem is reported at once."""
    if not isinstance(value, list):
        raise ValidationError(
            "Enter a list of sites, such as [%(example)s].", params=_params(value)
        )
    if len(value) > MAX_EMBED_ORIGINS:
        raise ValidationError("List at most %(limit)d sites.", params={"limit": MAX_EMBED_ORIGINS})
    problems: list[ValidationError] = []
    seen: set[str] = set()
    for origin in value:
        try:
            validate_embed_origin(origin)
        except ValidationError as error:
            problems.append(error)
            continue
        if origin.lower() in seen:
            problems.append(ValidationError("%(value)s is listed twice.", params=_params(origin)))
        seen.add(origin.lower())
    if problems:
        raise ValidationError(problems)


def _params(value: Any) -> dict[str, Any]:
    return {"value": value, "example": _EXAMPLE}


def validate_api_key_scopes(value: object) -> None:
    """At least one known scope (``read``, ``write``, ``bookings:read`` ...), no repeats."""
    from slotwise.accounts.permissions import API_KEY_SCOPES

    if not isinstance(value, list) or not value:
        raise ValidationError("Give the key at least one scope.")
    unknown = [s for s in value if not isinstance(s, str) or s not in API_KEY_SCOPES]
    if unknown:
        known = ", ".join(API_KEY_SCOPES)
        raise ValidationError(f"Unknown scope {unknown[0]!r}; the scopes are {known}.")
    if len(set(value)) != len(value):
        raise ValidationError("A scope is named twice.")
