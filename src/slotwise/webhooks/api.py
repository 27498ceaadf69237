"""``/api/v1/staff/webhooks``: the organization's webhook endpoints, for owners and admins.

A secret is shown whole once, in the answer that makes it (creating the
endpoint, or rotating its secret); afterwards only its first characters
(``secret_hint``). ``GET .../{id}/deliveries`` is the delivery log.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.utils import timezone
from ninja import Field, Path, Query, Schema, Status

from slotwise.accounts.permissions import Permission
from slotwise.api.problems import Problem, ValidationProblem, problem_response
from slotwise.notifications.models import Message, MessageStatus
from slotwise.organizations.auth import StaffRouter, requires
from slotwise.webhooks import services
from slotwise.webhooks.models import WebhookEndpoint
from slotwise.webhooks.validators import EVENT_TYPES, MAX_URL_LENGTH

__all__ = ["DEFAULT_LIMIT", "MAX_LIMIT", "router"]

router = StaffRouter(tags=["staff: webhooks"])

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
READ = {401: Problem, 403: Problem, 422: ValidationProblem}
ACT = {**READ, 400: Problem, 404: Problem}
EVENTS_HELP = f"Any of {', '.join(EVENT_TYPES)}; none (the default) means every one."


class WebhookIn(Schema):
    url: str = Field(
        max_length=MAX_URL_LENGTH,
        description="https:// (http:// only for localhost and 127.0.0.1), no user name.",
    )
    events: list[str] = Field(default=[], description=EVENTS_HELP)
    description: str = Field(default="", max_length=200)
    active: bool = True


class WebhookPatch(Schema):
    url: str | None = Field(default=None, max_length=MAX_URL_LENGTH)
    events: list[str] | None = Field(default=None, description=EVENTS_HELP)
    description: str | None = Field(default=None, max_length=200)
    active: bool | None = None


class WebhookOut(Schema):
    id: int
    url: str
    description: str
    events: list[str] = Field(description="Empty: every event.")
    active: bool
    secret_hint: str = Field(description="The secret's first characters, to tell it apart.")
    created_at: datetime


class WebhookWithSecretOut(WebhookOut):
    secret: str = Field(
        description="The signing secret: shown this once. Keep it where the receiver runs."
    )


class DeliveryOut(Schema):
    id: int = Field(description="The message's id (POST /staff/messages/{id}/resend).")
    webhook_id: str = Field(description="Its Webhook-Id header, the same on every attempt.")
    type: str = Field(description="The event: booking.created ...")
    booking_id: int
    status: str = Field(description="pending, sending, sent, failed or skipped.")
    attempts: int
    last_error: str
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None


class DeliveryPageOut(Schema):
    deliveries: list[DeliveryOut] = Field(description="Newest first.")
    next: str | None = Field(description="The cursor of the next page; none after the last.")


@router.get("", response={200: list[WebhookOut], **READ}, summary="Webhook endpoints")
@requires(Permission.WEBHOOKS_MANAGE)
def list_webhooks(request: HttpRequest) -> list[dict[str, Any]]:
    endpoints = WebhookEndpoint.objects.filter(organization=request.auth.organization)
    return [_endpoint(e) for e in endpoints.order_by("pk")]


@router.post("", response={201: WebhookWithSecretOut, **ACT}, summary="Add a webhook endpoint")
@requires(Permission.WEBHOOKS_MANAGE)
def create_webhook(request: HttpRequest, payload: WebhookIn) -> Any:
    """Post the organization's booking events to ``url``, signed with a new
    secret, which this answer shows the only time. ``400 invalid-webhook`` for
    an unfit URL or an unknown event type."""
    try:
        endpoint = services.create_endpoint(
            request.auth.organization,
            url=payload.url,
            events=payload.events,
            description=payload.description,
            active=payload.active,
            now=timezone.now(),
        )
    except ValidationError as error:
        return _invalid(error)
    return Status(201, {**_endpoint(endpoint), "secret": endpoint.secret})


@router.get("/{webhook_id}", response={200: WebhookOut, **ACT}, summary="A webhook endpoint")
@requires(Permission.WEBHOOKS_MANAGE)
def read_webhook(request: HttpRequest, webhook_id: IdPath) -> Any:
    try:
        return _endpoint(services.endpoint_of(request.auth.organization, webhook_id))
    except services.WebhookNotFound as error:
        return _not_found(error)


@router.patch(
    "/{webhook_id}", response={200: WebhookOut, **ACT}, summary="Change a webhook endpoint"
)
@requires(Permission.WEBHOOKS_MANAGE)
def update_webhook(request: HttpRequest, webhook_id: IdPath, payload: WebhookPatch) -> Any:
    """Change what is given of ``url``, ``events``, ``description`` and ``active``.
    An inactive endpoint gets nothing; what was planned for it is skipped."""
    changes = payload.model_dump(exclude_unset=True, exclude_none=True)
    try:
        endpoint = services.update_endpoint(
            request.auth.organization, webhook_id, changes, now=timezone.now()
        )
    except services.WebhookNotFound as error:
        return _not_found(error)
    except ValidationError as error:
        return _invalid(error)
    return _endpoint(endpoint)


@router.delete(
    "/{webhook_id}",
    response={204: None, **ACT},
    summary="Remove a webhook endpoint",
)
@requires(Permission.WEBHOOKS_MANAGE)
def delete_webhook(request: HttpRequest, webhook_id: IdPath) -> Any:
    """Nothing more is posted to it; deliveries still planned are skipped. Its past
    deliveries stay in each booking's messages. (To pause it, PATCH
    ``{"active": false}`` instead.)"""
    try:
        services.delete_endpoint(request.auth.organization, webhook_id, now=timezone.now())
    except services.WebhookNotFound as error:
        return _not_found(error)
    return Status(204, None)


@router.post(
    "/{webhook_id}/rotate-secret",
    response={200: WebhookWithSecretOut, **ACT},
    summary="Give a webhook endpoint a new secret",
)
@requires(Permission.WEBHOOKS_MANAGE)
def rotate_webhook_secret(request: HttpRequest, webhook_id: IdPath) -> Any:
    """A new secret, shown this once; from now on every request, retries of
    earlier events included, is signed with it, and the old one is void."""
    try:
        endpoint = services.rotate_secret(request.auth.organization, webhook_id, now=timezone.now())
    except services.WebhookNotFound as error:
        return _not_found(error)
    return {**_endpoint(endpoint), "secret": endpoint.secret}


@router.get(
    "/{webhook_id}/deliveries",
    response={200: DeliveryPageOut, **ACT},
    summary="A webhook endpoint's deliveries",
)
@requires(Permission.WEBHOOKS_MANAGE)
def list_deliveries(
    request: HttpRequest,
    webhook_id: IdPath,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, Query(pattern=r"^[1-9][0-9]{0,18}$", description="A page's `next`.")
    ] = None,
) -> Any:
    """Each event posted (or to be posted) to the endpoint, newest first: its
    status (``failed`` after the last attempt, ``skipped`` if the endpoint was
    inactive when it was due), attempts and last error. At most ``limit``;
    when more follow, ``next`` is the ``cursor`` that asks for them."""
    try:
        endpoint = services.endpoint_of(request.auth.organization, webhook_id)
    except services.WebhookNotFound as error:
        return _not_found(error)
    page = services.deliveries(endpoint, limit=limit, cursor=cursor)
    return {"deliveries": [_delivery(m) for m in page.deliveries], "next": page.next}


def _endpoint(endpoint: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": endpoint.pk,
        "url": endpoint.url,
        "description": endpoint.description,
        "events": endpoint.events,
        "active": endpoint.active,
        "secret_hint": endpoint.secret_hint,
        "created_at": endpoint.created_at,
    }


def _delivery(message: Message) -> dict[str, Any]:
    return {
        "id": message.pk,
        "webhook_id": message.message_id,
        "type": message.context.get("type", ""),
        "booking_id": message.booking_id,
        "status": message.status,
        "attempts": message.attempts,
        "last_error": message.last_error,
        "created_at": message.created_at,
        "next_attempt_at": message.next_attempt_at
        if message.status in (MessageStatus.PENDING, MessageStatus.SENDING)
        else None,
        "sent_at": message.sent_at,
    }


def _invalid(error: ValidationError) -> Any:
    detail = " ".join(" ".join(messages) for messages in error.message_dict.values())
    return problem_response(400, "invalid-webhook", "Invalid webhook endpoint", detail)


def _not_found(error: Exception) -> Any:
    return problem_response(404, "not-found", "Not found", str(error))
