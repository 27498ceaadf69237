"""The customer's booking pages: an organization's services, a service's free days and
slots, the details form, and the confirmation.

``/book/<org>/`` and ``/book/<org>/<service>/`` may be framed by the sites the
organization lists (:func:`slotwise.web.framing.embeddable`); ``?embed=1``
drops the page's header and footer. Slots come from the slots API's service
(:mod:`slotwise.web.slot_picker`), and a booking is placed exactly as the
booking API places one (:func:`slotwise.bookings.placing.place`), under the
same idempotency keys, so sending the form twice books once.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_http_methods, require_safe

from slotwise.api.idempotency import idempotent
from slotwise.api.ratelimits import RateLimited
from slotwise.availability.services import SlotQueryError
from slotwise.bookings import services, terms
from slotwise.bookings.local_times import describe_span
from slotwise.bookings.models import Booking, BookingStatus
from slotwise.bookings.placing import place
from slotwise.catalog.models import PaymentMode, Service
from slotwise.money import format_minor
from slotwise.organizations.models import Organization
from slotwise.organizations.tenancy import entered_on_lookup, tenant
from slotwise.payments import services as payments
from slotwise.scheduling.refunds import deposit_minor
from slotwise.web import slot_picker as picker
from slotwise.web.forms import DetailsForm
from slotwise.web.framing import embeddable

__all__ = ["booking_confirmed", "details", "embed_script", "organization_page", "service_page"]

STATUSES = {
    BookingStatus.HELD: gettext_lazy("Reserved while you pay"),
    BookingStatus.PENDING: gettext_lazy("Awaiting confirmation by %(organization)s"),
    BookingStatus.CONFIRMED: gettext_lazy("Confirmed"),
}


def _organization(request: HttpRequest, org_slug: str, *args: Any, **kwargs: Any) -> Organization:
    return get_object_or_404(Organization, slug=org_slug)


def _booking_organization(request: HttpRequest, token: str) -> Organization:
    try:
        return services.booking_for_token(token).organization
    except services.BookingError:
        raise Http404 from None


def _service(organization: Organization, service_slug: str) -> Service:
    service = (
        Service.objects.with_scopes_disabled()
        .filter(organization=organization, slug=service_slug, active=True)
        .first()
    )
    if service is None:
        raise Http404
    return service


def _embedded(request: HttpRequest) -> bool:
    return request.GET.get("embed") == "1"


def _price(service: Service) -> dict[str, str]:
    """The price and what is paid when booking, as a person reads them."""
    if service.price_minor == 0:
        return {"price": gettext("Free")}
    found = {"price": format_minor(service.price_minor, service.currency)}
    if service.payment_mode == PaymentMode.FULL:
        found["payment"] = gettext("Paid in full when booking.")
    elif service.payment_mode == PaymentMode.DEPOSIT:
        deposit = deposit_minor(
            service.price_minor, percent=service.deposit_percent, fixed_minor=service.deposit_minor
        )
        found["payment"] = gettext("A deposit of %(deposit)s is paid when booking.") % {
            "deposit": format_minor(deposit, service.currency)
        }
    elif service.payment_mode == PaymentMode.CARD:
        found["payment"] = gettext("A card is saved when booking; nothing is paid until then.")
    else:
        found["payment"] = gettext("Paid at the appointment.")
    return found


def _base(request: HttpRequest, organization: Organization, **context: Any) -> dict[str, Any]:
    return {"organization": organization, "embed": _embedded(request), **context}


@embeddable(_organization)
@require_safe
def organization_page(request: HttpRequest, org_slug: str) -> HttpResponse:
    """The organization's bookable services, each with its price and a link to book it."""
    organization = _organization(request, org_slug)
    with tenant(organization), translation.override(organization.locale):
        offered = Service.objects.filter(organization=organization, active=True)
        rows = [{"service": s, **_price(s)} for s in offered.order_by("name", "id")]
        return render(
            request, "web/public/organization.html", _base(request, organization, services=rows)
        )


def _zone_from(request: HttpRequest, organization: Organization) -> tuple[ZoneInfo, str | None]:
    """The customer's zone from ``tz``; the organization's, with the error, if it is no zone."""
    try:
        return picker.parse_zone(request.GET.get("tz"), organization.time_zone), None
    except picker.PickerError as error:
        return ZoneInfo(organization.time_zone), str(error)


def _waitlist_url(service: Service, day: date | None, zone: ZoneInfo) -> str | None:
    try:
        base = reverse("waitlist-join")
    except NoReverseMatch:
        return None
    query = {"service": service.pk, "tz": zone.key}
    if day is not None:
        query["date"] = day.isoformat()
    return f"{base}?{urlencode(query)}"


def _query(**values: Any) -> str:
    """``?a=1&b=2&`` from the values that are set, ready for one more parameter."""
    given = {k: v for k, v in values.items() if v not in (None, "")}
    return "?" + (urlencode(given) + "&" if given else "")


@embeddable(_organization)
@require_safe
def service_page(request: HttpRequest, org_slug: str, service_slug: str) -> HttpResponse:
    """A month of days, each marked when it has a free slot, in the customer's zone
    (``tz``); ``date`` shows that day's slots (an htmx request gets only them)."""
    organization = _organization(request, org_slug)
    with tenant(organization), translation.override(organization.locale):
        service = _service(organization, service_slug)
        now = timezone.now()
        errors: list[str] = []
        zone, zone_error = _zone_from(request, organization)
        if zone_error:
            errors.append(zone_error)
        try:
            duration = picker.parse_duration(request.GET.get("duration"), service)
        except picker.PickerError as error:
            errors.append(str(error))
            duration = service.default_duration
        today = now.astimezone(zone).date()
        try:
            chosen = picker.parse_date(request.GET.get("date"))
        except picker.PickerError as error:
            errors.append(str(error))
            chosen = None
        try:
            first = picker.parse_month(request.GET.get("month"), chosen or today)
        except picker.PickerError as error:
            errors.append(str(error))
            first = today.replace(day=1)
        if chosen is not None and (chosen.year, chosen.month) != (first.year, first.month):
            first = chosen.replace(day=1)
        embed = "1" if _embedded(request) else None
        duration_param = duration if len(service.durations) > 1 else None
        context = _base(
            request,
            organization,
            service=service,
            zone=zone,
            zone_name=zone.key,
            zones=picker.all_zones(),
            duration=duration,
            tz_given=bool(request.GET.get("tz")),
            nav_url=request.path + _query(tz=zone.key, duration=duration_param, embed=embed),
            choose_url=reverse("web:details", args=[organization.slug, service.slug])
            + _query(tz=zone.key, duration=duration, embed=embed),
            # Framed, the form opens on its own: a browser sends no cookies to a
            # framed site's form, so it could not be sent from inside the frame.
            choose_target="_blank" if embed else None,
            **_price(service),
        )
        try:
            month = picker.month_view(service, first, zone, now, duration=duration)
        except SlotQueryError as error:
            errors.append(str(error))
            first = today.replace(day=1)
            month = picker.month_view(service, first, zone, now, duration=duration)
        day = None
        if chosen is not None:
            day = next((d for w in month.weeks for d in w if d.date == chosen), None)
        context.update(
            month=month,
            day=day,
            selected=chosen.isoformat() if chosen else "",
            errors=errors,
            waitlist_url=_waitlist_url(service, chosen, zone),
        )
        return render(request, "web/public/service.html", context, status=400 if errors else 200)


def _start_from(text: str) -> datetime | None:
    moment = parse_datetime(text or "")
    if moment is None or moment.tzinfo is None:
        return None
    return moment.astimezone(UTC)


@embeddable(_organization)
@require_http_methods(["GET", "POST"])
def details(request: HttpRequest, org_slug: str, service_slug: str) -> HttpResponse:
    """GET shows the chosen slot and the form (``start``, ``duration``, ``tz`` in the
    query); POST books it and redirects to paying, or to the confirmation."""
    organization = _organization(request, org_slug)
    with tenant(organization), translation.override(organization.locale):
        service = _service(organization, service_slug)
        max_seats = service.seats_per_slot or 1
        if request.method == "POST":
            form = DetailsForm(request.POST, max_seats=max_seats)
            if not form.is_valid():
                return _details_page(request, organization, service, form, status=400)
            return _book(request, organization, service, form)
        query = request.GET
        form = DetailsForm(
            initial={
                "start": query.get("start", ""),
                "duration": query.get("duration") or service.default_duration,
                "tz": query.get("tz") or organization.time_zone,
            },
            max_seats=max_seats,
        )
        return _details_page(request, organization, service, form)


def _chosen(
    organization: Organization, service: Service, form: DetailsForm
) -> tuple[datetime, int, ZoneInfo] | str:
    """The slot the form carries, or what is wrong with it."""
    values = form.data if form.is_bound else form.initial
    start = _start_from(str(values.get("start") or ""))
    if start is None:
        return gettext("No time was chosen. Go back and choose one of the free times.")
    try:
        zone = picker.parse_zone(str(values.get("tz") or ""), organization.time_zone)
        duration = picker.parse_duration(str(values.get("duration") or ""), service)
    except picker.PickerError as error:
        return str(error)
    return start, duration, zone


def _details_page(
    request: HttpRequest,
    organization: Organization,
    service: Service,
    form: DetailsForm,
    *,
    error: str | None = None,
    status: int = 200,
    fresh_day: picker.Day | None = None,
) -> HttpResponse:
    chosen = _chosen(organization, service, form)
    context = _base(
        request,
        organization,
        service=service,
        form=form,
        error=error,
        payment_needed=payments.checkout_needed(service),
        **_price(service),
    )
    if isinstance(chosen, str):
        context["error"] = error or chosen
        return render(request, "web/public/details.html", context, status=400)
    start, duration, zone = chosen
    end = start + timedelta(minutes=duration)
    provider = ZoneInfo(organization.time_zone)
    embed = "1" if _embedded(request) else None
    context.update(
        start=start,
        duration=duration,
        zone=zone,
        zone_name=zone.key,
        when=describe_span(start, end, zone),
        when_provider=describe_span(start, end, provider) if provider.key != zone.key else None,
        back_url=reverse("web:service", args=[organization.slug, service.slug])
        + _query(
            tz=zone.key,
            duration=duration if len(service.durations) > 1 else None,
            date=start.astimezone(zone).date().isoformat(),
            embed=embed,
        ),
        day=fresh_day,
        choose_url=reverse("web:details", args=[organization.slug, service.slug])
        + _query(tz=zone.key, duration=duration, embed=embed),
        waitlist_url=_waitlist_url(service, start.astimezone(zone).date(), zone)
        if fresh_day is not None and not fresh_day.has_slots
        else None,
    )
    return render(request, "web/public/details.html", context, status=status)


@entered_on_lookup  # placing enters the service's organization, as the API does
def _book(
    request: HttpRequest, organization: Organization, service: Service, form: DetailsForm
) -> HttpResponse:
    chosen = _chosen(organization, service, form)
    if isinstance(chosen, str):
        return _details_page(request, organization, service, form, status=400)
    start, duration, zone = chosen
    data = form.cleaned_data
    customer = services.Customer(
        name=data["name"], email=data["email"], phone=data["phone"], time_zone=zone.key
    )

    def run() -> HttpResponse:
        try:
            booking, token, _zone = place(
                service.pk,
                start=start,
                customer=customer,
                now=timezone.now(),
                duration=duration,
                seats=data["seats"],
            )
        except (services.SlotUnavailable, services.ResourcesBusy):
            with tenant(organization):
                return _taken(request, organization, service, form, start, zone, duration)
        except (SlotQueryError, services.BookingError, payments.PaymentError) as error:
            with tenant(organization):
                return _refused(request, organization, service, form, _message(error))
        except RateLimited as error:
            with tenant(organization):
                return _refused(request, organization, service, form, error.message, status=429)
        target = reverse("web:confirmed", kwargs={"token": token})
        if booking.status == BookingStatus.HELD:
            try:
                target = reverse("payments:pay", kwargs={"token": token})
            except NoReverseMatch:  # the payment page is not there yet
                pass
        if _embedded(request):
            target += "?embed=1"
        response = HttpResponse(target, status=303, content_type="text/plain")
        response["Location"] = target
        return response

    # The same form sent again carries the same fields (the CSRF token aside).
    sent = urlencode(sorted((k, str(v)) for k, v in data.items() if k != "idempotency_key"))
    response = idempotent(
        request, "public-page", run, key=data["idempotency_key"], body=sent.encode()
    )
    if response.status_code == 303 and not response.has_header("Location"):
        # A second send of the same form: the first one's answer again.
        response["Location"] = response.content.decode()
    elif response.get("Content-Type", "").startswith("application/problem+json"):
        with tenant(organization):
            return _refused(
                request,
                organization,
                service,
                form,
                gettext(
                    "This form was sent already and is still being booked, or was changed "
                    "since. Check your email for a confirmation before booking again."
                ),
                status=409,
            )
    return response


def _message(error: Exception) -> str:
    if isinstance(error, services.StartRefused):
        return gettext("That time can no longer be booked. Choose another one.")
    if isinstance(error, payments.PaymentsUnavailable):
        return gettext(
            "Payments cannot be taken right now, so nothing was booked. Try again in a minute."
        )
    if isinstance(error, services.InvalidCustomer):
        return gettext("Your details were not accepted: %(reason)s") % {"reason": error}
    return str(error)


def _renewed(form: DetailsForm, max_seats: int) -> DetailsForm:
    """The form as sent, with a new idempotency key, for sending again."""
    fresh = DetailsForm(max_seats=max_seats)
    data = form.data.copy()
    data["idempotency_key"] = fresh.initial["idempotency_key"]
    renewed = DetailsForm(data, max_seats=max_seats)
    renewed.is_valid()
    return renewed


def _refused(
    request: HttpRequest,
    organization: Organization,
    service: Service,
    form: DetailsForm,
    message: str,
    *,
    status: int = 400,
) -> HttpResponse:
    renewed = _renewed(form, service.seats_per_slot or 1)
    return _details_page(request, organization, service, renewed, error=message, status=status)


def _taken(
    request: HttpRequest,
    organization: Organization,
    service: Service,
    form: DetailsForm,
    start: datetime,
    zone: ZoneInfo,
    duration: int,
) -> HttpResponse:
    """409: the slot went in the meantime; the day's free slots as they are now."""
    day = start.astimezone(zone).date()
    try:
        fresh = picker.day_slots(service, day, zone, timezone.now(), duration=duration)
    except SlotQueryError:
        fresh = picker.Day(date=day, in_month=True)
    renewed = _renewed(form, service.seats_per_slot or 1)
    message = gettext(
        "Sorry, someone else booked this time a moment ago. Nothing was booked for you; "
        "choose another time below."
    )
    return _details_page(
        request, organization, service, renewed, error=message, status=409, fresh_day=fresh
    )


def _calendar_links(booking: Booking, manage_url: str) -> dict[str, str]:
    title = f"{booking.service.name} – {booking.organization.name}"  # noqa: RUF001
    start = booking.starts_at.astimezone(UTC)
    end = booking.ends_at.astimezone(UTC)
    google = urlencode(
        {
            "action": "TEMPLATE",
            "text": title,
            "dates": f"{start:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}",
            "details": manage_url,
        }
    )
    outlook = urlencode(
        {
            "subject": title,
            "startdt": f"{start:%Y-%m-%dT%H:%M:%SZ}",
            "enddt": f"{end:%Y-%m-%dT%H:%M:%SZ}",
            "body": manage_url,
        }
    )
    return {
        "google": f"https://calendar.google.com/calendar/render?{google}",
        "outlook": f"https://outlook.live.com/calendar/0/deeplink/compose?{outlook}",
    }


@embeddable(_booking_organization)
@never_cache
@require_safe
def booking_confirmed(request: HttpRequest, token: str) -> HttpResponse:
    """What was booked, when in the customer's zone (and the provider's), its status,
    price, and links to manage it and to add it to a calendar."""
    booking = services.booking_for_token(token)
    organization = booking.organization
    with tenant(organization), translation.override(organization.locale):
        zone = picker.parse_zone(booking.customer_time_zone, organization.time_zone)
        provider = ZoneInfo(organization.time_zone)
        manage_url = request.build_absolute_uri(reverse("manage_booking", args=[token]))
        resources = sorted(
            {a.resource.name for a in booking.allocations.select_related("resource")}
        )
        price = terms.price_of(booking)
        currency = terms.currency_of(booking)
        due = terms.due_now(booking)
        return render(
            request,
            "web/public/confirmed.html",
            _base(
                request,
                organization,
                booking=booking,
                service=booking.service,
                status=str(STATUSES.get(booking.status, booking.get_status_display()))
                % {"organization": organization.name},
                when=describe_span(booking.starts_at, booking.ends_at, zone),
                when_provider=describe_span(booking.starts_at, booking.ends_at, provider)
                if provider.key != zone.key
                else None,
                resources=resources,
                price=format_minor(price, currency) if price else gettext("Free"),
                due=format_minor(due, currency) if due else None,
                manage_url=manage_url,
                ics_url=f"/api/v1/bookings/manage/{token}/calendar.ics",
                **_calendar_links(booking, manage_url),
            ),
        )


@cache
def _embed_source() -> bytes:
    return (Path(__file__).parent / "static" / "web" / "embed.js").read_bytes()


@require_safe
@cache_control(public=True, max_age=300)
def embed_script(request: HttpRequest) -> HttpResponse:
    """``/book/embed.js``: the script that turns ``<div data-slotwise-booking>`` into a
    framed booking page; one stable address, cached briefly so changes reach sites."""
    response = HttpResponse(_embed_source(), content_type="text/javascript; charset=utf-8")
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    return response
