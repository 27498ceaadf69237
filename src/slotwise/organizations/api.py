"""``/api/v1/staff/api-keys``: an organization's API keys, for owners and admins.

A new key is shown once, in the answer that issues it; listings show its
prefix, scopes, expiry and last use, never the key or its hash.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Schema, Status

from slotwise.accounts.permissions import API_KEY_SCOPES, Permission
from slotwise.api.problems import Problem, ValidationProblem, problem_response
from slotwise.organizations.auth import StaffRouter, requires
from slotwise.organizations.models import ApiKey
from slotwise.organizations.services import ApiKeyNotFound, issue_api_key, revoke_api_key

router = StaffRouter(tags=["staff: API keys"])

PrefixPath = Annotated[str, Path(pattern=r"^[0-9a-f]{8,16}$")]
READ = {401: Problem, 403: Problem}
ACT = {**READ, 400: Problem, 404: Problem, 422: ValidationProblem}


class ApiKeyIn(Schema):
    name: str = Field(max_length=100)
    scopes: list[str] = Field(default=["read"], description=f"Any of: {', '.join(API_KEY_SCOPES)}.")
    expires_at: datetime | None = Field(
        default=None, description="ISO 8601 with an offset; none: 365 days from now."
    )
    never_expires: bool = False


class ApiKeyOut(Schema):
    prefix: str
    name: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class IssuedApiKeyOut(ApiKeyOut):
    key: str = Field(description="The key itself: shown this once, stored nowhere.")


@router.get("", response={200: list[ApiKeyOut], **READ}, summary="API keys")
@requires(Permission.API_KEYS_MANAGE)
def list_api_keys(request: HttpRequest) -> list[dict[str, Any]]:
    keys = ApiKey.objects.filter(organization=request.auth.organization)
    return [_api_key(k) for k in keys.order_by("-created_at", "-pk")]


@router.post("", response={201: IssuedApiKeyOut, **ACT}, summary="Issue an API key")
@requires(Permission.API_KEYS_MANAGE)
def create_api_key(request: HttpRequest, payload: ApiKeyIn) -> Any:
    expires_at: Any = None if payload.never_expires else payload.expires_at or "default"
    try:
        api_key, key = issue_api_key(
            request.auth.organization,
            payload.name,
            scopes=payload.scopes,
            expires_at=expires_at,
            now=timezone.now(),
        )
    except ValidationError as error:
        detail = " ".join(" ".join(m) for m in error.message_dict.values())
        return problem_response(400, "invalid-api-key", "Invalid API key", detail)
    return Status(201, {**_api_key(api_key), "key": key})


@router.delete("/{prefix}", response={200: ApiKeyOut, **ACT}, summary="Revoke an API key")
@requires(Permission.API_KEYS_MANAGE)
def delete_api_key(request: HttpRequest, prefix: PrefixPath) -> Any:
    """Refuse the key from now on; it stays listed, revoked, for the record."""
    try:
        api_key = revoke_api_key(request.auth.organization, prefix, now=timezone.now())
    except ApiKeyNotFound as error:
        return problem_response(404, "not-found", "Not found", str(error))
    return _api_key(api_key)


def _api_key(api_key: ApiKey) -> dict[str, Any]:
    return {
        "prefix": api_key.prefix,
        "name": api_key.name,
        "scopes": api_key.scopes,
        "created_at": api_key.created_at,
        "expires_at": api_key.expires_at,
        "last_used_at": api_key.last_used_at,
        "revoked_at": api_key.revoked_at,
    }
