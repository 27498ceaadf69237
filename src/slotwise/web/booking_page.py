"""The pages a customer's link opens: their booking (``/manage/<token>``), cancelling it,
and moving it to another time (``/manage/<token>/reschedule``).

The token is the booking's manage token or the signed one in messages
(:func:`slotwise.bookings.services.link_token`). The booking is found
without a tenant, then everything else runs in its organization, in the
language the visitor chose with the picker, else the organization's. An
unknown or forged token answers 404, whichever it was.

Cancelling and moving call the services the booking API calls
(:func:`slotwise.bookings.services.cancel` and ``reschedule``), so the
terms, checks and audit log are the same.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from slotwise import scheduling
from slotwise.availability.services import SlotQueryError
from slotwise.bookings import services, terms
from slotwise.bookings.local_times import describe_moment, describe_span, recipient_zone
from slotwise.bookings.models import BLOCKING_STATUSES, Booking, BookingStatus, CancelledBy
from slotwise.catalog.models import PaymentMode, WaitlistMode
from slotwise.money import format_minor
from slotwise.organizations.tenancy import tenant
from slotwise.payments import services as payments
from slotwise.web import slot_picker as picker
from slotwise.web.i18n import page_language

__all__ = ["manage_booking", "manage_reschedule"]

TEMPLATE = "web/manage.html"
RESCHEDULE_TEMPLATE = "web/reschedule.html"

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
    language = page_language(request, booking.organization.locale)
    with tenant(booking.organization_id), translation.override(language):
        if request.method != "POST":
            return _page(request, token, booking, CancelForm())
        form = CancelForm(request.POST)
        if not form.is_valid():
            return _page(request, token, booking, form, status=400)
        now = timezone.now()
        if booking.starts_at <= now:
            error = gettext("This booking has started, so it can no longer be cancelled here.")
            return _page(request, token, booking, form, error=error, status=409)
        expected = form.cleaned_data["expected_refund_minor"]
        if expected is not None:
            refund = payments.cancellation_quote(booking, now).outcome.refund_minor
            if refund != expected:
                error = gettext(
                    "The refund for cancelling has changed since this page was shown: a "
                    "deadline passed. Nothing was cancelled; check the new amount below."
                )
                return _page(request, token, booking, CancelForm(), error=error, status=409)
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
            message = _cancel_problem(current, error)
            return _page(request, token, current, form, error=message, status=409)
        return _page(request, token, booking, CancelForm(), cancelled=True)


def _cancel_problem(booking: Booking, error: services.BookingError) -> str:
    if booking.status == BookingStatus.CANCELLED:
        return gettext("This booking is already cancelled, so it cannot be cancelled again.")
    if isinstance(error, services.InvalidTransition):
        return gettext("This booking cannot be cancelled here any more: it is %(status)s.") % {
            "status": STATUSES.get(booking.status, booking.status)
        }
    return gettext("The booking could not be cancelled just now. Please try again.")


def _page(
    request: HttpRequest,
    token: str,
    booking: Booking,
    form: CancelForm,
    *,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    now = timezone.now()
    zone = recipient_zone(booking)
    active = booking.status in BLOCKING_STATUSES and booking.starts_at > now
    money = _money(booking, now, zone) if active or booking.status == "cancelled" else {}
    if "refund_minor" in money and not form.is_bound:
        form = CancelForm(initial={"expected_refund_minor": money["refund_minor"]})
    context = {
        "booking": booking,
        "organization": booking.organization,
        "service": booking.service,
        "status": STATUSES.get(booking.status, booking.status),
        "when": describe_span(booking.starts_at, booking.ends_at, zone),
        "can_cancel": active,
        "money": money,
        "started": booking.starts_at <= now,
        "form": form,
        "move": _move_terms(booking, now) if active else None,
        "reschedule_url": reverse("manage_reschedule", args=[token]),
        "waitlist_url": _waitlist_url(booking, token, zone) if active else "",
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


def _move_terms(booking: Booking, now: datetime) -> dict[str, Any]:
    """The booking's terms for moving it, as sentences; ``refusal`` says why it cannot be now.

    The same check as :func:`slotwise.bookings.services.reschedule` makes.
    """
    policy = terms.policy_of(booking)
    zone = recipient_zone(booking)
    rules = []
    if policy.reschedule_cutoff:
        rules.append(
            gettext("You can move it until %(deadline)s (%(hours)s before it starts).")
            % {
                "deadline": describe_moment(booking.starts_at - policy.reschedule_cutoff, zone),
                "hours": _length(policy.reschedule_cutoff),
            }
        )
    else:
        rules.append(gettext("You can move it until it starts."))
    if policy.max_reschedules is not None:
        left = max(0, policy.max_reschedules - booking.reschedules)
        rules.append(
            ngettext(
                "Its terms allow %(max)s move in all.",
                "Its terms allow %(max)s moves in all.",
                policy.max_reschedules,
            )
            % {"max": policy.max_reschedules}
            + " "
            + ngettext("%(left)s move is left.", "%(left)s moves are left.", left) % {"left": left}
        )
    refusal = scheduling.reschedule_refusal(
        policy, start=booking.starts_at, at=now, count=booking.reschedules
    )
    return {
        "rules": rules,
        "refusal": _refusal_text(refusal, policy.reschedule_cutoff) if refusal else "",
    }


def _length(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return ngettext("%(n)s day", "%(n)s days", days) % {"n": days}
    if minutes % 60 == 0:
        hours = minutes // 60
        return ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours}
    return ngettext("%(n)s minute", "%(n)s minutes", minutes) % {"n": minutes}


def _refusal_text(refusal: str, cutoff: timedelta | None) -> str:
    if refusal == "limit":
        return gettext("This booking has been moved as many times as its terms allow.")
    if refusal == "cutoff" and cutoff:
        return gettext(
            "It is too close to the start to move this booking: its terms allow moves until "
            "%(length)s before."
        ) % {"length": _length(cutoff)}
    return gettext("A booking cannot be moved once it has started.")


def _waitlist_url(booking: Booking, token: str, zone: ZoneInfo) -> str:
    if booking.service.waitlist_mode == WaitlistMode.OFF:
        return ""
    query = {"service": booking.service_id, "tz": zone.key, "booking": token}
    return f"{reverse('waitlist-join')}?{urlencode(query)}"


def _not_found(request: HttpRequest) -> HttpResponse:
    return render(request, TEMPLATE, {"missing": True}, status=404)


# Moving a booking


@never_cache
@require_http_methods(["GET", "POST"])
def manage_reschedule(request: HttpRequest, token: str) -> HttpResponse:
    """Another time for the booking, of the same service and length, in the customer's zone.

    GET shows the terms for moving and a month of days with free times
    (``month``, ``date``, ``tz``); choosing a time (``start``) asks to
    confirm; POST ``start`` moves the booking and returns to its page. A
    refusal (the terms, a time just taken) shows why and changes nothing.
    """
    try:
        booking = services.booking_for_token(token)
    except services.BookingNotFound:
        return _not_found(request)
    language = page_language(request, booking.organization.locale)
    with tenant(booking.organization_id), translation.override(language):
        now = timezone.now()
        if request.method == "POST":
            return _move(request, token, booking, now)
        return _picker_page(request, token, booking, now, start_text=request.GET.get("start"))


def _move(request: HttpRequest, token: str, booking: Booking, now: datetime) -> HttpResponse:
    try:
        start = _parse_start(request.POST.get("start"))
    except ValueError:
        error = gettext("Choose a time from the list.")
        return _picker_page(request, token, booking, now, errors=[error], status=400)
    try:
        moved = services.reschedule(booking, start=start, now=now)
    except services.BookingNotFound:
        return _not_found(request)
    except services.RescheduleRefused as error:
        policy = terms.policy_of(booking)
        message = _refusal_text(error.refusal, policy.reschedule_cutoff)
        return _picker_page(request, token, booking, now, errors=[message], status=409)
    except (services.BookingError, SlotQueryError) as error:
        return _picker_page(
            request, token, booking, now, errors=[_move_problem(booking, error)], status=409
        )
    zone = recipient_zone(moved)
    messages.success(
        request,
        gettext("Your booking has been moved to %(when)s.")
        % {"when": describe_span(moved.starts_at, moved.ends_at, zone)},
    )
    return redirect("manage_booking", token=token)


def _move_problem(booking: Booking, error: Exception) -> str:
    if isinstance(error, services.SlotUnavailable):
        return gettext("That time has just been taken. Please choose another.")
    if isinstance(error, services.StartRefused):
        return gettext("That time cannot be booked (any more). Please choose another.")
    if isinstance(error, services.InvalidTransition):
        return gettext("This booking is %(status)s, so it can no longer be moved.") % {
            "status": STATUSES.get(booking.status, booking.status)
        }
    if isinstance(error, services.ResourcesBusy):
        return gettext("Many bookings are being made just now. Please try again in a moment.")
    return gettext("The booking could not be moved to that time. Please choose another.")


def _parse_start(text: str | None) -> datetime:
    start = datetime.fromisoformat((text or "").strip().replace("Z", "+00:00"))
    if start.tzinfo is None:
        raise ValueError("a start without an offset")
    return start.astimezone(UTC)


def _picker_page(
    request: HttpRequest,
    token: str,
    booking: Booking,
    now: datetime,
    *,
    start_text: str | None = None,
    errors: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    booking = Booking.objects.select_related("service", "organization").get(pk=booking.pk)
    service = booking.service
    errors = list(errors or [])
    customer_zone = recipient_zone(booking)
    try:
        zone = picker.parse_zone(request.GET.get("tz"), customer_zone.key)
    except picker.PickerError as error:
        zone, errors = customer_zone, [*errors, str(error)]
    active = booking.status in BLOCKING_STATUSES and booking.starts_at > now
    move = _move_terms(booking, now) if active else None
    context: dict[str, Any] = {
        "booking": booking,
        "organization": booking.organization,
        "service": service,
        "when": describe_span(booking.starts_at, booking.ends_at, customer_zone),
        "manage_url": reverse("manage_booking", args=[token]),
        "move": move,
        "zone": zone,
        "zone_name": zone.key,
        "zones": picker.all_zones(),
        "errors": errors,
        "waitlist_url": _waitlist_url(booking, token, zone) if active else "",
        "movable": bool(move and not move["refusal"]),
    }
    if not active:
        context["closed"] = (
            gettext("This booking is cancelled, so it cannot be moved.")
            if booking.status == BookingStatus.CANCELLED
            else gettext("This booking has started or is over, so it can no longer be moved.")
        )
    if not context["movable"]:
        return render(request, RESCHEDULE_TEMPLATE, context, status=status if errors else 200)
    base = reverse("manage_reschedule", args=[token])
    if start_text:
        try:
            start = _parse_start(start_text)
        except ValueError:
            errors.append(gettext("Choose a time from the list."))
        else:
            minutes = booking.ends_at - booking.starts_at
            context.update(
                start=start.isoformat().replace("+00:00", "Z"),
                new_when=describe_span(start, start + minutes, zone),
                back_url=f"{base}?{urlencode({'tz': zone.key})}",
            )
            return render(request, RESCHEDULE_TEMPLATE, context, status=status)
    today = now.astimezone(zone).date()
    duration = int((booking.ends_at - booking.starts_at).total_seconds() // 60)
    try:
        first = picker.parse_month(request.GET.get("month"), today)
        chosen = picker.parse_date(request.GET.get("date"))
    except picker.PickerError as error:
        errors.append(str(error))
        first, chosen = today.replace(day=1), None
    if chosen is not None:
        first = chosen.replace(day=1)
    try:
        month = picker.month_view(service, first, zone, now, duration=duration, seats=booking.seats)
        day = (
            picker.day_slots(service, chosen, zone, now, duration=duration, seats=booking.seats)
            if chosen is not None
            else None
        )
    except SlotQueryError:
        errors.append(gettext("The times of this month cannot be shown. Try another month."))
        month, day = None, None
    if day is not None:
        day.slots = [s for s in day.slots if _parse_start(s.start_utc) != booking.starts_at]
    nav = f"{base}?{urlencode({'tz': zone.key})}&"
    context.update(
        month=month,
        day=day,
        nav_url=nav,
        choose_url=nav,
        month_key=first.strftime("%Y-%m"),
        selected=chosen.isoformat() if chosen else "",
    )
    return render(request, RESCHEDULE_TEMPLATE, context, status=status)
