"""The answer to a sign-in, sign-up or password reset sent too often.

django-allauth counts these (``ACCOUNT_RATE_LIMITS``) and calls the URLconf's
``handler429``: a page that says so, with ``Retry-After`` set to the longest
window of those limits, after which any of them has room again.
"""

from __future__ import annotations

import re

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_RATE = re.compile(r"\d+/(?P<count>\d*)(?P<unit>[smhd])(?:/\w+)?")


def longest_window(rates: dict[str, str]) -> int:
    """The longest period, in seconds, of allauth rates such as ``"10/m/ip,5/5m/key"``."""
    longest = 60
    for spec in rates.values():
        for rate in spec.split(","):
            match = _RATE.fullmatch(rate.strip())
            if match:
                longest = max(longest, int(match["count"] or 1) * _UNITS[match["unit"]])
    return longest


def too_many_requests(request: HttpRequest) -> HttpResponse:
    wait = longest_window(settings.ACCOUNT_RATE_LIMITS)
    response = render(request, "accounts/429.html", {"minutes": -(-wait // 60)}, status=429)
    response["Retry-After"] = str(wait)
    return response
