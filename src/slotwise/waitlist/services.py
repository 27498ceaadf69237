"""Joining the waitlist, offering freed slots, and claiming them.

Whatever frees capacity of a service (a cancellation, a reschedule away, a
lapsed hold or unpaid booking, a rejected request) makes the booking
services' event listener below ask the worker for :func:`backfill` of the
service after commit; the worker's sweep also runs it every minute for
services with people waiting, which catches capacity that appears in other
ways (new hours, a new resource). :func:`backfill` runs with the service's
row locked, so two at once do not offer the same slot twice, and:

* **sequential** (the default): the first matching entry (priority, then
  joining time) is offered the first matching free slot. The offer *holds*
  it: a ``held`` booking for that customer until the offer ends
  (``offer_minutes``, 30 by default, less when the slot is close), so the
  public cannot take it. Claiming confirms that hold (paying first, if the
  service asks for payment). An offer not claimed lapses with its hold,
  the slot is offered to the next entry, and when none is left it is free
  for everyone again.
* **broadcast**: every matching entry is offered the slot at once; the
  first to claim it books it through the booking engine, and the others are
  told it is gone.

Either way a booking is only ever made by the booking services, under their
locks: a public booker and a claimant racing for a freed slot cannot both
get it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.urls import reverse
from django.utils.crypto import salted_hmac

from slotwise import scheduling
from slotwise.availability.services import MAX_DAYS, find_service_slots
from slotwise.bookings import hooks
from slotwise.bookings import services as bookings
from slotwise.bookings.models import Booking, BookingEvent, BookingStatus, CancelledBy
from slotwise.catalog.models import Service, WaitlistMode
from slotwise.notifications.models import Message, MessageKind
from slotwise.organizations.validators import zone_named
from slotwise.payments import services as payments
from slotwise.waitlist.models import EntryStatus, Offer, OfferStatus, WaitlistEntry

__all__ = [
    "MAX_PER_CUSTOMER",
    "MAX_WAITING",
    "InvalidEntry",
    "OfferClosed",
    "WaitlistError",
    "Want",
    "backfill",
    "claim",
    "entry_for_token",
    "entry_token",
    "expire_due",
    "join",
    "leave",
    "offer_for_token",
    "offer_token",
]

MAX_PER_CUSTOMER = 3
"""Entries one address may have waiting for one service."""
MAX_WAITING = 1000
"""Entries a service may have waiting."""
MIN_OFFER = timedelta(minutes=5)
_FREEING = {"booking.cancelled", "booking.rejected", "booking.hold_expired", "booking.rescheduled"}


class WaitlistError(Exception):
    pass


class InvalidEntry(WaitlistError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class OfferClosed(WaitlistError):
    """The offer was claimed, lapsed, or the slot went to someone else."""

    def __init__(self, message: str, status: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class Want:
    """What an entry waits for: one ``slot_start``, or a window in the customer's zone."""

    seats: int = 1
    slot_start: datetime | None = None
    first_day: date | None = None
    last_day: date | None = None
    weekdays: Sequence[int] = ()
    earliest: time | None = None
    latest: time | None = None
    resource_id: int | None = None


# Tokens: the one given when joining, or signed ones for links in messages.

_SIGNED = re.compile(r"(?P<kind>[ew])(?P<pk>[1-9][0-9]{0,18})-(?P<mac>[A-Za-z0-9_-]{32})")


def _mac(kind: str, pk: int, secret: str) -> str:
    digest = salted_hmac("slotwise.waitlist", f"{kind}:{pk}:{secret}", algorithm="sha256")
    return base64.urlsafe_b64encode(digest.digest()[:24]).decode()


def entry_token(entry: WaitlistEntry) -> str:
    return f"e{entry.pk}-{_mac('e', entry.pk, entry.token_hash)}"


def offer_token(offer: Offer) -> str:
    return f"w{offer.pk}-{_mac('w', offer.pk, str(offer.created_at.timestamp()))}"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def entry_for_token(token: str) -> WaitlistEntry:
    rows = WaitlistEntry.objects.with_scopes_disabled().select_related("service__organization")
    signed = _SIGNED.fullmatch(token)
    if signed and signed["kind"] == "e":
        entry = rows.filter(pk=int(signed["pk"])).first()
        if entry and hmac.compare_digest(signed["mac"], _mac("e", entry.pk, entry.token_hash)):
            return entry
    entry = rows.filter(token_hash=_hash(token)).first()
    if entry is None:
        raise WaitlistError("No waitlist entry has this token.")
    return entry


def offer_for_token(token: str) -> Offer:
    signed = _SIGNED.fullmatch(token)
    if signed and signed["kind"] == "w":
        offer = (
            Offer.objects.with_scopes_disabled()
            .select_related("entry", "service__organization", "hold", "booking")
            .filter(pk=int(signed["pk"]))
            .first()
        )
        if offer and hmac.compare_digest(
            signed["mac"], _mac("w", offer.pk, str(offer.created_at.timestamp()))
        ):
            return offer
    raise WaitlistError("No offer has this token.")


def offer_url(offer: Offer) -> str:
    return settings.SLOTWISE_SITE_URL + reverse("waitlist-offer", args=[offer_token(offer)])


def leave_url(entry: WaitlistEntry) -> str:
    return settings.SLOTWISE_SITE_URL + reverse("waitlist-leave", args=[entry_token(entry)])


# Joining and leaving


def join(
    service: Service, customer: bookings.Customer, want: Want, now: datetime
) -> tuple[WaitlistEntry, str]:
    """Put ``customer`` on ``service``'s waitlist for ``want``; the entry and its token
    (shown once). :class:`InvalidEntry` for a want that cannot be met."""
    if service.waitlist_mode == WaitlistMode.OFF:
        raise InvalidEntry("service_id", f"{service.name} has no waitlist.")
    _check_customer(customer)
    zone = ZoneInfo(customer.time_zone)
    expires_at = _check_want(service, want, zone, now)
    with transaction.atomic():
        waiting = WaitlistEntry.objects.filter(service=service, status=EntryStatus.WAITING)
        if waiting.filter(customer_email__iexact=customer.email).count() >= MAX_PER_CUSTOMER:
            raise InvalidEntry(
                "customer", f"An address can wait for at most {MAX_PER_CUSTOMER} times here."
            )
        if waiting.count() >= MAX_WAITING:
            raise InvalidEntry("service_id", "This waitlist is full.")
        token = secrets.token_urlsafe(32)
        entry = WaitlistEntry.objects.create(
            organization_id=service.organization_id,
            service=service,
            resource_id=want.resource_id,
            customer_name=customer.name,
            customer_email=customer.email,
            customer_phone=customer.phone,
            customer_time_zone=customer.time_zone,
            seats=want.seats,
            slot_start=want.slot_start,
            first_day=want.first_day,
            last_day=want.last_day,
            weekdays=sorted(set(want.weekdays)),
            earliest=want.earliest,
            latest=want.latest,
            token_hash=_hash(token),
            expires_at=expires_at,
            created_at=now,
        )
        _message(entry, MessageKind.WAITLIST_JOINED, f"entry:{entry.pk}", now, {})
        _ask_backfill(service.pk)
    return entry, token


def _check_customer(customer: bookings.Customer) -> None:
    if not customer.name.strip():
        raise InvalidEntry("customer", "The customer's name is missing.")
    try:
        validate_email(customer.email)
        zone_named(customer.time_zone)
    except (ValidationError, ValueError):
        raise InvalidEntry("customer", "Give an email address and an IANA time zone.") from None


def _check_want(service: Service, want: Want, zone: ZoneInfo, now: datetime) -> datetime:
    """When the entry's wish has passed; or :class:`InvalidEntry`."""
    if not 1 <= want.seats <= bookings.MAX_SEATS:
        raise InvalidEntry("seats", f"Seats must be between 1 and {bookings.MAX_SEATS}.")
    if (
        want.resource_id is not None
        and not service.organization.resources.filter(pk=want.resource_id).exists()
    ):
        raise InvalidEntry("resource_id", "No such resource.")
    if want.slot_start is not None:
        if want.slot_start.tzinfo is None:
            raise InvalidEntry("slot_start", "The start needs a UTC offset.")
        if want.slot_start <= now:
            raise InvalidEntry("slot_start", "That slot has passed.")
        return want.slot_start
    if want.first_day is None or want.last_day is None:
        raise InvalidEntry("window", "Give a slot_start, or a window with first_day and last_day.")
    if want.last_day < want.first_day or (want.last_day - want.first_day).days >= MAX_DAYS:
        raise InvalidEntry(
            "window", f"last_day must be on or after first_day, at most {MAX_DAYS} days on."
        )
    if any(not 0 <= day <= 6 for day in want.weekdays):
        raise InvalidEntry("weekdays", "Weekdays are 0 (Monday) to 6 (Sunday).")
    if want.earliest and want.latest and want.latest <= want.earliest:
        raise InvalidEntry("latest", "latest must be after earliest.")
    ends = datetime.combine(want.last_day + timedelta(days=1), time(0), tzinfo=zone)
    if ends <= now:
        raise InvalidEntry("window", "That window has passed.")
    return ends


def leave(entry: WaitlistEntry, now: datetime) -> WaitlistEntry:
    """The customer leaves the list; an offer they hold is withdrawn and its slot freed."""
    with transaction.atomic():
        open_offers = Offer.objects.filter(entry_id=entry.pk, status=OfferStatus.OPEN)
        offers = [_locked_offer(pk) for pk in open_offers.values_list("pk", flat=True)]
        entry = _locked(WaitlistEntry.objects.all(), entry.pk)
        if entry.status != EntryStatus.WAITING:
            return entry
        entry.status = EntryStatus.LEFT
        entry.save(update_fields=["status"])
        for offer in offers:
            if offer.status == OfferStatus.OPEN:
                offer.entry = entry
                _close(offer, OfferStatus.WITHDRAWN, now)
    return entry


# Offering


def _ask_backfill(service_id: int) -> None:
    from slotwise.waitlist.tasks import backfill_service

    transaction.on_commit(lambda: backfill_service.enqueue(service_id))


def backfill(service_id: int, now: datetime) -> int:
    """Offer ``service_id``'s free slots to who is waiting; how many offers were made."""
    with transaction.atomic():
        service = _locked(Service.objects.select_related("organization"), service_id)
        if service.waitlist_mode == WaitlistMode.OFF:
            return 0
        waiting = WaitlistEntry.objects.filter(service=service, status=EntryStatus.WAITING)
        waiting.filter(expires_at__lte=now).update(status=EntryStatus.EXPIRED)
        entries = list(
            waiting.exclude(offers__status=OfferStatus.OPEN).order_by("-priority", "created_at")
        )
        if not entries:
            return 0
        slots = _free_slots(service, entries, now)
        if service.waitlist_mode == WaitlistMode.BROADCAST:
            return _broadcast(service, entries, slots, now)
        return _sequential(service, entries, slots, now)


def _free_slots(
    service: Service, entries: list[WaitlistEntry], now: datetime
) -> dict[int, list[scheduling.Slot]]:
    """The free slots over the entries' windows, by the seats they ask for."""
    first = min(e.slot_start.date() if e.slot_start else e.first_day for e in entries)  # type: ignore[union-attr]
    last = max(e.slot_start.date() if e.slot_start else e.last_day for e in entries)  # type: ignore[union-attr]
    first = max(first - timedelta(days=1), now.date())
    last = min(last + timedelta(days=1), first + timedelta(days=MAX_DAYS - 1))
    found: dict[int, list[scheduling.Slot]] = {}
    for seats in sorted({e.seats for e in entries}):
        days = find_service_slots(
            service, first=first, last=last, zone=ZoneInfo("UTC"), now=now, seats=seats
        )
        found[seats] = [slot for day in days for slot in day.slots]
    return found


def _matches(entry: WaitlistEntry, slot: scheduling.Slot) -> bool:
    start = slot.start_utc
    if start.isoformat() in entry.passed:
        return False
    if entry.slot_start is not None:
        return start == entry.slot_start
    local = start.astimezone(ZoneInfo(entry.customer_time_zone))
    if not entry.first_day <= local.date() <= entry.last_day:  # type: ignore[operator]
        return False
    if entry.weekdays and local.weekday() not in entry.weekdays:
        return False
    if entry.earliest and local.time() < entry.earliest:
        return False
    return not (entry.latest and local.time() > entry.latest)


def offer_until(service: Service, start: datetime, now: datetime) -> datetime | None:
    """When an offer of a slot starting at ``start`` ends: ``offer_minutes`` from now,
    but no more than a third of the time left before the start; ``None`` when that
    is under 5 minutes (too close to offer)."""
    lead = (start - now) / 3
    length = min(timedelta(minutes=service.offer_minutes), lead)
    return now + length if length >= MIN_OFFER else None


def _sequential(
    service: Service,
    entries: list[WaitlistEntry],
    slots: dict[int, list[scheduling.Slot]],
    now: datetime,
) -> int:
    offered = 0
    taken: set[int] = set()
    for entry in entries:
        for slot in slots[entry.seats]:
            if slot.start_ts in taken or not _matches(entry, slot):
                continue
            until = offer_until(service, slot.start_utc, now)
            if until is None:
                continue
            hold = _hold(service, entry, slot, until, now)
            if hold is None:
                continue
            taken.add(slot.start_ts)
            offer = Offer.objects.create(
                organization_id=service.organization_id,
                entry=entry,
                service=service,
                starts_at=hold.starts_at,
                ends_at=hold.ends_at,
                sequential=True,
                hold=hold,
                expires_at=until,
                created_at=now,
            )
            _offer_message(offer, now)
            offered += 1
            break
    return offered


def _hold(
    service: Service,
    entry: WaitlistEntry,
    slot: scheduling.Slot,
    until: datetime,
    now: datetime,
) -> Booking | None:
    """A held booking of ``slot`` for ``entry``'s customer until ``until``, on the
    resource they asked for if any; ``None`` if it cannot be had."""
    try:
        with transaction.atomic():
            booking, _ = bookings.book(
                service,
                start=slot.start_utc,
                customer=_customer(entry),
                now=now,
                seats=entry.seats,
                hold=True,
                hold_until=until,
            )
            if (
                entry.resource_id is not None
                and not booking.allocations.filter(resource_id=entry.resource_id).exists()
            ):
                raise bookings.SlotUnavailable("Not on the resource asked for.")
    except bookings.BookingError:
        return None
    if payments.checkout_needed(service):
        pk = booking.pk
        transaction.on_commit(lambda: _start_checkout(pk))
    return booking


def _start_checkout(booking_id: int) -> None:
    booking = Booking.objects.with_scopes_disabled().select_related("service").get(pk=booking_id)
    from slotwise.organizations.tenancy import tenant

    with tenant(booking.organization_id):
        try:
            payments.start_checkout(booking, booking.created_at)
        except payments.PaymentError:
            pass  # the hold was released: the next backfill offers the slot again


def _broadcast(
    service: Service,
    entries: list[WaitlistEntry],
    slots: dict[int, list[scheduling.Slot]],
    now: datetime,
) -> int:
    offered = 0
    given: set[int] = set()
    open_starts = set(
        Offer.objects.filter(service=service, status=OfferStatus.OPEN).values_list(
            "starts_at", flat=True
        )
    )
    for seats, free in slots.items():
        for slot in free:
            start = slot.start_utc
            until = offer_until(service, start, now)
            if until is None:
                continue
            for entry in entries:
                if entry.pk in given or entry.seats != seats or not _matches(entry, slot):
                    continue
                if start in open_starts and entry.offers.filter(starts_at=start).exists():
                    continue
                offer = Offer.objects.create(
                    organization_id=service.organization_id,
                    entry=entry,
                    service=service,
                    starts_at=start,
                    ends_at=slot.end_utc,
                    sequential=False,
                    expires_at=until,
                    created_at=now,
                )
                _offer_message(offer, now)
                given.add(entry.pk)
                offered += 1
    return offered


def _customer(entry: WaitlistEntry) -> bookings.Customer:
    return bookings.Customer(
        name=entry.customer_name,
        email=entry.customer_email,
        phone=entry.customer_phone,
        time_zone=entry.customer_time_zone,
    )


# Claiming


def claim(offer: Offer, now: datetime) -> tuple[Booking, str]:
    """Take the offered slot: the booking (held while it is paid for, if the service
    asks for payment; else confirmed or pending) and its manage link token.
    :class:`OfferClosed` if the offer is no longer open or the slot went."""
    with transaction.atomic():
        offer = _locked_offer(offer.pk)
        if offer.status != OfferStatus.OPEN or offer.expires_at <= now:
            # An open one past its end lapsed; the sweep has not closed it yet.
            status = OfferStatus.EXPIRED if offer.status == OfferStatus.OPEN else offer.status
            raise OfferClosed(_closed_text(status), status)
        if offer.sequential:
            booking = _claim_hold(offer, now)
        else:
            booking = _claim_broadcast(offer, now)
        if booking is not None:
            offer.status, offer.closed_at, offer.booking = OfferStatus.CLAIMED, now, booking
            offer.save(update_fields=["status", "closed_at", "booking"])
            entry = offer.entry
            entry.status, entry.booking = EntryStatus.BOOKED, booking
            entry.save(update_fields=["status", "booking"])
    if booking is None:
        # Raised once the offer's closing has committed: inside, it would roll back.
        raise OfferClosed(_closed_text(OfferStatus.GONE), OfferStatus.GONE)
    if booking.status == BookingStatus.HELD and payments.current_payment(booking) is None:
        payments.start_checkout(booking, now)
    return booking, bookings.link_token(booking)


def _claim_hold(offer: Offer, now: datetime) -> Booking:
    hold = offer.hold
    if hold is None or hold.status != BookingStatus.HELD:
        raise OfferClosed(_closed_text(OfferStatus.EXPIRED), OfferStatus.EXPIRED)
    if payments.current_payment(hold) is not None:
        # Paid services: the hold stays until the payment succeeds (confirm_checkout).
        return hold
    return bookings.confirm_hold(hold, now=now)


def _claim_broadcast(offer: Offer, now: datetime) -> Booking | None:
    """The booking of the offered slot; ``None`` (the offer closed as gone) if it went."""
    entry = offer.entry
    try:
        with transaction.atomic():
            booking, _ = bookings.book(
                offer.service,
                start=offer.starts_at,
                customer=_customer(entry),
                now=now,
                seats=entry.seats,
                hold=payments.checkout_needed(offer.service),
            )
            if (
                entry.resource_id is not None
                and not booking.allocations.filter(resource_id=entry.resource_id).exists()
            ):
                raise bookings.SlotUnavailable("Not on the resource asked for.")
    except bookings.ResourcesBusy:
        raise  # a moment's contention: the offer stands, the customer may try again
    except bookings.BookingError:
        _close(offer, OfferStatus.GONE, now)
        return None
    others = (
        Offer.objects.filter(
            service=offer.service, starts_at=offer.starts_at, status=OfferStatus.OPEN
        )
        .exclude(pk=offer.pk)
        .select_related("entry", "hold")
    )
    if connection.vendor == "postgresql":
        # An offer locked meanwhile is being claimed (or left, or swept): that claim
        # waits for the slot this one holds, finds it gone and closes its own offer.
        # Waiting for it here instead would deadlock the two claims.
        others = others.select_for_update(of=("self",), skip_locked=True)
    for other in others:
        _close(other, OfferStatus.GONE, now)
    return booking


def _closed_text(status: str) -> str:
    return {
        OfferStatus.CLAIMED: "This offer was claimed already.",
        OfferStatus.EXPIRED: "This offer has lapsed; you are still on the waitlist.",
        OfferStatus.GONE: "Someone else took this slot first; you are still on the waitlist.",
        OfferStatus.WITHDRAWN: "This offer was withdrawn.",
    }.get(status, "This offer has ended.")


def _close(offer: Offer, status: str, now: datetime) -> None:
    """End an open offer; a sequential one frees its held slot."""
    offer.status, offer.closed_at = status, now
    offer.save(update_fields=["status", "closed_at"])
    entry = offer.entry
    if offer.starts_at.isoformat() not in entry.passed:
        entry.passed = [*entry.passed, offer.starts_at.isoformat()]
        entry.save(update_fields=["passed"])
    if status == OfferStatus.GONE:
        _message(entry, MessageKind.WAITLIST_GONE, f"gone:{offer.pk}", now, _slot_context(offer))
    if offer.hold is not None and offer.hold.status == BookingStatus.HELD:
        bookings.cancel(offer.hold, by=CancelledBy.SYSTEM, now=now, reason="Waitlist offer ended.")


def expire_due(now: datetime) -> int:
    """End the open offers whose time is up (a sequential one's hold is released,
    which offers the slot to the next entry); how many."""
    due = Offer.objects.filter(status=OfferStatus.OPEN, expires_at__lte=now).select_related(
        "entry", "hold"
    )
    ended = 0
    for offer in due:
        with transaction.atomic():
            current = _locked_offer(offer.pk)
            if current.status == OfferStatus.OPEN:
                _close(current, OfferStatus.EXPIRED, now)
                _ask_backfill(current.service_id)
                ended += 1
    return ended


# Messages


def _slot_context(offer: Offer) -> dict[str, object]:
    return {
        "start": offer.starts_at.isoformat(),
        "end": offer.ends_at.isoformat(),
        "expires_at": offer.expires_at.isoformat(),
    }


def _offer_message(offer: Offer, now: datetime) -> None:
    context = {**_slot_context(offer), "offer": offer.pk}
    _message(offer.entry, MessageKind.WAITLIST_OFFER, f"offer:{offer.pk}", now, context)


def _message(
    entry: WaitlistEntry, kind: str, occurrence: str, now: datetime, context: dict[str, object]
) -> None:
    Message.objects.create(
        organization_id=entry.organization_id,
        kind=kind,
        occurrence=occurrence,
        recipient=entry.customer_email,
        context={**context, "entry": entry.pk},
        created_at=now,
        due_at=now,
        next_attempt_at=now,
    )
    from slotwise.notifications.tasks import schedule_delivery

    transaction.on_commit(lambda: schedule_delivery(now))


# The booking services' events


@hooks.on_booking_event
def _on_booking_event(booking: Booking, event: BookingEvent, now: datetime) -> None:
    if event.action == "booking.created":
        return
    if booking.status == BookingStatus.HELD:
        return
    offer = Offer.objects.filter(hold=booking, status=OfferStatus.OPEN).select_related("entry")
    for held in offer:
        if booking.status in (BookingStatus.CONFIRMED, BookingStatus.PENDING):
            # Claimed by confirming the hold (its manage link, or after paying).
            held.status, held.closed_at, held.booking = OfferStatus.CLAIMED, now, booking
            held.save(update_fields=["status", "closed_at", "booking"])
            held.entry.status, held.entry.booking = EntryStatus.BOOKED, booking
            held.entry.save(update_fields=["status", "booking"])
        elif booking.status == BookingStatus.CANCELLED:
            held.hold = None  # already released
            _close(held, OfferStatus.EXPIRED, now)
    if event.action in _FREEING and booking.service.waitlist_mode != WaitlistMode.OFF:
        if WaitlistEntry.objects.filter(
            service_id=booking.service_id, status=EntryStatus.WAITING
        ).exists():
            _ask_backfill(booking.service_id)


def _locked_offer(pk: int) -> Offer:
    """The offer, locked after the booking that holds its slot, if any.

    The booking services lock a booking and then, through the event listener
    above, its offer and entry (a lapsed hold released by the next booking):
    everything here that ends an offer takes its locks in that same order,
    booking, offer, entry, so that neither waits for the other in a cycle.
    """
    if connection.vendor == "postgresql":
        hold = Offer.objects.filter(pk=pk).values_list("hold_id", flat=True).first()
        if hold is not None:
            Booking.objects.filter(pk=hold).select_for_update(of=("self",)).first()
    return _locked(Offer.objects.select_related("entry", "service", "hold"), pk)


def _locked[T](rows: object, pk: int) -> T:
    query = rows.filter(pk=pk)  # type: ignore[attr-defined]
    if connection.vendor == "postgresql":
        # FOR NO KEY UPDATE: rows that refer to this one can still be written. A
        # booking of the service, which holds its resources' locks, needs that
        # of the service row; FOR UPDATE would have it wait for a backfill that
        # waits for those resources.
        query = query.select_for_update(of=("self",), no_key=True)
    found = query.first()
    if found is None:
        raise WaitlistError("It no longer exists.")
    return found  # type: ignore[no-any-return]
