"""The waitlist over the API.

Public: ``POST /api/v1/waitlist`` (join), ``GET /api/v1/waitlist/{token}`` and
``POST .../leave``; ``GET /api/v1/waitlist/offers/{token}`` and ``POST
.../claim``. Staff: ``GET /api/v1/staff/waitlist`` (who waits, per service and
day), ``GET /api/v1/staff/waitlist/offers`` (offers outstanding) and ``GET
/api/v1/staff/waitlist/recovered`` (what backfill brought back).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Path, Query, Router, Schema
from pydantic import Field

from slotwise.accounts.access import Caller
from slotwise.accounts.permissions import Permission
from slotwise.api.idempotency import IdempotencyHeader, idempotent
from slotwise.api.problems import Problem, ValidationProblem, problem_response
from slotwise.api.ratelimits import READ, WRITE, ClientRate, Kind, check_organization_rate
from slotwise.availability.services import SlotQueryError, get_bookable_service
from slotwise.bookings import services as bookings
from slotwise.bookings.answers import booking_body, utc
from slotwise.organizations.auth import StaffRouter, requires
from slotwise.organizations.tenancy import enter_tenant, entered_on_lookup
from slotwise.payments.answers import problem_for
from slotwise.payments.services import PaymentError
from slotwise.waitlist import services as waitlist
from slotwise.waitlist.models import EntryStatus, Offer, OfferStatus, WaitlistEntry

router = Router(tags=["waitlist"], throttle=ClientRate(WRITE))
router.add_decorator(entered_on_lookup)
staff_router = StaffRouter(tags=["staff: waitlist"])

TokenPath = Annotated[str, Path(min_length=20, max_length=100)]
ERRORS = {
    400: Problem,
    404: Problem,
    409: Problem,
    410: Problem,
    422: ValidationProblem,
    429: Problem,
}
STAFF_ERRORS = {400: Problem, 401: Problem, 403: Problem, 422: ValidationProblem}


class CustomerIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(max_length=254)
    phone: str = Field(default="", max_length=40)
    time_zone: str = Field(max_length=64, description="The customer's IANA zone.")


class WindowIn(Schema):
    first_day: date
    last_day: date
    weekdays: list[int] = Field(default_factory=list, description="0 is Monday; [] any.")
    earliest: time | None = Field(default=None, description="Earliest start, customer's zone.")
    latest: time | None = Field(default=None, description="Latest start, customer's zone.")


class JoinIn(Schema):
    service_id: int = Field(ge=1, le=2**63 - 1)
    seats: int = Field(default=1, ge=1, le=bookings.MAX_SEATS)
    slot_start: datetime | None = Field(default=None, description="One slot wanted...")
    window: WindowIn | None = Field(default=None, description="...or any in a window.")
    resource_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    customer: CustomerIn


@router.post("", response={201: dict[str, Any], **ERRORS}, summary="Join a waitlist")
def join(request: HttpRequest, data: JoinIn, idempotency_key: IdempotencyHeader = None) -> Any:
    """Wait for one slot, or any slot in a window (dates, weekdays and times of day
    in the customer's zone), of a service; ``201`` with the entry and its
    ``token`` (to read or leave it). A confirmation email goes out with a link to
    leave; when a matching slot frees up, an offer follows."""

    def run() -> HttpResponse:
        try:
            service = get_bookable_service(data.service_id)
            enter_tenant(service.organization_id)
            check_organization_rate(service.organization_id, WRITE)
            window = data.window
            want = waitlist.Want(
                seats=data.seats,
                slot_start=data.slot_start,
                first_day=window.first_day if window else None,
                last_day=window.last_day if window else None,
                weekdays=window.weekdays if window else (),
                earliest=window.earliest if window else None,
                latest=window.latest if window else None,
                resource_id=data.resource_id,
            )
            customer = bookings.Customer(
                name=data.customer.name,
                email=data.customer.email,
                phone=data.customer.phone,
                time_zone=data.customer.time_zone,
            )
            entry, token = waitlist.join(service, customer, want, timezone.now())
        except SlotQueryError as error:
            return problem_for(error)
        except waitlist.InvalidEntry as error:
            return problem_response(
                400, "invalid-waitlist-entry", "Cannot wait for that", str(error), field=error.field
            )
        return _json({**_entry(entry), "token": token}, status=201)

    return idempotent(request, "public", run)


@router.get(
    "/{token}", response={200: dict[str, Any], **ERRORS}, summary="Read a waitlist entry",
    throttle=ClientRate(READ),
)  # fmt: skip
def read_entry(request: HttpRequest, token: TokenPath) -> Any:
    entry = _found(waitlist.entry_for_token, token, READ)
    return entry if isinstance(entry, HttpResponse) else _json(_entry(entry))


@router.post("/{token}/leave", response={200: dict[str, Any], **ERRORS}, summary="Leave")
def leave(request: HttpRequest, token: TokenPath) -> Any:
    """Off the list; an offer outstanding is withdrawn and its slot passed on."""
    entry = _found(waitlist.entry_for_token, token, WRITE)
    if isinstance(entry, HttpResponse):
        return entry
    return _json(_entry(waitlist.leave(entry, timezone.now())))


@router.get(
    "/offers/{token}", response={200: dict[str, Any], **ERRORS}, summary="Read an offer",
    throttle=ClientRate(READ),
)  # fmt: skip
def read_offer(request: HttpRequest, token: TokenPath) -> Any:
    offer = _found(waitlist.offer_for_token, token, READ)
    return offer if isinstance(offer, HttpResponse) else _json(_offer(offer))


@router.post(
    "/offers/{token}/claim",
    response={201: dict[str, Any], **ERRORS, 402: Problem, 503: Problem},
    summary="Claim an offer",
)
def claim(request: HttpRequest, token: TokenPath, idempotency_key: IdempotencyHeader = None) -> Any:
    """Book the offered slot through the booking engine: ``201`` with the booking and
    its ``manage_token`` (held while paying, when the service asks for payment).
    An offer that lapsed, went to someone else, or was claimed is ``410
    offer-closed`` with its ``offer_status``."""

    def run() -> HttpResponse:
        offer = _found(waitlist.offer_for_token, token, WRITE)
        if isinstance(offer, HttpResponse):
            return offer
        try:
            booking, manage = waitlist.claim(offer, timezone.now())
        except waitlist.OfferClosed as error:
            return problem_response(
                410, "offer-closed", "Offer closed", str(error), offer_status=error.status
            )
        except (bookings.BookingError, PaymentError) as error:
            return problem_for(error)
        body = booking_body(booking, offer.entry.customer_time_zone)
        return _json({**body, "manage_token": manage}, status=201)

    return idempotent(request, f"offer:{token[:40]}", run)


def _found[T: (WaitlistEntry, Offer)](
    find: Callable[[str], T], token: str, rate: Kind
) -> T | HttpResponse:
    """What ``token`` names, in its organization's tenant and rate limit; or a 404."""
    try:
        found = find(token)
    except waitlist.WaitlistError as error:
        return problem_response(404, "not-found", "Not found", str(error))
    enter_tenant(found.organization_id)
    check_organization_rate(found.organization_id, rate)
    return found


def _json(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type="application/json")


def _entry(entry: WaitlistEntry) -> dict[str, Any]:
    offer = entry.offers.filter(status=OfferStatus.OPEN).first()
    return {
        "id": entry.pk,
        "service": {"id": entry.service_id, "name": entry.service.name},
        "status": entry.status,
        "seats": entry.seats,
        "slot_start": utc(entry.slot_start) if entry.slot_start else None,
        "window": None
        if entry.first_day is None
        else {
            "first_day": entry.first_day.isoformat(),
            "last_day": entry.last_day.isoformat() if entry.last_day else None,
            "weekdays": entry.weekdays,
            "earliest": entry.earliest.isoformat() if entry.earliest else None,
            "latest": entry.latest.isoformat() if entry.latest else None,
        },
        "time_zone": entry.customer_time_zone,
        "expires_at": utc(entry.expires_at),
        "offer": _offer(offer) if offer else None,
    }


def _offer(offer: Offer) -> dict[str, Any]:
    zone = ZoneInfo(offer.entry.customer_time_zone)
    return {
        "status": offer.status,
        "mode": "sequential" if offer.sequential else "broadcast",
        "service": {"id": offer.service_id, "name": offer.service.name},
        "start": offer.starts_at.astimezone(zone).isoformat(),
        "end": offer.ends_at.astimezone(zone).isoformat(),
        "start_utc": utc(offer.starts_at),
        "expires_at": utc(offer.expires_at),
    }


# Staff


class DayQuery(Schema):
    service_id: int | None = Field(default=None, ge=1, le=2**63 - 1)
    day: date | None = Field(default=None, description="Entries that would take this day.")


@staff_router.get(
    "/waitlist", response={200: list[dict[str, Any]], **STAFF_ERRORS}, summary="Who is waiting"
)
@requires(Permission.BOOKINGS_READ)
def staff_waitlist(request: HttpRequest, query: Query[DayQuery]) -> Any:
    """Waiting entries in queue order (priority, then joining time), for a service
    and a day if given, with any offer outstanding."""
    caller: Caller = request.auth
    rows = WaitlistEntry.objects.filter(
        organization=caller.organization, status=EntryStatus.WAITING
    ).select_related("service")
    if query.service_id:
        rows = rows.filter(service_id=query.service_id)
    if query.day:
        day = query.day
        rows = rows.filter(
            Q(slot_start__date__range=(day - timedelta(days=1), day + timedelta(days=1)))
            | Q(first_day__lte=day, last_day__gte=day)
        )
    return [
        {**_entry(entry), "customer": {"name": entry.customer_name, "email": entry.customer_email}}
        for entry in rows.order_by("service_id", "-priority", "created_at")[:500]
    ]


@staff_router.get(
    "/waitlist/offers", response={200: list[dict[str, Any]], **STAFF_ERRORS}, summary="Offers out"
)
@requires(Permission.BOOKINGS_READ)
def staff_offers(request: HttpRequest) -> Any:
    caller: Caller = request.auth
    offers = Offer.objects.filter(
        organization=caller.organization, status=OfferStatus.OPEN
    ).select_related("entry", "service")
    return [
        {**_offer(o), "entry": o.entry_id, "customer": o.entry.customer_email}
        for o in offers.order_by("expires_at")
    ]


class PeriodQuery(Schema):
    start: date
    end: date


@staff_router.get(
    "/waitlist/recovered",
    response={200: dict[str, Any], **STAFF_ERRORS},
    summary="What the waitlist brought back",
)
@requires(Permission.BOOKINGS_READ)
def recovered(request: HttpRequest, query: Query[PeriodQuery]) -> Any:
    """Offers claimed between ``start`` and ``end`` (days in the organization's zone):
    how many, and their bookings' price per currency, still booked or not."""
    caller: Caller = request.auth
    if query.end < query.start or (query.end - query.start).days > 366:
        return problem_response(
            400, "invalid-range", "Invalid range", "end must be on or after start, within a year."
        )
    zone = ZoneInfo(caller.organization.time_zone)
    since = datetime.combine(query.start, time(0), tzinfo=zone)
    until = datetime.combine(query.end + timedelta(days=1), time(0), tzinfo=zone)
    claimed = Offer.objects.filter(
        organization=caller.organization,
        status=OfferStatus.CLAIMED,
        closed_at__gte=since,
        closed_at__lt=until,
    ).select_related("booking")
    revenue: dict[str, int] = defaultdict(int)
    kept = 0
    for offer in claimed:
        booking = offer.booking
        if booking is None or booking.status == "cancelled":
            continue
        kept += 1
        terms = booking.terms or {}
        revenue[str(terms.get("currency", ""))] += int(terms.get("price_minor", 0))
    return {
        "start": query.start.isoformat(),
        "end": query.end.isoformat(),
        "offers_claimed": claimed.count(),
        "bookings_kept": kept,
        "revenue_minor": dict(revenue),
        "offers_made": Offer.objects.filter(
            organization=caller.organization, created_at__gte=since, created_at__lt=until
        ).count(),
    }
