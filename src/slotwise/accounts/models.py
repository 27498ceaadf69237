"""Users and their roles in organizations.

A user signs in with an email address (no user name). The same account may
be a member of several organizations, in one :class:`Role` each, and may also
have booked as a customer anywhere.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from slotwise.accounts.permissions import Role
from slotwise.organizations.models import Organization

__all__ = ["EmailUserManager", "Membership", "Role", "User"]


class EmailUserManager(UserManager["User"]):
    """``create_user(email, password)``: the email is the login."""

    def _create_user_object(  # type: ignore[override]
        self, email: str, password: str | None, **extra_fields: Any
    ) -> User:
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.password = ""
        user.set_password(password)
        return user

    def _create_user(  # type: ignore[override]
        self, email: str, password: str | None, **extra_fields: Any
    ) -> User:
        user = self._create_user_object(email, password, **extra_fields)
        user.save(using=self._db)
        return user

    def create_user(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> User:
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(  # type: ignore[override]
        self, email: str, password: str | None = None, **extra_fields: Any
    ) -> User:
        extra_fields.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    """A person who signs in. ``email`` is unique regardless of case."""

    username = None  # type: ignore[assignment]
    first_name = None  # type: ignore[assignment]
    last_name = None  # type: ignore[assignment]
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField("email address", unique=True)

    USERNAME_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    objects = EmailUserManager()  # type: ignore[misc]

    class Meta:
        constraints = (models.UniqueConstraint(Lower("email"), name="user_email_unique_ci"),)

    def __str__(self) -> str:
        return self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email


class Membership(models.Model):
    """``user`` works for ``organization`` as ``role``."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=16, choices=Role)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    notify_own_bookings = models.BooleanField(
        default=True,
        help_text="Email me new, cancelled and moved bookings of the resources that are me.",
    )
    notify_all_bookings = models.BooleanField(
        default=False, help_text="Email me new, cancelled and moved bookings of everyone."
    )
    daily_agenda = models.BooleanField(
        default=False, help_text="Email me each morning the day's bookings of my resources."
    )

    class Meta:
        constraints = (
            models.UniqueConstraint(fields=("organization", "user"), name="membership_once"),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="membership_role_known"
            ),
        )

    def __str__(self) -> str:
        return f"{self.user} ({self.role} of {self.organization})"


class Invitation(models.Model):
    """An invitation, sent by email, to join ``organization`` as ``role``.

    Only the SHA-256 of its secret token is kept; the link in the email holds
    the token itself. Whoever opens it must be signed in with ``email``
    verified to accept it.
    """

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="invitations"
    )
    email = models.EmailField()
    role = models.CharField(max_length=16, choices=Role)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = (
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="invitation_role_known"
            ),
        )

    def __str__(self) -> str:
        return f"{self.email} to {self.organization} as {self.role}"
