"""Session timeouts: idle and absolute.

A session ends when it has been idle longer than
``SLOTWISE_SESSION_IDLE_TIMEOUT`` or is older than
``SLOTWISE_SESSION_ABSOLUTE_TIMEOUT`` since its sign-in, whichever comes
first; the next request is then anonymous. The last-seen time is written at
most once a minute, so most requests do not write the session.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse

SIGNED_IN_AT = "slotwise_signed_in_at"
SEEN_AT = "slotwise_seen_at"
SEEN_PRECISION = 60  # seconds


def start_clocks(request: HttpRequest) -> None:
    now = int(time.time())
    request.session[SIGNED_IN_AT] = now
    request.session[SEEN_AT] = now


def expired(request: HttpRequest, now: float) -> bool:
    signed_in_at = request.session.get(SIGNED_IN_AT)
    seen_at = request.session.get(SEEN_AT)
    if signed_in_at is None or seen_at is None:
        return True
    idle = settings.SLOTWISE_SESSION_IDLE_TIMEOUT.total_seconds()
    absolute = settings.SLOTWISE_SESSION_ABSOLUTE_TIMEOUT.total_seconds()
    return now - seen_at > idle or now - signed_in_at > absolute


class SessionTimeoutMiddleware:
    """Signs out a session past its idle or absolute timeout; after ``AuthenticationMiddleware``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = time.time()
            if expired(request, now):
                logout(request)
            elif now - request.session[SEEN_AT] >= SEEN_PRECISION:
                request.session[SEEN_AT] = int(now)
        return self.get_response(request)
