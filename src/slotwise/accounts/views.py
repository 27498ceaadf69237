"""The page where an invited person accepts an invitation (after signing in)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from slotwise.accounts import services
from slotwise.accounts.models import Invitation


@login_required
@require_http_methods(["GET", "POST"])
def accept_invitation(request: HttpRequest, token: str) -> HttpResponse:
    if request.method == "POST":
        try:
            membership = services.accept_invitation(token, request.user, now=timezone.now())  # type: ignore[arg-type]
        except services.InvitationInvalid as error:
            return render(request, "accounts/invitation.html", {"error": str(error)}, status=400)
        messages.success(
            request, f"You are now {membership.role} of {membership.organization.name}."
        )
        return redirect("home")
    invitation = (
        Invitation.objects.select_related("organization")
        .filter(token_hash=services.token_hash(token), accepted_at=None, revoked_at=None)
        .filter(expires_at__gt=timezone.now())
        .first()
    )
    if invitation is None:
        return render(
            request,
            "accounts/invitation.html",
            {"error": "This invitation is no longer valid; ask for a new one."},
            status=404,
        )
    return render(request, "accounts/invitation.html", {"invitation": invitation})
