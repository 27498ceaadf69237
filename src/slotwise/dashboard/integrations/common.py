"""What the integration pages share: rendering with the dashboard's frame, no caching,
and service errors shown on a form."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext

from slotwise.accounts.access import Caller
from slotwise.dashboard.access import navigation

__all__ = ["add_service_errors", "caller_of", "page"]


def caller_of(request: HttpRequest) -> Caller:
    return request.caller  # type: ignore[attr-defined,no-any-return]


def page(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """``template`` in the dashboard's frame, never kept by a browser or proxy: these
    pages list who has access and, once, show secrets."""
    caller = caller_of(request)
    response = render(
        request,
        template,
        {
            "caller": caller,
            "nav": navigation(request, caller),
            "zone": caller.organization.time_zone,
            **context,
        },
        status=status,
    )
    add_never_cache_headers(response)
    return response


def add_service_errors(
    form: forms.Form, error: ValidationError, *, fields: dict[str, str] | None = None
) -> None:
    """Put a service's ``ValidationError`` on ``form``: each message on the field it
    names (renamed by ``fields``), or on the form as a whole."""
    fields = fields or {}
    if not hasattr(error, "error_dict"):
        form.add_error(None, [gettext(m) for m in error.messages])
        return
    for name, messages in error.message_dict.items():
        target = fields.get(name, name)
        form.add_error(target if target in form.fields else None, [gettext(m) for m in messages])
