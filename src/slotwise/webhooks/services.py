"""An organization's webhook endpoints: registering, changing, removing one, a new
secret, and the log of its deliveries.

Every change is written to the audit log in its own transaction, never with
the secret. Lookups name the organization, so another organization's
endpoint is :class:`WebhookNotFound`, as a missing one is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import transaction
from django.utils import timezone

from slotwise.audit.services import log_action
from slotwise.notifications.models import Message, MessageKind
from slotwise.organizations.models import Organization
from slotwise.webhooks.models import WebhookEndpoint, new_secret

__all__ = [
    "DeliveryPage",
    "WebhookNotFound",
    "create_endpoint",
    "delete_endpoint",
    "deliveries",
    "endpoint_of",
    "rotate_secret",
    "update_endpoint",
]

CHANGEABLE = ("url", "events", "description", "active")


class WebhookNotFound(LookupError):
    """No endpoint with that id in the organization."""


def endpoint_of(organization: Organization, endpoint_id: int) -> WebhookEndpoint:
    """``organization``'s endpoint ``endpoint_id``, or :class:`WebhookNotFound`."""
    endpoint = WebhookEndpoint.objects.filter(organization=organization, pk=endpoint_id).first()
    if endpoint is None:
        raise WebhookNotFound(f"There is no webhook endpoint {endpoint_id}.")
    return endpoint


def create_endpoint(
    organization: Organization,
    *,
    url: str,
    events: Sequence[str] = (),
    description: str = "",
    active: bool = True,
    now: datetime | None = None,
) -> WebhookEndpoint:
    """Register ``url`` for ``events`` (none: every event) with a new secret.

    The secret is on the returned endpoint; show it to whoever asked, once.
    An unfit URL or unknown event type raises Django's ``ValidationError``.

        >>> endpoint = create_endpoint(org, url="https://hooks.example.com/slotwise",
        ...                            events=["booking.created", "booking.cancelled"])
        >>> endpoint.secret
        'q3V1...'
    """
    endpoint = WebhookEndpoint(
        organization=organization,
        url=url,
        events=list(events),
        description=description,
        active=active,
        created_at=now or timezone.now(),
    )
    endpoint.full_clean()
    with transaction.atomic():
        endpoint.save()
        _log("webhook.created", endpoint, now)
    return endpoint


def update_endpoint(
    organization: Organization,
    endpoint_id: int,
    changes: dict[str, Any],
    *,
    now: datetime | None = None,
) -> WebhookEndpoint:
    """Change any of ``url``, ``events``, ``description`` and ``active``.

    Deliveries already planned go to the endpoint as it is when they are
    sent: the new URL, signed with the current secret; none while it is
    inactive (they are skipped).
    """
    unknown = set(changes) - set(CHANGEABLE)
    if unknown:
        raise ValueError(f"Cannot change {', '.join(sorted(unknown))} of an endpoint.")
    if not changes:
        return endpoint_of(organization, endpoint_id)
    with transaction.atomic():
        endpoint = _locked(organization, endpoint_id)
        for field, value in changes.items():
            setattr(endpoint, field, list(value) if field == "events" else value)
        endpoint.full_clean()
        endpoint.save(update_fields=list(changes))
        _log("webhook.updated", endpoint, now, changed=sorted(changes))
    return endpoint


def delete_endpoint(
    organization: Organization, endpoint_id: int, *, now: datetime | None = None
) -> None:
    """Remove the endpoint: nothing more is posted to it, what was planned is
    skipped. Its deliveries stay in each booking's messages."""
    with transaction.atomic():
        endpoint = _locked(organization, endpoint_id)
        _log("webhook.deleted", endpoint, now)
        endpoint.delete()


def rotate_secret(
    organization: Organization, endpoint_id: int, *, now: datetime | None = None
) -> WebhookEndpoint:
    """Give the endpoint a new secret (on the returned endpoint, to be shown once);
    from now on every attempt, retries included, is signed with it."""
    with transaction.atomic():
        endpoint = _locked(organization, endpoint_id)
        endpoint.secret = new_secret()
        endpoint.save(update_fields=["secret"])
        _log("webhook.secret_rotated", endpoint, now)
    return endpoint


@dataclass(frozen=True, slots=True)
class DeliveryPage:
    deliveries: list[Message]
    next: str | None
    """The cursor of the next page; none after the last."""


def deliveries(endpoint: WebhookEndpoint, *, limit: int, cursor: str | None = None) -> DeliveryPage:
    """The endpoint's deliveries, newest first, at most ``limit`` after ``cursor``
    (a page's ``next``: the id of the last delivery shown). Resent copies are
    deliveries too."""
    rows = Message.objects.filter(
        organization_id=endpoint.organization_id,
        kind=MessageKind.WEBHOOK,
        recipient=endpoint.recipient,
    )
    if cursor is not None:
        rows = rows.filter(pk__lt=int(cursor))
    found = list(rows.order_by("-pk")[: limit + 1])
    page = found[:limit]
    return DeliveryPage(page, str(page[-1].pk) if len(found) > limit else None)


def _locked(organization: Organization, endpoint_id: int) -> WebhookEndpoint:
    endpoint = (
        WebhookEndpoint.objects.select_for_update()
        .filter(organization=organization, pk=endpoint_id)
        .first()
    )
    if endpoint is None:
        raise WebhookNotFound(f"There is no webhook endpoint {endpoint_id}.")
    return endpoint


def _log(action: str, endpoint: WebhookEndpoint, now: datetime | None, **extra: Any) -> None:
    """The audit entry: where and what, never the secret."""
    log_action(
        action,
        organization=endpoint.organization_id,
        target=endpoint,
        data={
            "url": endpoint.url,
            "events": endpoint.events,
            "active": endpoint.active,
            **extra,
        },
        now=now,
    )
