"""Field validators shared by every app that stores a zone, a currency or a locale."""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, available_timezones

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator

__all__ = [
    "validate_currency",
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
