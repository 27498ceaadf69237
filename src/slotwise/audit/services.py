"""Writing the audit log.

Every operation that changes bookings, access or accounts calls
:func:`log_action` once per thing it did, inside its own transaction: if the
change rolls back, so does its entry. Who acted and from where come from
:mod:`slotwise.audit.context` unless the caller says.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from django.db import models
from django.utils import timezone

from slotwise.audit import context
from slotwise.audit.models import AuditEntry

__all__ = ["SECRET_WORDS", "log_action"]

SECRET_WORDS = ("password", "secret", "token", "hash")
"""``data`` may have no key containing one of these words: the log never keeps credentials."""

_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+")


def log_action(
    action: str,
    *,
    organization: Any = None,
    target: models.Model | None = None,
    data: Mapping[str, Any] | None = None,
    actor: str | None = None,
    user: Any = None,
    now: datetime | None = None,
) -> AuditEntry:
    """Record that ``action`` was done (to ``target``, in ``organization``) and return the entry.

    ``action`` is dotted, subject first: ``booking.cancelled``,
    ``api_key.issued``, ``account.signed_in``. ``organization`` is an
    organization or its id; none for an account-level action. ``data`` holds
    the details, JSON (dates become ISO 8601 strings), and never a password,
    token, key or hash (a key naming one raises ``ValueError``). The actor is
    ``actor`` (with ``user`` if a user acts), else ``user`` if given
    (``user:<id>``), else the context's: the signed-in user, API key or
    ``system``, and ``anonymous`` in a request by someone not signed in. The
    address and user agent are the context's. ``now`` defaults to the clock.

    The entry is written in the caller's transaction:

        >>> with transaction.atomic():
        ...     membership.role = Role.ADMIN
        ...     membership.save(update_fields=["role"])
        ...     log_action("member.role_changed", organization=membership.organization_id,
        ...                target=membership, data={"old": "staff", "new": "admin"})
        <AuditEntry: member.role_changed by user:7 at 2026-06-01T09:00:00.123456+00:00>
    """
    if not _ACTION.fullmatch(action) or len(action) > 64:
        raise ValueError(f"{action!r} is not a dotted action name such as 'booking.cancelled'.")
    details = dict(data or {})
    _refuse_secrets(details)
    origin = context.current()
    if actor is None:
        if user is not None:
            actor = f"user:{user.pk}"
        else:
            actor, user = origin.who()
    if isinstance(organization, models.Model):
        organization = organization.pk
    target_type, target_id = "", ""
    if target is not None:
        target_type, target_id = target._meta.model_name or "", str(target.pk)
    return AuditEntry.objects.create(
        organization_id=organization,
        at=now or timezone.now(),
        actor=actor or context.ANONYMOUS,
        user=user,
        action=action,
        target_type=target_type,
        target_id=target_id,
        data=details,
        ip=origin.ip,
        user_agent=origin.user_agent,
    )


def _refuse_secrets(data: Mapping[str, Any]) -> None:
    for key, value in data.items():
        if any(word in str(key).lower() for word in SECRET_WORDS):
            raise ValueError(f"An audit entry may not hold {key!r}.")
        if isinstance(value, Mapping):
            _refuse_secrets(value)
