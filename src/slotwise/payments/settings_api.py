"""How an organization takes payment: ``GET``/``PATCH /api/v1/staff/payments/settings``."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from ninja import Schema
from pydantic import Field

from slotwise.accounts.access import Caller
from slotwise.accounts.permissions import Permission
from slotwise.api.problems import Problem, ValidationProblem, problem_response
from slotwise.audit.services import log_action
from slotwise.organizations.auth import StaffRouter, requires
from slotwise.payments import providers

router = StaffRouter(tags=["staff: payments"])

ERRORS = {400: Problem, 401: Problem, 403: Problem, 422: ValidationProblem}


class ProviderOut(Schema):
    name: str
    label: str
    online: bool
    configured: bool = Field(description="Whether this deployment has what it needs (keys).")


class SettingsOut(Schema):
    provider: str
    providers: list[ProviderOut]


class SettingsIn(Schema):
    provider: str = Field(max_length=32, description="The name of one of the providers.")


@router.get("/payments/settings", response={200: SettingsOut, **ERRORS}, summary="Payment settings")
@requires(Permission.PAYMENTS_MANAGE)
def read_settings(request: HttpRequest) -> Any:
    caller: Caller = request.auth
    return _settings(caller.organization.payment_provider)


@router.patch(
    "/payments/settings",
    response={200: SettingsOut, **ERRORS},
    summary="Choose how to take payment",
)
@requires(Permission.PAYMENTS_MANAGE)
def update_settings(request: HttpRequest, data: SettingsIn) -> Any:
    """Choose the provider of services that ask for payment. An online provider must
    be configured in this deployment (Stripe: ``SLOTWISE_STRIPE_*``). Bookings
    already made keep the provider they were paid with."""
    caller: Caller = request.auth
    if data.provider not in providers.names():
        return problem_response(
            400, "invalid-provider", "Unknown provider", f"{data.provider!r} is not a provider."
        )
    if not providers.get(data.provider).configured():
        return problem_response(
            400,
            "provider-not-configured",
            "Provider not configured",
            f"{data.provider} is not set up in this deployment (see docs/payments.md).",
        )
    organization = caller.organization
    with transaction.atomic():
        old = organization.payment_provider
        organization.payment_provider = data.provider
        organization.save(update_fields=["payment_provider"])
        log_action(
            "organization.payment_provider_changed",
            organization=organization,
            target=organization,
            data={"old": old, "new": data.provider},
            now=timezone.now(),
        )
    return _settings(data.provider)


def _settings(current: str) -> dict[str, Any]:
    return {
        "provider": current,
        "providers": [
            {
                "name": name,
                "label": provider.label,
                "online": provider.online,
                "configured": provider.configured(),
            }
            for name in providers.names()
            for provider in [providers.get(name)]
        ],
    }
