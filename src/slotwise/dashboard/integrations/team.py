"""The team: members and their roles, invitations by email, through the same
member services as ``/api/v1/staff/members``."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from slotwise.accounts import services
from slotwise.accounts.access import Forbidden
from slotwise.accounts.models import Invitation, Membership
from slotwise.accounts.permissions import Permission, Role
from slotwise.dashboard.access import member_page
from slotwise.dashboard.integrations.common import add_service_errors, caller_of, page

ROLE_LABELS = {
    Role.OWNER: gettext_lazy("Owner"),
    Role.ADMIN: gettext_lazy("Admin"),
    Role.STAFF: gettext_lazy("Staff"),
    Role.VIEWER: gettext_lazy("Viewer"),
}
ROLE_CHOICES = list(ROLE_LABELS.items())
OWNERS_ONLY = gettext_lazy("Only an owner may make, change or remove owners.")
LAST_OWNER = gettext_lazy(
    "The organization needs another owner first: make someone else an owner, then try again."
)


class InviteForm(forms.Form):
    email = forms.EmailField(label=gettext_lazy("Email address"), max_length=254)
    role = forms.ChoiceField(
        label=gettext_lazy("Role"),
        choices=ROLE_CHOICES,
        initial=Role.STAFF,
        help_text=gettext_lazy("Only an owner may invite another owner."),
    )


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=ROLE_CHOICES)


@member_page(Permission.MEMBERS_MANAGE)
@require_GET
def team(request: HttpRequest) -> HttpResponse:
    return _page(request)


@member_page(Permission.MEMBERS_MANAGE)
@require_POST
def invite(request: HttpRequest) -> HttpResponse:
    """Email an invitation to join as the role chosen."""
    form = InviteForm(request.POST)
    if not form.is_valid():
        return _page(request, invite_form=form, status=400)
    email, role = form.cleaned_data["email"], Role(form.cleaned_data["role"])
    try:
        services.invite(
            caller_of(request),
            email,
            role,
            now=timezone.now(),
            site=request.build_absolute_uri("/"),
        )
    except Forbidden:
        form.add_error("role", OWNERS_ONLY)
        return _page(request, invite_form=form, status=403)
    except ValidationError as error:
        add_service_errors(form, error)
        return _page(request, invite_form=form, status=400)
    messages.success(request, gettext("Invitation sent to %(email)s.") % {"email": email})
    return redirect("dashboard:team")


@member_page(Permission.MEMBERS_MANAGE)
@require_POST
def revoke_invitation(request: HttpRequest, invitation_id: int) -> HttpResponse:
    try:
        invitation = services.revoke_invitation(
            caller_of(request), invitation_id, now=timezone.now()
        )
    except services.MemberNotFound:
        raise Http404 from None
    except Forbidden:
        return _page(request, problem=OWNERS_ONLY, status=403)
    messages.success(
        request, gettext("The invitation to %(email)s is withdrawn.") % {"email": invitation.email}
    )
    return redirect("dashboard:team")


@member_page(Permission.MEMBERS_MANAGE)
@require_POST
def change_role(request: HttpRequest, member_id: int) -> HttpResponse:
    form = RoleForm(request.POST)
    if not form.is_valid():
        return _page(request, problem=gettext("Choose one of the roles listed."), status=400)
    role = Role(form.cleaned_data["role"])

    def run() -> tuple[str, str]:
        membership = services.change_role(caller_of(request), member_id, role)
        notice = gettext("%(email)s is now %(role)s.") % {
            "email": membership.user.email,
            "role": ROLE_LABELS[role],
        }
        return notice, "dashboard:team"

    return _member_change(request, run)


@member_page(Permission.MEMBERS_MANAGE)
@require_POST
def remove_member(request: HttpRequest, member_id: int) -> HttpResponse:
    caller = caller_of(request)
    membership = (
        Membership.objects.filter(organization=caller.organization, pk=member_id)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Http404

    def run() -> tuple[str, str]:
        services.remove_member(caller, member_id)
        notice = gettext("%(email)s is no longer a member.") % {"email": membership.user.email}
        leaving = membership.user_id == request.user.pk
        return notice, "dashboard:home" if leaving else "dashboard:team"

    return _member_change(request, run)


def _member_change(request: HttpRequest, run: Callable[[], tuple[str, str]]) -> HttpResponse:
    """Run a change of a member: its notice and where to go next, or the service's
    refusal shown on the team page."""
    try:
        notice, target = run()
    except services.MemberNotFound:
        raise Http404 from None
    except Forbidden:
        return _page(request, problem=OWNERS_ONLY, status=403)
    except services.LastOwner:
        return _page(request, problem=LAST_OWNER, status=409)
    messages.success(request, notice)
    return redirect(target)


def _page(
    request: HttpRequest,
    *,
    invite_form: InviteForm | None = None,
    problem: str = "",
    status: int = 200,
) -> HttpResponse:
    caller = caller_of(request)
    members = (
        Membership.objects.filter(organization=caller.organization)
        .select_related("user")
        .order_by("created_at", "pk")
    )
    invitations = Invitation.objects.filter(
        organization=caller.organization,
        accepted_at=None,
        revoked_at=None,
        expires_at__gt=timezone.now(),
    ).order_by("created_at", "pk")
    return page(
        request,
        "dashboard/integrations/team.html",
        {
            "members": [
                {
                    "membership": m,
                    "role": ROLE_LABELS[Role(m.role)],
                    "is_you": m.user_id == request.user.pk,
                }
                for m in members
            ],
            "invitations": [
                {"invitation": i, "role": ROLE_LABELS[Role(i.role)]} for i in invitations
            ],
            "roles": ROLE_CHOICES,
            "invite_form": invite_form or InviteForm(),
            "problem": problem,
        },
        status=status,
    )
