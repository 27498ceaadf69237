"""The customer's payment page: ``/pay/<token>`` and the page the browser returns to.

A paid service is booked as ``held`` (:mod:`slotwise.web.public`) and the
customer is sent to :func:`pay`: what is paid, for what, until when the slot
is held, the cancellation terms, and the provider's card form (Stripe.js
Elements, from ``settings.SLOTWISE_STRIPE_JS_URL``, set up by
``payments/pay.js`` from ``data-`` attributes). Once the browser has
confirmed the payment it goes to :func:`paid`, which asks the provider
through :func:`slotwise.payments.services.confirm_checkout` (the same
:func:`~slotwise.payments.services.sync` a webhook runs) and sends the
customer on to the confirmation, or says why not.

Only this page's policy lets the provider's script, frames and API in.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.csp import CSP
from django.utils.translation import gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csp import csp_override
from django.views.decorators.http import require_safe

from slotwise.bookings import services, terms
from slotwise.bookings.local_times import describe_moment, describe_span, recipient_zone
from slotwise.bookings.models import Booking, BookingStatus
from slotwise.catalog.models import PaymentMode
from slotwise.money import format_minor
from slotwise.organizations.tenancy import tenant
from slotwise.payments import services as payments
from slotwise.payments.models import PaymentStatus
from slotwise.web.i18n import page_language

__all__ = ["paid", "pay"]

TEMPLATE = "payments/pay.html"
# Stripe's own hosts besides the script's: its API, and the frames of 3-D Secure.
STRIPE_API_ORIGIN = "https://api.stripe.com"
STRIPE_FRAME_ORIGINS = ("https://hooks.stripe.com",)


def _provider_policy(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """The view's answers carry the site's policy with the provider's script, frames and
    API allowed; built per request from the settings, as the settings may change."""

    @wraps(view)
    def with_policy(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        return csp_override(_policy())(view)(request, *args, **kwargs)

    return with_policy


@_provider_policy
@never_cache
@require_safe
def pay(request: HttpRequest, token: str) -> HttpResponse:
    """The held booking's payment form; the confirmation if nothing is (or is left) to pay."""
    booking = _booking(token)
    with tenant(booking.organization_id), _language(request, booking):
        now = timezone.now()
        if booking.status != BookingStatus.HELD:
            return _settled(request, token, booking)
        payment = payments.current_payment(booking)
        if payment is None:
            return _confirmation(token)
        if payment.status == PaymentStatus.SUCCEEDED:
            # Paid, and the hold not confirmed yet: the return page settles it.
            return HttpResponseRedirect(reverse("payments:paid", args=[token]))
        if booking.expires_at is not None and booking.expires_at <= now:
            return _released(request, booking)
        return _form(request, token, booking, now)


@_provider_policy
@never_cache
@require_safe
def paid(request: HttpRequest, token: str) -> HttpResponse:
    """Where the browser goes once the provider's script has confirmed: the payment as
    the provider reports it decides. Paid: on to the confirmation; not (yet): the form
    again, saying so."""
    booking = _booking(token)
    with tenant(booking.organization_id), _language(request, booking):
        if booking.status != BookingStatus.HELD:
            return _settled(request, token, booking)
        now = timezone.now()
        try:
            payments.confirm_checkout(booking, now)
        except payments.PaymentRequired as refused:
            booking.refresh_from_db()
            if booking.expires_at is not None and booking.expires_at <= now:
                return _released(request, booking)
            return _form(request, token, booking, now, error=_not_paid(refused), status=402)
        except payments.PaymentsUnavailable:
            return _unavailable(request, booking)
        except services.HoldExpired:
            booking.refresh_from_db()
            return _released(request, booking)
        return _confirmation(token)


def _booking(token: str) -> Booking:
    try:
        return services.booking_for_token(token)
    except services.BookingNotFound:
        raise Http404 from None


def _language(request: HttpRequest, booking: Booking) -> Any:
    return translation.override(page_language(request, booking.organization.locale))


def _confirmation(token: str) -> HttpResponse:
    return HttpResponseRedirect(reverse("web:confirmed", kwargs={"token": token}))


def _settled(request: HttpRequest, token: str, booking: Booking) -> HttpResponse:
    """A booking no longer waiting for its payment: ended, or on to its confirmation."""
    if booking.status == BookingStatus.CANCELLED:
        return _released(request, booking)
    return _confirmation(token)


def _not_paid(refused: payments.PaymentRequired) -> str:
    if refused.payment.status == PaymentStatus.PROCESSING:
        return gettext(
            "Your bank is still processing the payment. Wait a minute, then check again."
        )
    if refused.payment.failure:
        return gettext("The payment did not go through: %(reason)s Try again.") % {
            "reason": refused.payment.failure
        }
    return gettext(
        "The payment has not been received yet. Enter your card and pay to keep this time."
    )


def _context(booking: Booking, **extra: Any) -> dict[str, Any]:
    zone = recipient_zone(booking)
    return {
        "booking": booking,
        "organization": booking.organization,
        "service": booking.service,
        "zone_name": zone.key,
        "when": describe_span(booking.starts_at, booking.ends_at, zone),
        **extra,
    }


def _form(
    request: HttpRequest,
    token: str,
    booking: Booking,
    now: datetime,
    *,
    error: str = "",
    status: int = 200,
) -> HttpResponse:
    """The summary and the card form, with the provider's script allowed in."""
    checkout = (payments.describe(booking)["payment"] or {}).get("checkout") or {}
    key = checkout.get("publishable_key")
    if not key or not checkout.get("client_secret"):
        return _unavailable(request, booking)
    zone = recipient_zone(booking)
    mode = terms.payment_mode(booking)
    currency = terms.currency_of(booking)
    due = terms.due_now(booking)
    context = _context(
        booking,
        error=error,
        mode=mode,
        saves_card=mode == PaymentMode.CARD,
        price=format_minor(terms.price_of(booking), currency),
        due=format_minor(due, currency),
        held_until=describe_moment(booking.expires_at, zone) if booking.expires_at else "",
        held_minutes=_minutes_left(booking, now),
        terms=_terms(booking, now),
        stripe_js_url=settings.SLOTWISE_STRIPE_JS_URL,
        publishable_key=key,
        client_secret=checkout["client_secret"],
        return_url=request.build_absolute_uri(reverse("payments:paid", args=[token])),
    )
    return render(request, TEMPLATE, context, status=status)


def _minutes_left(booking: Booking, now: datetime) -> int:
    if booking.expires_at is None:
        return 0
    return max(1, -int((now - booking.expires_at).total_seconds() // 60))


def _released(request: HttpRequest, booking: Booking) -> HttpResponse:
    lapsed = booking.status == BookingStatus.HELD or booking.cancelled_by == "system"
    context = _context(
        booking,
        released=True,
        lapsed=lapsed,
        again_url=reverse("web:service", args=[booking.organization.slug, booking.service.slug]),
    )
    return render(request, TEMPLATE, context, status=410)


def _unavailable(request: HttpRequest, booking: Booking) -> HttpResponse:
    return render(request, TEMPLATE, _context(booking, unavailable=True), status=503)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _policy() -> dict[str, Any]:
    """The site's policy with the provider's script, frames and API allowed."""
    script = _origin(settings.SLOTWISE_STRIPE_JS_URL)
    account = settings.SLOTWISE_STRIPE
    api = _origin(account.api_url) if account is not None else STRIPE_API_ORIGIN
    policy = dict(settings.SECURE_CSP)
    for directive, added in (
        ("script-src", [script]),
        ("frame-src", [script, *STRIPE_FRAME_ORIGINS]),
        ("connect-src", [script, api]),
    ):
        present = list(policy.get(directive) or [CSP.SELF])
        policy[directive] = present + [origin for origin in added if origin not in present]
    return policy


def _terms(booking: Booking, now: datetime) -> list[str]:
    """The booking's cancellation terms, as sentences in the customer's zone."""
    policy = terms.policy_of(booking)
    zone = recipient_zone(booking)
    currency = terms.currency_of(booking)
    card = terms.payment_mode(booking) == PaymentMode.CARD
    lines = []
    if not policy.tiers:
        lines.append(
            gettext("Cancelling before the start costs nothing.")
            if card
            else gettext("Cancel before the start and everything you paid is refunded.")
        )
    ahead = [tier for tier in policy.tiers if booking.starts_at - tier.before > now]
    for tier in ahead:
        deadline = describe_moment(booking.starts_at - tier.before, zone)
        if card:
            lines.append(
                gettext("Cancelling until %(deadline)s: %(percent)s%% of the price is charged.")
                % {"deadline": deadline, "percent": 100 - tier.percent}
            )
        else:
            lines.append(
                gettext("Cancelling until %(deadline)s: %(percent)s%% is refunded.")
                % {"deadline": deadline, "percent": tier.percent}
            )
    if ahead:
        lines.append(
            gettext("Cancelling later: the full price is charged.")
            if card
            else gettext("Cancelling later: nothing is refunded.")
        )
    elif policy.tiers:  # every deadline has passed already
        lines.append(
            gettext("Cancelling it: the full price is charged.")
            if card
            else gettext("Cancelling it: nothing is refunded.")
        )
    if policy.same_day_percent is not None and policy.tiers:
        lines.append(
            gettext("On the day itself at most %(percent)s%% is refunded.")
            % {"percent": policy.same_day_percent}
        )
    if policy.fee_minor and not card:
        lines.append(
            gettext("A fee of %(fee)s is kept from any refund.")
            % {"fee": format_minor(policy.fee_minor, currency)}
        )
    no_show = policy.no_show
    if card and (no_show.percent or no_show.fixed_minor):
        fee = terms.price_of(booking) * no_show.percent // 100 + no_show.fixed_minor
        lines.append(
            gettext("Not coming without cancelling: %(fee)s is charged to the card.")
            % {"fee": format_minor(fee, currency)}
        )
    return lines
