"""Who may open a dashboard page, and as whom.

Every dashboard view is decorated with :func:`member_page`: the visitor must
be signed in and a member of the organization the page works on, with a role
that grants the page's permission. The view then gets ``request.caller``, the
same :class:`~slotwise.accounts.access.Caller` the staff API builds for a
member's session, and runs inside that organization, so the services it calls
check permissions and write the audit log exactly as they do for the API.

A member of several organizations picks one (``/dashboard/choose``); the
choice is kept in their session.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy

from slotwise.accounts.access import Caller, Forbidden
from slotwise.accounts.permissions import Permission
from slotwise.audit.context import act_as
from slotwise.organizations.auth import MfaRequired, member_caller
from slotwise.organizations.tenancy import tenant

__all__ = ["NAV", "SESSION_KEY", "member_page", "navigation"]

# The organization a member of several chose, by slug.
SESSION_KEY = "dashboard_organization"

# The dashboard's sections: (label, URL name, permission needed to see it).
NAV: list[tuple[Any, str, Permission]] = [
    (gettext_lazy("Calendar"), "dashboard:calendar", Permission.BOOKINGS_READ),
    (gettext_lazy("Waitlist"), "dashboard:waitlist", Permission.BOOKINGS_READ),
    (gettext_lazy("Reports"), "dashboard:reports", Permission.BOOKINGS_READ),
    (gettext_lazy("Hours"), "dashboard:hours", Permission.CATALOG_READ),
    (gettext_lazy("Services"), "dashboard:services", Permission.CATALOG_READ),
    (gettext_lazy("Resources"), "dashboard:resources", Permission.CATALOG_READ),
    (gettext_lazy("Calendars"), "dashboard:calendars", Permission.CATALOG_READ),
    (gettext_lazy("Team"), "dashboard:team", Permission.MEMBERS_MANAGE),
    (gettext_lazy("API keys"), "dashboard:api-keys", Permission.API_KEYS_MANAGE),
    (gettext_lazy("Webhooks"), "dashboard:webhooks", Permission.WEBHOOKS_MANAGE),
    (gettext_lazy("Payments"), "dashboard:payments", Permission.PAYMENTS_MANAGE),
    (gettext_lazy("Organization"), "dashboard:organization", Permission.CATALOG_WRITE),
]


def navigation(request: HttpRequest, caller: Caller) -> list[dict[str, Any]]:
    """The sections ``caller`` may open, the current one marked."""
    items = []
    for label, name, permission in NAV:
        if not caller.can(permission):
            continue
        try:
            url = reverse(name)
        except NoReverseMatch:
            continue
        current = request.path == url or request.path.startswith(url.rstrip("/") + "/")
        items.append({"label": label, "url": url, "current": current})
    return items


def member_page[V: Callable[..., HttpResponse]](*permissions: Permission) -> Callable[[V], V]:
    """Let signed-in members whose role grants one of ``permissions`` open the page.

    Anonymous visitors are sent to sign in; members without the permission
    get the 403 page; people who are members of no organization get a page
    that says so.
    """

    def decorator(view: V) -> V:
        @wraps(view)
        def page(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            try:
                caller = member_caller(request.user, request.session.get(SESSION_KEY))  # type: ignore[arg-type]
            except MfaRequired:
                return HttpResponseRedirect(reverse("mfa_activate_totp"))
            if caller is None:
                return HttpResponseRedirect(
                    reverse("dashboard:choose") + "?next=" + request.get_full_path()
                )
            if permissions and caller.permissions.isdisjoint(permissions):
                return forbidden(request, caller)
            request.caller = caller  # type: ignore[attr-defined]
            act_as(caller.actor, caller.user)
            with tenant(caller.organization):
                try:
                    return view(request, *args, **kwargs)
                except Forbidden:
                    return forbidden(request, caller)

        return page  # type: ignore[return-value]

    return decorator


def forbidden(request: HttpRequest, caller: Caller | None) -> HttpResponse:
    context = {"caller": caller}
    if caller is not None:
        context["nav"] = navigation(request, caller)
    return render(request, "dashboard/forbidden.html", context, status=403)
