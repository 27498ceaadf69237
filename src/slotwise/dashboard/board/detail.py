"""A booking's page: its details, history, messages and payments, and quick actions.

The booking is found with :func:`slotwise.bookings.queries.access_booking`, as
the staff API finds it: another organization's booking, or for a staff
member one not on their resources, answers 404 exactly as a missing one.
Each action (POST) runs the operation of :mod:`slotwise.bookings.services`
the staff API runs; a refusal is shown on the page (409), nothing changed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from slotwise.accounts.access import Caller
from slotwise.accounts.permissions import Permission
from slotwise.availability.services import SlotQueryError
from slotwise.bookings import queries, services
from slotwise.bookings import terms as booking_terms
from slotwise.bookings.local_times import describe_moment, describe_span, recipient_zone
from slotwise.bookings.models import Booking, BookingStatus, CancelledBy
from slotwise.catalog.models import PaymentMode
from slotwise.dashboard.access import member_page, navigation
from slotwise.dashboard.board.statuses import status_of
from slotwise.money import format_minor
from slotwise.organizations.validators import zone_named
from slotwise.payments import services as payments

__all__ = ["approve", "booking", "cancel", "complete", "decline", "no_show"]

TEMPLATE = "dashboard/board/booking.html"

ACTIONS = {
    "booking.created": gettext_lazy("Booked"),
    "booking.approved": gettext_lazy("Approved"),
    "booking.rejected": gettext_lazy("Declined"),
    "booking.cancelled": gettext_lazy("Cancelled"),
    "booking.rescheduled": gettext_lazy("Moved"),
    "booking.hold_confirmed": gettext_lazy("Checkout finished"),
    "booking.hold_expired": gettext_lazy("Hold expired"),
    "booking.completed": gettext_lazy("Marked completed"),
    "booking.no_show": gettext_lazy("Marked a no-show"),
}


def _access(caller: Caller, booking_id: int) -> Booking:
    try:
        return queries.access_booking(caller.organization, booking_id, within=caller.resource_ids)
    except services.BookingNotFound:
        raise Http404 from None


@member_page(Permission.BOOKINGS_READ)
@require_GET
def booking(request: HttpRequest, booking_id: int) -> HttpResponse:
    """The booking ``booking_id`` with what happened to it and what it may have done next."""
    caller: Caller = request.caller  # type: ignore[attr-defined]
    return _page(request, caller, _access(caller, booking_id))


def _page(
    request: HttpRequest, caller: Caller, found: Booking, *, error: str = "", status: int = 200
) -> HttpResponse:
    queries.load_details([found], events=True)
    now = timezone.now()
    zone = zone_named(caller.organization.time_zone)
    customer_zone = recipient_zone(found)
    can_act = caller.can(Permission.BOOKINGS_WRITE)
    started = found.starts_at <= now
    money = _money(found, now)
    context = {
        "caller": caller,
        "nav": navigation(request, caller),
        "booking": found,
        "status": status_of(found.status),
        "when": describe_span(found.starts_at, found.ends_at, zone),
        "customer_when": describe_span(found.starts_at, found.ends_at, customer_zone)
        if customer_zone.key != zone.key
        else "",
        "created": describe_moment(found.created_at, zone),
        "cancelled": describe_moment(found.cancelled_at, zone) if found.cancelled_at else "",
        "expires": describe_moment(found.expires_at, zone) if found.expires_at else "",
        "resources": [a.resource.name for a in found.allocations.all()],
        "history": [
            {
                "at": describe_moment(event.at, zone),
                "action": ACTIONS.get(event.action, event.action),
                "actor": event.actor,
                "reason": event.data.get("reason", ""),
            }
            for event in found.events.all()
        ],
        "messages_sent": list(found.messages.order_by("due_at", "pk")),
        "payments": list(found.payments.order_by("created_at", "pk")),
        "ledger": list(found.ledger_entries.order_by("created_at", "pk")),
        "money": money,
        "error": error,
        "can_approve": can_act and found.status == BookingStatus.PENDING,
        "can_cancel": can_act and found.status in (BookingStatus.HELD, BookingStatus.CONFIRMED),
        "can_mark": can_act and found.status == BookingStatus.CONFIRMED and started,
    }
    return render(request, TEMPLATE, context, status=status)


def _money(found: Booking, now: datetime) -> dict[str, Any]:
    """Price, what is held, and what a cancellation by staff now gives back."""
    mode = booking_terms.payment_mode(found)
    currency = booking_terms.currency_of(found)
    body: dict[str, Any] = {
        "price": format_minor(booking_terms.price_of(found), currency),
        "mode": PaymentMode(mode).label if mode in PaymentMode.values else mode,
    }
    if mode != PaymentMode.NONE:
        quote = payments.cancellation_quote(found, now, CancelledBy.STAFF)
        body["paid"] = format_minor(quote.paid_minor, currency)
        body["refund"] = format_minor(quote.outcome.refund_minor, currency)
    return body


def _act(
    request: HttpRequest,
    booking_id: int,
    operation: Callable[[Booking, datetime], Booking],
    done: str,
) -> HttpResponse:
    caller: Caller = request.caller  # type: ignore[attr-defined]
    found = _access(caller, booking_id)
    try:
        operation(found, timezone.now())
    except services.BookingNotFound:
        raise Http404 from None
    except (services.BookingError, SlotQueryError) as error:
        current = _access(caller, booking_id)
        return _page(request, caller, current, error=_problem(current, error), status=409)
    messages.success(request, done)
    return redirect("dashboard:booking", booking_id=booking_id)


def _problem(found: Booking, error: Exception) -> str:
    if isinstance(error, services.InvalidTransition):
        return gettext("This cannot be done: the booking is now %(status)s. Nothing changed.") % {
            "status": status_of(found.status)["label"]
        }
    if isinstance(error, services.SlotUnavailable):
        return gettext(
            "The booking no longer fits: its time is taken. Nothing changed; move it or decline it."
        )
    if isinstance(error, services.ResourcesBusy):
        return gettext("Many bookings are being made just now. Please try again in a moment.")
    return gettext("This could not be done just now. Nothing changed.")


def _reason(request: HttpRequest) -> str:
    return request.POST.get("reason", "").strip()[:500]


@member_page(Permission.BOOKINGS_WRITE)
@require_POST
def approve(request: HttpRequest, booking_id: int) -> HttpResponse:
    return _act(request, booking_id, lambda b, now: services.approve(b, now=now),
                gettext("The booking is confirmed."))  # fmt: skip


@member_page(Permission.BOOKINGS_WRITE)
@require_POST
def decline(request: HttpRequest, booking_id: int) -> HttpResponse:
    reason = _reason(request)
    return _act(request, booking_id, lambda b, now: services.reject(b, now=now, reason=reason),
                gettext("The booking is declined."))  # fmt: skip


@member_page(Permission.BOOKINGS_WRITE)
@require_POST
def cancel(request: HttpRequest, booking_id: int) -> HttpResponse:
    reason = _reason(request)
    return _act(
        request,
        booking_id,
        lambda b, now: services.cancel(b, by=CancelledBy.STAFF, now=now, reason=reason),
        gettext("The booking is cancelled."),
    )


@member_page(Permission.BOOKINGS_WRITE)
@require_POST
def complete(request: HttpRequest, booking_id: int) -> HttpResponse:
    return _act(request, booking_id,
                lambda b, now: services.mark(b, BookingStatus.COMPLETED, now=now),
                gettext("The booking is marked completed."))  # fmt: skip


@member_page(Permission.BOOKINGS_WRITE)
@require_POST
def no_show(request: HttpRequest, booking_id: int) -> HttpResponse:
    return _act(request, booking_id,
                lambda b, now: services.mark(b, BookingStatus.NO_SHOW, now=now),
                gettext("The booking is marked a no-show."))  # fmt: skip
