"""Staff endpoints are authorised by an organization API key: ``Authorization: Bearer <key>``.

A :class:`StaffRouter` needs a valid key on every operation and sets
``request.auth`` to the key's :class:`Organization`, so a handler scopes
everything it touches to ``request.auth``. Without a valid key the answer is
a 401 problem, ``urn:slotwise:problem:unauthorized``, with a
``WWW-Authenticate: Bearer`` header (RFC 6750); see
:func:`slotwise.api.problems.unauthorized`.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from ninja import Router
from ninja.security import HttpBearer

from slotwise.organizations.models import Organization
from slotwise.organizations.services import organization_for_api_key

__all__ = ["ApiKeyAuth", "StaffRouter", "staff_auth"]


class ApiKeyAuth(HttpBearer):
    """Bearer authentication with an organization API key; ``request.auth`` is the
    organization."""

    openapi_bearerFormat = "sw_<prefix>_<secret>"
    openapi_description = (
        "An organization API key (`slotwise api-key ORG_SLUG NAME` issues one). "
        "Everything the request reads or changes belongs to that organization."
    )

    def authenticate(self, request: HttpRequest, token: str) -> Organization | None:
        return organization_for_api_key(token, now=timezone.now())


staff_auth = ApiKeyAuth()


class StaffRouter(Router):
    """A router whose every operation needs an organization API key (:data:`staff_auth`)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(auth=staff_auth, **kwargs)
