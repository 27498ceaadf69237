"""Members of an organization: inviting, accepting, changing roles and removing.

Each operation takes the acting :class:`~slotwise.accounts.access.Caller`
and is one transaction, written to the audit log. An admin manages admins,
staff and viewers; only an owner makes or unmakes owners; an organization
always keeps at least one owner.

    >>> invitation, link_token = invite(caller, "sam@example.com", Role.STAFF, now=now, site=site)
    >>> accept_invitation(link_token, sam, now=now).role
    'staff'
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.urls import reverse

from slotwise.accounts.access import Caller, Forbidden
from slotwise.accounts.models import Invitation, Membership, User
from slotwise.accounts.permissions import Permission, Role

__all__ = [
    "INVITATION_LIFETIME",
    "InvitationInvalid",
    "LastOwner",
    "MemberNotFound",
    "accept_invitation",
    "change_role",
    "invite",
    "remove_member",
    "revoke_invitation",
    "token_hash",
]

INVITATION_LIFETIME = timedelta(days=7)


class MemberNotFound(LookupError):
    """No such member (or invitation) in the caller's organization."""


class LastOwner(ValueError):
    """The change would leave the organization without an owner."""


class InvitationInvalid(ValueError):
    """The invitation is unknown, used, revoked, expired or for another address."""


def invite(
    caller: Caller, email: str, role: Role, *, now: datetime, site: str
) -> tuple[Invitation, str]:
    """Invite ``email`` to the caller's organization as ``role``: the invitation and
    its token, which the email (sent after commit) carries in a link to ``site``
    (``https://book.example.com``)."""
    caller.require(Permission.MEMBERS_MANAGE)
    _check_may_grant(caller, role)
    email = email.strip().lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValidationError({"email": "That is not an email address."}) from error
    if Membership.objects.filter(organization=caller.organization, user__email=email).exists():
        raise ValidationError({"email": "Someone with that address is already a member."})
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        invitation = Invitation.objects.create(
            organization=caller.organization,
            email=email,
            role=role,
            token_hash=token_hash(token),
            invited_by=caller.user,
            created_at=now,
            expires_at=now + INVITATION_LIFETIME,
        )
        log_action(
            "member.invited",
            organization=caller.organization,
            target=invitation,
            data={"email": email, "role": role},
        )
        transaction.on_commit(lambda: _send_invitation(invitation, token, site))
    return invitation, token


def revoke_invitation(caller: Caller, invitation_id: int, *, now: datetime) -> Invitation:
    caller.require(Permission.MEMBERS_MANAGE)
    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update()
            .filter(organization=caller.organization, pk=invitation_id, accepted_at=None)
            .first()
        )
        if invitation is None:
            raise MemberNotFound(f"There is no open invitation {invitation_id}.")
        _check_may_grant(caller, Role(invitation.role))
        if invitation.revoked_at is None:
            invitation.revoked_at = now
            invitation.save(update_fields=["revoked_at"])
            log_action(
                "member.invitation_revoked",
                organization=caller.organization,
                target=invitation,
                data={"email": invitation.email},
            )
    return invitation


def accept_invitation(token: str, user: User, *, now: datetime) -> Membership:
    """Make ``user`` a member as the invitation says, if it is open and addressed to
    one of their verified email addresses."""
    from allauth.account.models import EmailAddress

    with transaction.atomic():
        invitation = (
            Invitation.objects.select_for_update().filter(token_hash=token_hash(token)).first()
        )
        if (
            invitation is None
            or invitation.accepted_at is not None
            or invitation.revoked_at is not None
            or invitation.expires_at <= now
        ):
            raise InvitationInvalid("This invitation is no longer valid; ask for a new one.")
        if not EmailAddress.objects.filter(
            user=user, email__iexact=invitation.email, verified=True
        ).exists():
            raise InvitationInvalid(
                f"This invitation is for {invitation.email}; sign in with that address."
            )
        try:
            with transaction.atomic():
                membership = Membership.objects.create(
                    organization=invitation.organization, user=user, role=invitation.role
                )
        except IntegrityError:
            raise InvitationInvalid("You are already a member of this organization.") from None
        invitation.accepted_at = now
        invitation.save(update_fields=["accepted_at"])
        log_action(
            "member.joined",
            organization=invitation.organization,
            target=membership,
            data={"email": user.email, "role": invitation.role},
            actor=f"user:{user.pk}",
            user=user,
        )
    return membership


def change_role(caller: Caller, membership_id: int, role: Role) -> Membership:
    caller.require(Permission.MEMBERS_MANAGE)
    with transaction.atomic():
        membership = _member(caller, membership_id)
        old = Role(membership.role)
        _check_may_grant(caller, old)
        _check_may_grant(caller, role)
        if old == Role.OWNER and role != Role.OWNER:
            _keep_an_owner(caller, membership)
        if old != role:
            membership.role = role
            membership.save(update_fields=["role"])
            log_action(
                "member.role_changed",
                organization=caller.organization,
                target=membership,
                data={"email": membership.user.email, "from": old, "to": role},
            )
    return membership


def remove_member(caller: Caller, membership_id: int) -> None:
    caller.require(Permission.MEMBERS_MANAGE)
    with transaction.atomic():
        membership = _member(caller, membership_id)
        _check_may_grant(caller, Role(membership.role))
        if membership.role == Role.OWNER:
            _keep_an_owner(caller, membership)
        log_action(
            "member.removed",
            organization=caller.organization,
            target=membership,
            data={"email": membership.user.email, "role": membership.role},
        )
        membership.delete()


def log_action(action: str, **fields: Any) -> None:
    from slotwise.audit.services import log_action as log

    log(action, **fields)


def _member(caller: Caller, membership_id: int) -> Membership:
    membership = (
        Membership.objects.select_for_update()
        .select_related("user")
        .filter(organization=caller.organization, pk=membership_id)
        .first()
    )
    if membership is None:
        raise MemberNotFound(f"There is no member {membership_id}.")
    return membership


def _check_may_grant(caller: Caller, role: Role) -> None:
    if role == Role.OWNER and caller.role != Role.OWNER:
        raise Forbidden("Only an owner may make, change or remove owners.")


def _keep_an_owner(caller: Caller, leaving: Membership) -> None:
    owners = Membership.objects.select_for_update().filter(
        organization=caller.organization, role=Role.OWNER
    )
    if not owners.exclude(pk=leaving.pk).exists():
        raise LastOwner("The organization needs another owner first.")


def _send_invitation(invitation: Invitation, token: str, site: str) -> None:
    link = site.rstrip("/") + reverse("accept_invitation", args=[token])
    send_mail(
        f"[slotwise] Join {invitation.organization.name}",
        f"You are invited to join {invitation.organization.name} on slotwise as "
        f"{invitation.role}.\n\nAccept within 7 days: {link}\n\n"
        "If you did not expect this, ignore this message.",
        None,
        [invitation.email],
    )


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
