"""``/api/v1/staff/members``: an organization's members and invitations (owners and admins)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Schema, Status

from slotwise.accounts import services
from slotwise.accounts.models import Invitation, Membership
from slotwise.accounts.permissions import Permission, Role
from slotwise.api.problems import Problem, ValidationProblem, problem_response
from slotwise.organizations.auth import StaffRouter, requires

router = StaffRouter(tags=["staff: members"])

IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
READ = {401: Problem, 403: Problem}
ACT = {**READ, 400: Problem, 404: Problem, 409: Problem, 422: ValidationProblem}


class MemberOut(Schema):
    id: int
    email: str
    name: str
    role: Role
    joined_at: datetime


class InvitationIn(Schema):
    email: str = Field(max_length=254)
    role: Role


class InvitationOut(Schema):
    id: int
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime


class RoleIn(Schema):
    role: Role


@router.get("", response={200: list[MemberOut], **READ}, summary="Members")
@requires(Permission.MEMBERS_MANAGE)
def list_members(request: HttpRequest) -> list[dict[str, Any]]:
    members = Membership.objects.filter(organization=request.auth.organization)
    return [_member(m) for m in members.select_related("user").order_by("created_at", "pk")]


@router.get("/invitations", response={200: list[InvitationOut], **READ}, summary="Invitations")
@requires(Permission.MEMBERS_MANAGE)
def list_invitations(request: HttpRequest) -> list[dict[str, Any]]:
    open_ones = Invitation.objects.filter(
        organization=request.auth.organization,
        accepted_at=None,
        revoked_at=None,
        expires_at__gt=timezone.now(),
    )
    return [_invitation(i) for i in open_ones.order_by("created_at", "pk")]


@router.post("/invitations", response={201: InvitationOut, **ACT}, summary="Invite someone")
@requires(Permission.MEMBERS_MANAGE)
def invite(request: HttpRequest, payload: InvitationIn) -> Any:
    """Email an invitation, valid for 7 days, to join as ``role``."""
    site = request.build_absolute_uri("/")
    return _answer(
        lambda: Status(
            201,
            _invitation(
                services.invite(
                    request.auth, payload.email, payload.role, now=timezone.now(), site=site
                )[0]
            ),
        )
    )


@router.delete(
    "/invitations/{invitation_id}", response={204: None, **ACT}, summary="Withdraw an invitation"
)
@requires(Permission.MEMBERS_MANAGE)
def revoke_invitation(request: HttpRequest, invitation_id: IdPath) -> Any:
    return _answer(
        lambda: Status(
            204,
            services.revoke_invitation(request.auth, invitation_id, now=timezone.now()) and None,
        )
    )


class NotificationsIO(Schema):
    notify_own_bookings: bool = Field(
        description="New, cancelled and moved bookings of the resources that are you."
    )
    notify_all_bookings: bool = Field(description="The same, for every booking.")
    daily_agenda: bool = Field(description="Each morning, the day's bookings of your resources.")


class NotificationsPatch(Schema):
    notify_own_bookings: bool | None = None
    notify_all_bookings: bool | None = None
    daily_agenda: bool | None = None


@router.get(
    "/me/notifications",
    response={200: NotificationsIO, **READ, 404: Problem},
    summary="My notices about bookings",
)
@requires(Permission.BOOKINGS_READ)
def my_notifications(request: HttpRequest) -> Any:
    """Which booking notices the signed-in member receives by email."""
    membership = _own(request)
    if membership is None:
        return _not_a_person()
    return _notifications(membership)


@router.patch(
    "/me/notifications",
    response={200: NotificationsIO, **READ, 404: Problem, 422: ValidationProblem},
    summary="Switch my notices about bookings",
)
@requires(Permission.BOOKINGS_READ)
def switch_my_notifications(request: HttpRequest, payload: NotificationsPatch) -> Any:
    membership = _own(request)
    if membership is None:
        return _not_a_person()
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    if changes:
        for field, value in changes.items():
            setattr(membership, field, value)
        membership.save(update_fields=list(changes))
    return _notifications(membership)


def _own(request: HttpRequest) -> Membership | None:
    user = request.auth.user
    if user is None:
        return None
    return Membership.objects.filter(organization=request.auth.organization, user=user).first()


def _not_a_person() -> Any:
    return problem_response(
        404, "not-found", "Not found", "Notices are for members signed in, not for API keys."
    )


def _notifications(membership: Membership) -> dict[str, bool]:
    return {
        "notify_own_bookings": membership.notify_own_bookings,
        "notify_all_bookings": membership.notify_all_bookings,
        "daily_agenda": membership.daily_agenda,
    }


# After /invitations, which the id would otherwise swallow.


@router.patch("/{member_id}", response={200: MemberOut, **ACT}, summary="Change a member's role")
@requires(Permission.MEMBERS_MANAGE)
def change_role(request: HttpRequest, member_id: IdPath, payload: RoleIn) -> Any:
    return _answer(lambda: _member(services.change_role(request.auth, member_id, payload.role)))


@router.delete("/{member_id}", response={204: None, **ACT}, summary="Remove a member")
@requires(Permission.MEMBERS_MANAGE)
def remove_member(request: HttpRequest, member_id: IdPath) -> Any:
    return _answer(lambda: Status(204, services.remove_member(request.auth, member_id)))


def _answer(run: Any) -> Any:
    try:
        return run()
    except services.MemberNotFound as error:
        return problem_response(404, "not-found", "Not found", str(error))
    except services.LastOwner as error:
        return problem_response(409, "last-owner", "An owner is needed", str(error))
    except ValidationError as error:
        detail = " ".join(" ".join(m) for m in error.message_dict.values())
        return problem_response(400, "invalid-member", "Invalid member", detail)


def _member(membership: Membership) -> dict[str, Any]:
    return {
        "id": membership.pk,
        "email": membership.user.email,
        "name": membership.user.name,
        "role": membership.role,
        "joined_at": membership.created_at,
    }


def _invitation(invitation: Invitation) -> dict[str, Any]:
    return {
        "id": invitation.pk,
        "email": invitation.email,
        "role": invitation.role,
        "created_at": invitation.created_at,
        "expires_at": invitation.expires_at,
    }
