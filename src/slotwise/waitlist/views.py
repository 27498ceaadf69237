"""The pages a waitlist email opens: an offer to claim, and leaving the list.

Both work without JavaScript: a page shows what it is about and a button
posts the form. Tokens are the signed ones of the emails (or the token
given when joining); an unknown one is a 404.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from slotwise.bookings import services as bookings
from slotwise.bookings.local_times import describe_moment, describe_span
from slotwise.organizations.tenancy import tenant
from slotwise.payments.services import PaymentError
from slotwise.waitlist import services as waitlist
from slotwise.waitlist.models import EntryStatus, OfferStatus

__all__ = ["leave_page", "offer_page"]


@never_cache
@require_http_methods(["GET", "POST"])
def offer_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        offer = waitlist.offer_for_token(token)
    except waitlist.WaitlistError:
        return _missing(request)
    organization = offer.service.organization
    with tenant(offer.organization_id), translation.override(organization.locale):
        zone = ZoneInfo(offer.entry.customer_time_zone)
        context: dict[str, Any] = {
            "offer": offer,
            "organization": organization,
            "when": describe_span(offer.starts_at, offer.ends_at, zone),
            "until": describe_moment(offer.expires_at, zone),
            "open": offer.status == OfferStatus.OPEN and offer.expires_at > timezone.now(),
            "language": translation.get_language(),
        }
        if request.method != "POST":
            if offer.status == OfferStatus.CLAIMED and offer.booking is not None:
                # Back on the link after claiming: the booking, not "you stay on the list".
                context.update(
                    claimed=True,
                    manage_url=reverse("manage_booking", args=[bookings.link_token(offer.booking)]),
                    held=offer.booking.status == "held",
                )
            return render(request, "waitlist/offer.html", context)
        try:
            booking, manage = waitlist.claim(offer, timezone.now())
        except waitlist.OfferClosed as error:
            return render(
                request, "waitlist/offer.html", {**context, "open": False, "error": str(error)},
                status=410,
            )  # fmt: skip
        except (bookings.BookingError, PaymentError) as error:
            return render(
                request, "waitlist/offer.html", {**context, "error": str(error)}, status=409
            )
        context.update(
            open=False,
            claimed=True,
            manage_url=reverse("manage_booking", args=[manage]),
            held=booking.status == "held",
        )
        return render(request, "waitlist/offer.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def leave_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        entry = waitlist.entry_for_token(token)
    except waitlist.WaitlistError:
        return _missing(request)
    with tenant(entry.organization_id), translation.override(entry.organization.locale):
        if request.method == "POST":
            entry = waitlist.leave(entry, timezone.now())
        context = {
            "entry": entry,
            "organization": entry.organization,
            "service": entry.service,
            "waiting": entry.status == EntryStatus.WAITING,
            "language": translation.get_language(),
        }
        return render(request, "waitlist/leave.html", context)


def _missing(request: HttpRequest) -> HttpResponse:
    return render(request, "waitlist/offer.html", {"missing": True}, status=404)
