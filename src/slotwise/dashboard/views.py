"""The dashboard's own pages: its front door and the choice of organization."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods

from slotwise.accounts.models import Membership
from slotwise.dashboard.access import SESSION_KEY, member_page, navigation


@member_page()
def home(request: HttpRequest) -> HttpResponse:
    """The first section the member may open."""
    sections = navigation(request, request.caller)  # type: ignore[attr-defined]
    if sections:
        return HttpResponseRedirect(sections[0]["url"])
    return render(request, "dashboard/empty.html", {"nav": sections})


@login_required
@require_http_methods(["GET", "POST"])
def choose(request: HttpRequest) -> HttpResponse:
    """Pick the organization to work on, for a member of several (or none)."""
    memberships = list(
        Membership.objects.filter(user=request.user)
        .select_related("organization")
        .order_by("organization__name")
    )
    target = request.POST.get("next") or request.GET.get("next") or reverse("dashboard:home")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        target = reverse("dashboard:home")
    if request.method == "POST":
        slug = request.POST.get("organization", "")
        if any(m.organization.slug == slug for m in memberships):
            request.session[SESSION_KEY] = slug
            return HttpResponseRedirect(target)
    return render(
        request,
        "dashboard/choose.html",
        {"memberships": memberships, "next": target},
        status=200 if request.method == "GET" else 400,
    )
