"""What the editors share: the page context, who may save, and errors by field.

The editors change the catalog through :mod:`slotwise.catalog.services`, the
operations the staff API calls; the service layer names each complaint by
field (``weekly_rules.2.end``), and :class:`Errors` keeps them until the page
shows each one beside the input it is about.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from slotwise.accounts.access import Caller
from slotwise.accounts.permissions import Permission
from slotwise.dashboard.access import navigation

__all__ = ["Errors", "caller_of", "page", "require_write"]


def caller_of(request: HttpRequest) -> Caller:
    return request.caller  # type: ignore[attr-defined,no-any-return]


def require_write(request: HttpRequest) -> Caller:
    """The caller, if they may change the catalog; else the 403 page (:class:`Forbidden`)."""
    caller = caller_of(request)
    caller.require(Permission.CATALOG_WRITE)
    return caller


def page(
    request: HttpRequest, template: str, context: dict[str, Any], *, status: int = 200
) -> HttpResponse:
    """``template`` on the dashboard's frame: with the caller, the navigation and
    whether they may save (``can_write``) unless the view said otherwise."""
    caller = caller_of(request)
    context = {
        "caller": caller,
        "nav": navigation(request, caller),
        "can_write": caller.can(Permission.CATALOG_WRITE),
        **context,
    }
    return render(request, f"dashboard/editors/{template}", context, status=status)


class Errors:
    """Messages by field name; ``__all__`` for those about the whole form."""

    def __init__(self) -> None:
        self.by_field: dict[str, list[str]] = defaultdict(list)

    def add(self, field: str, message: str) -> None:
        self.by_field[field].append(str(message))

    def extend(self, errors: dict[str, list[str]]) -> None:
        for field, messages in errors.items():
            for message in messages:
                self.add(field, message)

    def __bool__(self) -> bool:
        return any(self.by_field.values())

    def get(self, field: str) -> list[str]:
        return self.by_field.get(field, [])

    @property
    def general(self) -> list[str]:
        return self.get("__all__")
