"""The waitlist's pages: joining it, and what its emails open (an offer to claim, leaving).

All work without JavaScript: a page shows what it is about and a button
posts the form. Tokens are the signed ones of the emails (or the token
given when joining); an unknown one is a 404. Joining calls
:func:`slotwise.waitlist.services.join` as the public API does.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from slotwise.api.ratelimits import WRITE, RateLimited, check_organization_rate
from slotwise.availability.services import SlotQueryError, get_bookable_service
from slotwise.bookings import services as bookings
from slotwise.bookings.local_times import describe_moment, describe_span
from slotwise.catalog.models import Service, WaitlistMode
from slotwise.organizations.tenancy import tenant
from slotwise.organizations.validators import zone_named
from slotwise.payments.services import PaymentError
from slotwise.waitlist import services as waitlist
from slotwise.waitlist.models import EntryStatus, OfferStatus, WaitlistEntry
from slotwise.web.i18n import page_language

__all__ = ["join_page", "leave_page", "offer_page"]


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


# Joining

SLOT, WINDOW = "slot", "window"


class JoinForm(forms.Form):
    """One slot (a day and a start), or a window (a day, starting between two times)."""

    kind = forms.ChoiceField(
        label=gettext_lazy("What are you waiting for?"),
        choices=[
            (SLOT, gettext_lazy("One particular time")),
            (WINDOW, gettext_lazy("Any time within a window on that day")),
        ],
        initial=WINDOW,
        widget=forms.RadioSelect,
    )
    day = forms.DateField(
        label=gettext_lazy("Day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    start = forms.TimeField(
        label=gettext_lazy("Start time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    earliest = forms.TimeField(
        label=gettext_lazy("Starting no earlier than"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    latest = forms.TimeField(
        label=gettext_lazy("and no later than"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
    )
    tz = forms.CharField(label=gettext_lazy("Your time zone"), max_length=64)
    name = forms.CharField(label=gettext_lazy("Your name"), max_length=200)
    email = forms.EmailField(label=gettext_lazy("Your email address"), max_length=254)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tz"].widget.attrs.update(
            {"aria-describedby": "tz-help", "autocomplete": "off", "spellcheck": "false"}
        )
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        self.fields["email"].widget.attrs["autocomplete"] = "email"

    def add_error(self, field: str | None, error: Any) -> None:
        """Also ties the field's input to its errors (``aria-describedby``)."""
        super().add_error(field, error)
        names = [field] if field else []
        if isinstance(error, forms.ValidationError) and hasattr(error, "error_dict"):
            names = list(error.error_dict)
        for name in names:
            if name in self.fields:
                described = f"{self[name].auto_id}-errors" + (" tz-help" if name == "tz" else "")
                self.fields[name].widget.attrs["aria-describedby"] = described

    def clean_tz(self) -> str:
        name = self.cleaned_data["tz"].strip()
        try:
            zone_named(name)
        except ValueError:
            raise forms.ValidationError(
                gettext("Choose a time zone from the list, e.g. Europe/Berlin.")
            ) from None
        return name

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("kind") == SLOT and not data.get("start"):
            self.add_error("start", gettext("Give the time you would like to start."))
        earliest, latest = data.get("earliest"), data.get("latest")
        if data.get("kind") == WINDOW and earliest and latest and latest <= earliest:
            self.add_error("latest", gettext("This must be later than the first time."))
        return data

    def want(self, seats: int) -> waitlist.Want:
        data = self.cleaned_data
        if data["kind"] == SLOT:
            zone = ZoneInfo(data["tz"])
            local = datetime.combine(data["day"], data["start"], tzinfo=zone)
            return waitlist.Want(seats=seats, slot_start=local.astimezone(UTC))
        return waitlist.Want(
            seats=seats,
            first_day=data["day"],
            last_day=data["day"],
            earliest=data.get("earliest"),
            latest=data.get("latest"),
        )


# Which field a service refusal (InvalidEntry.field) belongs to on the form.
_JOIN_FIELDS = {
    "slot_start": "start",
    "window": "day",
    "latest": "latest",
    "customer": "email",
}


@never_cache
@require_http_methods(["GET", "POST"])
def join_page(request: HttpRequest) -> HttpResponse:
    """Wait for a time of a service (``service``) when none suits: ``date`` and ``tz``
    fill the form, ``booking`` (a manage token) the name and email. POST joins
    through :func:`slotwise.waitlist.services.join`, as the API does, and says so;
    a want that cannot be met re-shows the form with why, status 400."""
    service = _join_service(request.GET.get("service") or request.POST.get("service"))
    if service is None:
        return render(request, "waitlist/join.html", {"missing": True}, status=404)
    organization = service.organization
    language = page_language(request, organization.locale)
    with tenant(service.organization_id), translation.override(language):
        context: dict[str, Any] = {"service": service, "organization": organization}
        if service.waitlist_mode == WaitlistMode.OFF:
            context["closed"] = True
            return render(request, "waitlist/join.html", context, status=404)
        if request.method != "POST":
            form = JoinForm(initial=_join_initial(request, service))
            return render(request, "waitlist/join.html", {**context, "form": form})
        form = JoinForm(request.POST)
        if not form.is_valid():
            return render(request, "waitlist/join.html", {**context, "form": form}, status=400)
        data = form.cleaned_data
        customer = bookings.Customer(name=data["name"], email=data["email"], time_zone=data["tz"])
        try:
            check_organization_rate(service.organization_id, WRITE)
            entry, _token = waitlist.join(service, customer, form.want(seats=1), timezone.now())
        except RateLimited:
            form.add_error(None, gettext("Too many requests just now. Please try again shortly."))
            return render(request, "waitlist/join.html", {**context, "form": form}, status=429)
        except waitlist.InvalidEntry as error:
            form.add_error(_JOIN_FIELDS.get(error.field), _join_problem(error))
            return render(request, "waitlist/join.html", {**context, "form": form}, status=400)
        except SlotQueryError:
            form.add_error(None, gettext("This service cannot be booked any more."))
            return render(request, "waitlist/join.html", {**context, "form": form}, status=400)
        zone = ZoneInfo(entry.customer_time_zone)
        return render(
            request,
            "waitlist/join.html",
            {**context, "joined": True, "entry": entry, "wish": _wish(entry, zone)},
        )


def _join_service(text: str | None) -> Service | None:
    try:
        service_id = int(text or "")
    except ValueError:
        return None
    if not 1 <= service_id <= 2**63 - 1:
        return None
    try:
        return get_bookable_service(service_id)
    except SlotQueryError:
        return None


def _join_initial(request: HttpRequest, service: Service) -> dict[str, Any]:
    initial: dict[str, Any] = {"kind": WINDOW, "tz": service.organization.time_zone}
    zone = request.GET.get("tz", "").strip()
    try:
        initial["tz"] = zone_named(zone).key if zone else initial["tz"]
    except ValueError:
        pass
    try:
        initial["day"] = date.fromisoformat(request.GET.get("date", ""))
    except ValueError:
        pass
    token = request.GET.get("booking", "")
    if token:
        try:
            booking = bookings.booking_for_token(token)
        except bookings.BookingError:
            booking = None
        if booking is not None and booking.organization_id == service.organization_id:
            initial["name"], initial["email"] = booking.customer_name, booking.customer_email
    return initial


def _join_problem(error: waitlist.InvalidEntry) -> str:
    """The service's refusal, for a person: its field says which rule."""
    messages = {
        "slot_start": gettext("That time has passed. Choose a later one."),
        "window": gettext("That day has passed. Choose a later one."),
        "latest": gettext("This must be later than the first time."),
        "customer": gettext(
            "Check your name and email address. An address can wait for at most "
            "%(count)s times of one service."
        )
        % {"count": waitlist.MAX_PER_CUSTOMER},
        "service_id": gettext("This waitlist is not taking anyone just now."),
    }
    return messages.get(error.field, gettext("You cannot wait for that. Check the form."))


def _wish(entry: WaitlistEntry, zone: ZoneInfo) -> str:
    """What the entry waits for, in the customer's zone, with the zone named."""
    if entry.slot_start is not None:
        return describe_moment(entry.slot_start, zone)
    values = {
        "day": formats.date_format(entry.first_day, "DATE_FORMAT"),
        "earliest": formats.time_format(entry.earliest or time(0), "TIME_FORMAT"),
        "latest": formats.time_format(entry.latest, "TIME_FORMAT") if entry.latest else "",
        "zone": zone.key,
    }
    if entry.latest:
        return gettext("%(day)s, a start between %(earliest)s and %(latest)s (%(zone)s)") % values
    return gettext("%(day)s, a start from %(earliest)s on (%(zone)s)") % values
