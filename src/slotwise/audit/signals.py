"""Receivers that log account events: signing in and out, failed sign-ins, sign-ups,
password changes and resets, confirmed addresses, two-factor authenticators.

They are account-level: no organization. The account is the ``target``.
Whoever signs in, out or changes their password is the actor; for the rest
the context says (``anonymous`` for someone not signed in, such as whoever
follows a password reset link).
"""

from __future__ import annotations

from typing import Any

from allauth.account import signals as account
from allauth.mfa import signals as mfa
from django.contrib.auth import signals as auth
from django.dispatch import receiver

from slotwise.audit.services import log_action

EMAIL_LENGTH = 254
_LOGIN_FIELDS = ("email", "login", "username")
_RECOVERY_CODES = "recovery_codes"


@receiver(auth.user_logged_in, dispatch_uid="slotwise-audit-signed-in")
def _signed_in(sender: Any, user: Any, **kwargs: Any) -> None:
    log_action("account.signed_in", target=user, user=user)


@receiver(auth.user_logged_out, dispatch_uid="slotwise-audit-signed-out")
def _signed_out(sender: Any, user: Any = None, **kwargs: Any) -> None:
    if user is not None:
        log_action("account.signed_out", target=user, user=user)


@receiver(auth.user_login_failed, dispatch_uid="slotwise-audit-sign-in-failed")
def _sign_in_failed(sender: Any, credentials: dict[str, Any], **kwargs: Any) -> None:
    # Only the name tried: Django masks the password, and it is not kept even so.
    tried = next((str(credentials[f]) for f in _LOGIN_FIELDS if credentials.get(f)), "")
    log_action("account.sign_in_failed", data={"email": tried[:EMAIL_LENGTH]})


@receiver(account.user_signed_up, dispatch_uid="slotwise-audit-signed-up")
def _signed_up(sender: Any, user: Any, **kwargs: Any) -> None:
    log_action("account.signed_up", target=user)


# Sent after allauth signed the user out (ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE),
# so the user is named rather than taken from the request.
@receiver(account.password_changed, dispatch_uid="slotwise-audit-password-changed")
def _password_changed(sender: Any, user: Any, **kwargs: Any) -> None:
    log_action("account.password_changed", target=user, user=user)


@receiver(account.password_set, dispatch_uid="slotwise-audit-password-set")
def _password_set(sender: Any, user: Any, **kwargs: Any) -> None:
    log_action("account.password_set", target=user, user=user)


@receiver(account.password_reset, dispatch_uid="slotwise-audit-password-reset")
def _password_reset(sender: Any, user: Any, **kwargs: Any) -> None:
    log_action("account.password_reset", target=user)


@receiver(account.email_confirmed, dispatch_uid="slotwise-audit-email-confirmed")
def _email_confirmed(sender: Any, email_address: Any, **kwargs: Any) -> None:
    log_action(
        "account.email_confirmed",
        target=email_address.user,
        data={"email": email_address.email[:EMAIL_LENGTH]},
    )


@receiver(mfa.authenticator_added, dispatch_uid="slotwise-audit-mfa-added")
def _authenticator_added(sender: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    kind = authenticator.type
    if kind == _RECOVERY_CODES:  # made along with the first authenticator app
        log_action("account.recovery_codes_generated", target=user, data={"type": kind})
    else:
        log_action("account.mfa_activated", target=user, data={"type": kind})


@receiver(mfa.authenticator_removed, dispatch_uid="slotwise-audit-mfa-removed")
def _authenticator_removed(sender: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    log_action("account.mfa_deactivated", target=user, data={"type": authenticator.type})


@receiver(mfa.authenticator_reset, dispatch_uid="slotwise-audit-mfa-reset")
def _authenticator_reset(sender: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    log_action("account.recovery_codes_generated", target=user, data={"type": authenticator.type})


@receiver(mfa.authentication_failed, dispatch_uid="slotwise-audit-mfa-failed")
def _second_factor_failed(sender: Any, user: Any, authenticator: Any, **kwargs: Any) -> None:
    log_action("account.mfa_failed", target=user, data={"type": authenticator.type})
