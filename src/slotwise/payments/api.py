"""Payments over the API: the providers' webhooks, and what staff see and do.

* ``POST /api/v1/payments/webhooks/{provider}``: the provider's notification.
  Its signature is verified (a forged, replayed or unreadable one is ``400``
  and logged); each event is handled once, by its id; the payment it names is
  re-read from the provider, so events may come in any order.
* ``GET /api/v1/staff/bookings/{id}/payments``: a booking's payments, ledger
  and what cancelling it now would refund.
* ``POST /api/v1/staff/bookings/{id}/payments/received``: money taken at the
  venue.
* ``GET /api/v1/staff/payments/attention``: refunds and fees that failed.
* ``POST /api/v1/staff/payments/entries/{id}/retry``: try a failed one again.
* ``GET /api/v1/staff/payments/export``: the ledger as CSV, for reconciliation.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Path, Query, Router, Schema, Status
from pydantic import Field

from slotwise.accounts.access import Caller
from slotwise.accounts.permissions import Permission
from slotwise.api.problems import Problem, ValidationProblem, problem_response
from slotwise.audit.services import log_action
from slotwise.bookings import queries
from slotwise.bookings.models import CancelledBy
from slotwise.bookings.services import BookingNotFound
from slotwise.operations.metrics import PAYMENT_WEBHOOK_FAILURES
from slotwise.organizations.auth import StaffRouter, requires
from slotwise.organizations.tenancy import tenant, unscoped
from slotwise.payments import providers
from slotwise.payments import services as payments
from slotwise.payments.answers import quote_body
from slotwise.payments.export import ledger_csv
from slotwise.payments.models import EntryStatus, LedgerEntry, Payment, ProviderEvent
from slotwise.payments.providers.base import InvalidWebhook

logger = logging.getLogger(__name__)

webhooks = Router(tags=["payments"])
router = StaffRouter(tags=["staff: payments"])

IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
ERRORS = {401: Problem, 403: Problem, 404: Problem, 422: ValidationProblem}
MAX_EXPORT_DAYS = 366


@webhooks.post(
    "/webhooks/{provider}",
    response={200: dict[str, str], 400: Problem, 404: Problem, 503: Problem},
    summary="A payment provider's webhook",
)
def provider_webhook(request: HttpRequest, provider: str) -> Any:
    """For the provider to call (Stripe: point a webhook endpoint here and set
    ``SLOTWISE_STRIPE_WEBHOOK_SECRET``). ``200`` once handled or already handled."""
    try:
        handler = providers.get(provider)
    except KeyError:
        return problem_response(404, "not-found", "Not found", "No such payment provider.")
    try:
        event = handler.parse_webhook(request.body, request.headers)
    except InvalidWebhook as error:
        PAYMENT_WEBHOOK_FAILURES.labels(provider=provider).inc()
        logger.warning("Rejected a %s webhook from %s: %s", provider, _address(request), error)
        log_action(
            "payment.webhook_rejected",
            data={"provider": provider, "reason": str(error)[:200]},
            actor="anonymous",
        )
        return problem_response(400, "invalid-webhook", "Invalid webhook", str(error))
    with unscoped():
        payment = Payment.objects.filter(provider=provider, reference=event.reference).first()
    if payment is None:
        # Not one of ours (another application on the same account): nothing to do.
        _record(provider, event.id, event.type, event.reference)
        return {"status": "ignored"}
    if ProviderEvent.objects.filter(provider=provider, event_id=event.id).exists():
        return {"status": "duplicate"}
    with tenant(payment.organization_id):
        try:
            payments.sync(payment, timezone.now())
        except payments.PaymentsUnavailable as error:
            # The provider will send it again; nothing is recorded until handled.
            return problem_response(503, "payments-unavailable", "Try again", str(error))
    _record(provider, event.id, event.type, event.reference)
    return {"status": "handled"}


def _record(provider: str, event_id: str, kind: str, reference: str) -> None:
    try:
        with transaction.atomic():
            ProviderEvent.objects.create(
                provider=provider, event_id=event_id[:255], type=kind[:100], reference=reference
            )
    except IntegrityError:
        pass  # handled at the same moment by another request: once is what counts


def _address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


class EntryOut(Schema):
    id: int
    booking_id: int
    kind: str
    status: str
    amount_minor: int
    currency: str
    provider: str
    reason: str
    reference: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str
    created_at: datetime
    settled_at: datetime | None


class PaymentOut(Schema):
    id: int
    provider: str
    kind: str
    reference: str
    amount_minor: int
    currency: str
    status: str
    failure: str
    created_at: datetime


class BookingMoneyOut(Schema):
    paid_minor: int
    currency: str
    payments: list[PaymentOut]
    ledger: list[EntryOut]
    customer_cancellation: dict[str, Any] = Field(
        description="What the customer would get back by cancelling now."
    )


class ReceivedIn(Schema):
    amount_minor: int = Field(ge=1, le=10**12)
    note: str = Field(default="", max_length=255, description="A receipt number, say.")


@router.get(
    "/bookings/{booking_id}/payments",
    response={200: BookingMoneyOut, **ERRORS},
    summary="A booking's payments and ledger",
)
@requires(Permission.BOOKINGS_READ)
def booking_payments(request: HttpRequest, booking_id: IdPath) -> Any:
    caller: Caller = request.auth
    try:
        booking = queries.access_booking(
            caller.organization, booking_id, within=caller.resource_ids
        )
    except BookingNotFound as error:
        return problem_response(404, "not-found", "Not found", str(error))
    quote = payments.cancellation_quote(booking, timezone.now(), CancelledBy.CUSTOMER)
    return {
        "paid_minor": quote.paid_minor,
        "currency": quote.currency,
        "payments": list(booking.payments.order_by("created_at", "pk")),
        "ledger": list(booking.ledger_entries.order_by("created_at", "pk")),
        "customer_cancellation": quote_body(quote),
    }


@router.post(
    "/bookings/{booking_id}/payments/received",
    response={201: EntryOut, **ERRORS},
    summary="Record money received at the venue",
)
@requires(Permission.PAYMENTS_MANAGE)
def record_received(request: HttpRequest, booking_id: IdPath, data: ReceivedIn) -> Any:
    caller: Caller = request.auth
    try:
        booking = queries.access_booking(
            caller.organization, booking_id, within=caller.resource_ids
        )
    except BookingNotFound as error:
        return problem_response(404, "not-found", "Not found", str(error))
    now = timezone.now()
    with transaction.atomic():
        entry = payments.record_received(booking, data.amount_minor, now, data.note)
        log_action(
            "payment.received",
            organization=booking.organization_id,
            target=booking,
            data={"amount_minor": entry.amount_minor, "currency": entry.currency},
            now=now,
        )
    return Status(201, entry)


@router.get(
    "/payments/attention",
    response={200: list[EntryOut], **ERRORS},
    summary="Refunds and fees that failed",
)
@requires(Permission.PAYMENTS_MANAGE)
def attention(request: HttpRequest) -> Any:
    """Entries the provider refused for good, or after every retry: each needs a
    person (retry it, or settle it with the customer another way)."""
    caller: Caller = request.auth
    return list(
        LedgerEntry.objects.filter(
            organization=caller.organization, status=EntryStatus.FAILED
        ).order_by("-created_at", "-pk")[:500]
    )


@router.post(
    "/payments/entries/{entry_id}/retry",
    response={202: EntryOut, **ERRORS, 409: Problem},
    summary="Try a failed refund or fee again",
)
@requires(Permission.PAYMENTS_MANAGE)
def retry(request: HttpRequest, entry_id: IdPath) -> Any:
    caller: Caller = request.auth
    now = timezone.now()
    with transaction.atomic():
        entry = (
            LedgerEntry.objects.select_for_update()
            .filter(organization=caller.organization, pk=entry_id)
            .first()
        )
        if entry is None:
            return problem_response(404, "not-found", "Not found", "No such ledger entry.")
        if entry.status != EntryStatus.FAILED:
            return problem_response(
                409, "invalid-transition", "Not possible now", "Only a failed entry is retried."
            )
        entry.status = EntryStatus.PENDING
        entry.attempts = 0
        entry.next_attempt_at = now
        entry.save(update_fields=["status", "attempts", "next_attempt_at"])
        log_action(
            f"payment.{entry.kind}_retried",
            organization=entry.organization_id,
            target=entry.booking,
            data={"entry": entry.pk},
            now=now,
        )
        from slotwise.payments.tasks import carry_out

        transaction.on_commit(lambda: carry_out.enqueue(entry.pk))
    entry.refresh_from_db()
    return Status(202, entry)


class ExportQuery(Schema):
    start: date = Field(description="First day, in the organization's zone.")
    end: date = Field(description="Last day, included.")


@router.get(
    "/payments/export",
    response={200: str, 400: Problem, **ERRORS},
    summary="The ledger as CSV",
    openapi_extra={"responses": {"200": {"content": {"text/csv": {}}}}},
)
@requires(Permission.PAYMENTS_MANAGE)
def export(request: HttpRequest, query: Query[ExportQuery]) -> Any:
    """Every charge, refund and fee created on the days asked (in the organization's
    zone), one per row, then a total per currency of those that succeeded: what
    the provider took, less what it gave back, should equal the ``net`` line."""
    caller: Caller = request.auth
    span = _instants(query.start, query.end, ZoneInfo(caller.organization.time_zone))
    if span is None:
        return problem_response(
            400,
            "invalid-range",
            "Invalid range",
            f"end must be on or after start, and the range at most {MAX_EXPORT_DAYS} days.",
        )
    since, until = span
    response = HttpResponse(
        ledger_csv(caller.organization, since, until), content_type="text/csv; charset=utf-8"
    )
    name = f"{caller.organization.slug}-ledger-{query.start}-{query.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


def _instants(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime] | None:
    """The instants (UTC) the days ``start`` to ``end`` of ``zone`` span: from the first
    one's midnight to the midnight after the last. ``None`` for a range backwards,
    longer than ``MAX_EXPORT_DAYS``, or at the calendar's edge (9999-12-31 has no
    midnight after it)."""
    if end < start or (end - start).days >= MAX_EXPORT_DAYS:
        return None
    try:
        since = datetime.combine(start, time(0), tzinfo=zone).astimezone(UTC)
        until = datetime.combine(end + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)
    except OverflowError:
        return None
    return since, until
