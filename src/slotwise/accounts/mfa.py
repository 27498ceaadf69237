"""Two-factor authentication is required of owners and admins.

Until an owner or admin of any organization has set up an authenticator app
(TOTP, with recovery codes), every page sends them to set one up, and the
staff API refuses their session. allauth does the setting up and asks for
the code at each sign-in.
"""

from __future__ import annotations

from collections.abc import Callable

from allauth.mfa.models import Authenticator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse

from slotwise.accounts.models import Membership, Role, User

MFA_ROLES = (Role.OWNER, Role.ADMIN)
# Where a member without MFA may still go: sign-in pages, setting MFA up, static files.
OPEN_PREFIXES = ("/accounts/", "/static/", "/healthz", "/api/")


def mfa_required(user: User) -> bool:
    """Whether ``user`` must set up two-factor authentication before going on."""
    if not Membership.objects.filter(user=user, role__in=MFA_ROLES).exists():
        return False
    return not Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


class RequireMfaMiddleware:
    """Redirects owners and admins without an authenticator to set one up."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if (
            user.is_authenticated
            and not request.path.startswith(OPEN_PREFIXES)
            and mfa_required(user)  # type: ignore[arg-type]
        ):
            return HttpResponseRedirect(reverse("mfa_activate_totp"))
        return self.get_response(request)
