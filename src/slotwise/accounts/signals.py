"""Receivers: a new sign-in starts the session's clocks (see :mod:`.sessions`)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver
from django.http import HttpRequest

from slotwise.accounts.sessions import start_clocks


@receiver(user_logged_in, dispatch_uid="slotwise-session-clocks")
def _on_login(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    if request is not None and hasattr(request, "session"):
        start_clocks(request)
