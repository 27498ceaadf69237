"""Organization API keys: issuing one, revoking it, and finding whose a key is.

A key looks like ``sw_1f0c9a2b7d3e_<43 characters>``: a public ``prefix``
that finds its row in one indexed lookup, and a secret of 256 random bits.
Only the SHA-256 of the whole key is stored. A fast hash is right here, unlike
for passwords: the key is random, so there is nothing to guess from its hash.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from slotwise.audit.services import log_action
from slotwise.organizations.models import ApiKey, Organization

__all__ = [
    "DEFAULT_API_KEY_LIFETIME",
    "LAST_USED_PRECISION",
    "ApiKeyNotFound",
    "api_key_for",
    "issue_api_key",
    "organization_for_api_key",
    "revoke_api_key",
]

DEFAULT_API_KEY_LIFETIME = timedelta(days=365)
"""A key expires this long after it is issued, unless told otherwise."""

LAST_USED_PRECISION = timedelta(hours=1)
"""``last_used_at`` is rewritten at most this often, so that most requests
cost the one query that finds the key."""

_PREFIX_BYTES = 6
_PREFIX_ATTEMPTS = 3
_KEY = re.compile(r"sw_(?P<prefix>[0-9a-f]{8,16})_(?P<secret>[A-Za-z0-9_-]{32,128})")


class ApiKeyNotFound(LookupError):
    """No key with that prefix in the organization."""


def issue_api_key(
    organization: Organization,
    name: str,
    *,
    scopes: Sequence[str] = ("read",),
    expires_at: datetime | Literal["default"] | None = "default",
    now: datetime | None = None,
) -> tuple[ApiKey, str]:
    """A new key for ``organization``: the row, and the key itself.

    The key is returned this once and stored nowhere; whoever asked for it
    must keep it. ``name`` says who holds it ("Front desk tablet"); ``scopes``
    what it may do (see :mod:`slotwise.accounts.permissions`); it expires
    :data:`DEFAULT_API_KEY_LIFETIME` from ``now`` unless ``expires_at`` says
    when (``None``: never). A blank name, an unknown scope or an expiry in
    the past raises Django's ``ValidationError``.

        >>> api_key, key = issue_api_key(org, "Booking widget", scopes=["bookings:write"])
        >>> key
        'sw_1f0c9a2b7d3e_Zr6...'
    """
    now = now or timezone.now()
    if expires_at == "default":
        expires_at = now + DEFAULT_API_KEY_LIFETIME
    elif expires_at is not None and expires_at <= now:
        raise ValidationError({"expires_at": "The key would have expired already."})
    fields = {"name": name, "scopes": list(scopes), "expires_at": expires_at, "created_at": now}
    # Another key may have drawn the same prefix; then draw again.
    for _ in range(_PREFIX_ATTEMPTS - 1):
        with contextlib.suppress(IntegrityError):
            return _new_key(organization, fields)
    return _new_key(organization, fields)


def revoke_api_key(
    organization: Organization, prefix: str, *, now: datetime | None = None
) -> ApiKey:
    """Refuse the key with ``prefix`` from now on; revoking it again changes nothing.

    Raises :class:`ApiKeyNotFound` if ``organization`` has no such key.
    """
    now = now or timezone.now()
    with transaction.atomic():
        api_key = (
            ApiKey.objects.select_for_update()
            .filter(organization=organization, prefix=prefix)
            .first()
        )
        if api_key is None:
            raise ApiKeyNotFound(f"There is no API key {prefix!r}.")
        if api_key.revoked_at is None:
            api_key.revoked_at = now
            api_key.save(update_fields=["revoked_at"])
            log_action(
                "api_key.revoked",
                organization=organization,
                target=api_key,
                data=_audit_facts(api_key),
                now=now,
            )
    return api_key


def organization_for_api_key(key: str, *, now: datetime | None = None) -> Organization | None:
    """The organization ``key`` belongs to, or ``None`` (see :func:`api_key_for`)."""
    api_key = api_key_for(key, now=now)
    return None if api_key is None else api_key.organization


def api_key_for(key: str, *, now: datetime | None = None) -> ApiKey | None:
    """The key's row, with its organization, or ``None`` for a malformed, unknown,
    expired or revoked key.

    One query (the key and its organization), plus one write when the key's
    ``last_used_at`` is older than :data:`LAST_USED_PRECISION`.
    """
    match = _KEY.fullmatch(key)
    if match is None:
        return None
    now = now or timezone.now()
    api_key = (
        ApiKey.objects.select_related("organization")
        .filter(prefix=match["prefix"], revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if api_key is None or not hmac.compare_digest(api_key.secret_hash, _hash(key)):
        return None
    stale = now - LAST_USED_PRECISION
    if api_key.last_used_at is None or api_key.last_used_at < stale:
        # Conditional, so that concurrent requests write once between them.
        ApiKey.objects.filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lt=stale), pk=api_key.pk
        ).update(last_used_at=now)
        api_key.last_used_at = now
    return api_key


def _new_key(organization: Organization, fields: dict[str, Any]) -> tuple[ApiKey, str]:
    prefix = secrets.token_hex(_PREFIX_BYTES)
    key = f"sw_{prefix}_{secrets.token_urlsafe(32)}"
    api_key = ApiKey(organization=organization, prefix=prefix, secret_hash=_hash(key), **fields)
    api_key.full_clean(validate_unique=False)
    with transaction.atomic():
        api_key.save()
        log_action(
            "api_key.issued",
            organization=organization,
            target=api_key,
            data=_audit_facts(api_key),
            now=api_key.created_at,
        )
    return api_key, key


def _audit_facts(api_key: ApiKey) -> dict[str, object]:
    """What the audit log keeps of a key: never the key, nor its hash."""
    return {
        "prefix": api_key.prefix,
        "name": api_key.name,
        "scopes": api_key.scopes,
        "expires_at": api_key.expires_at,
    }


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()
