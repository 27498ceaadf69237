"""The page a customer's link opens (``/manage/<token>``): their booking, and a way to cancel it.

The token is the booking's manage token or the signed one in messages
(:func:`slotwise.bookings.services.link_token`). The booking is found
without a tenant, then everything else runs in its organization and
language. An unknown or forged token answers 404, whichever it was.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from slotwise.bookings import services, terms
from slotwise.bookings.local_times import describe_moment, describe_span, recipient_zone
from slotwise.bookings.models import BLOCKING_STATUSES, Booking, BookingStatus, CancelledBy
from slotwise.catalog.models import PaymentMode
from slotwise.money import format_minor
from slotwise.organizations.tenancy import tenant
from slotwise.payments import services as payments

__all__ = ["manage_booking"]

TEMPLATE = "web/manage.html"

STATUSES = {
    BookingStatus.HELD: gettext_lazy("Reserved while you finish booking"),
    BookingStatus.PENDING: gettext_lazy("Awaiting confirmation"),
    BookingStatus.CONFIRMED: gettext_lazy("Confirmed"),
    BookingStatus.COMPLETED: gettext_lazy("Completed"),
    BookingStatus.NO_SHOW: gettext_lazy("Missed"),
    BookingStatus.CANCELLED: gettext_lazy("Cancelled"),
}


class CancelForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("Reason (optional)"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    # The refund the page showed: cancelling goes ahead only if it still is that.
    expected_refund_minor = forms.IntegerField(
        min_value=0, required=False, widget=forms.HiddenInput
    )


@never_cache
@require_http_methods(["GET", "POST"])
def manage_booking(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows the booking; POST cancels it (``reason`` optional) and shows the result.

    A booking that cannot be cancelled (it was cancelled already, or has
    started) answers 409 with the reason, and the form keeps what was typed.
    """
    try:
        booking = services.booking_for_token(token)
    except services.BookingNotFound:
        return _not_found(request)
    with tenant(booking.organization_id), translation.override(booking.organization.locale):
        if request.method != "POST":
            return _page(request, booking, CancelForm())
        form = CancelForm(request.POST)
        if not form.is_valid():
            return _page(request, booking, form, status=400)
        now = timezone.now()
        if booking.starts_at <= now:
            error = gettext("This booking has started, so it can no longer be cancelled here.")
            return _page(request, booking, form, error=error, status=409)
        expected = form.cleaned_data["expected_refund_minor"]
        if expected is not None:
            refund = payments.cancellation_quote(booking, now).outcome.refund_minor
            if refund != expected:
                error = gettext(
                    "The refund for cancelling has changed since this page was shown: a "
                    "deadline passed. Nothing was cancelled; check the new amount below."
                )
                return _page(request, booking, CancelForm(), error=error, status=409)
        try:
            booking = services.cancel(
                booking, by=CancelledBy.CUSTOMER, now=now, reason=form.cleaned_data["reason"]
            )
        except services.BookingNotFound:
            return _not_found(request)
        except services.BookingError as error:
            current = Booking.objects.select_related("service").filter(pk=booking.pk).first()
            if current is None:
                return _not_found(request)
            return _page(request, current, form, error=str(error), status=409)
        return _page(request, booking, CancelForm(), cancelled=True)


def _page(
    request: HttpRequest, booking: Booking, form: CancelForm, *, status: int = 200, **extra: Any
) -> HttpResponse:
    now = timezone.now()
    zone = recipient_zone(booking)
    can_cancel = booking.status in BLOCKING_STATUSES and booking.starts_at > now
    money = _money(booking, now, zone) if can_cancel or booking.status == "cancelled" else {}
    if "refund_minor" in money and not form.is_bound:
        form = CancelForm(initial={"expected_refund_minor": money["refund_minor"]})
    context = {
        "booking": booking,
        "organization": booking.organization,
        "service": booking.service,
        "status": STATUSES.get(booking.status, booking.status),
        "when": describe_span(booking.starts_at, booking.ends_at, zone),
        "can_cancel": can_cancel,
        "money": money,
        "started": booking.starts_at <= now,
        "form": form,
        "language": translation.get_language(),
        **extra,
    }
    return render(request, TEMPLATE, context, status=status)


def _money(booking: Booking, now: datetime, zone: ZoneInfo) -> dict[str, Any]:
    """What the customer paid, and what cancelling now gives back, for the page."""
    if terms.payment_mode(booking) == PaymentMode.NONE:
        return {}
    quote = payments.cancellation_quote(booking, now)
    currency = quote.currency
    outcome = quote.outcome
    return {
        "paid": format_minor(quote.paid_minor, currency) if quote.paid_minor else "",
        "refund_minor": outcome.refund_minor,
        "refund": format_minor(outcome.refund_minor, currency),
        "charge": format_minor(outcome.charge_minor, currency) if outcome.charge_minor else "",
        "until": describe_moment(quote.valid_until, zone) if quote.valid_until else "",
    }


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(
        request, TEMPLATE, {"language": translation.get_language(), "missing": True}, status=404
    )
