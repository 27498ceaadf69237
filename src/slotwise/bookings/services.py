"""Taking, changing and releasing bookings, never beyond what a resource can hold.

Every operation that makes a booking occupy something (:func:`book`,
:func:`reschedule`, :func:`approve`) follows one recipe, in one transaction:

1. lock every resource the service could use, in id order (so two bookings
   never wait on each other in a circle), with a lock timeout;
2. release holds that expired on them;
3. re-read what occupies them and run the scheduling core's
   :func:`~slotwise.scheduling.check_start`, the same rules the slots
   endpoint applied (hours, grid, notice, horizon, capacity, buffers, limits,
   external busy times);
4. write.

On PostgreSQL the locks are row locks (``SELECT ... FOR UPDATE``) under READ
COMMITTED: a competitor's booking is committed before the lock is released,
so step 3 sees it. A lock timeout or deadlock is retried a few times, then
reported as :class:`ResourcesBusy`. An exclusion constraint on exclusive
allocations backs this up. On SQLite every transaction is ``BEGIN
IMMEDIATE``: writers are serialised by the database file's lock.

Operations take ``now`` and return or raise; nothing here knows HTTP.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import DatabaseError, IntegrityError, OperationalError, connection, transaction
from django.db.models import QuerySet
from django.utils.crypto import salted_hmac

from slotwise import scheduling
from slotwise.audit import context as audit_context
from slotwise.audit.services import log_action
from slotwise.availability.services import (
    Resource,
    load_calendars,
    load_pools,
    offered_duration,
)
from slotwise.bookings import hooks
from slotwise.bookings.models import (
    BLOCKING_STATUSES,
    Allocation,
    Booking,
    BookingEvent,
    BookingStatus,
    CancelledBy,
)
from slotwise.bookings.terms import policy_of, terms_for
from slotwise.catalog.models import Resource as ResourceRow
from slotwise.catalog.models import Service
from slotwise.catalog.services import service_rules
from slotwise.notifications.services import plan_messages
from slotwise.organizations.validators import zone_named

__all__ = [
    "HOLD_MINUTES",
    "BookingError",
    "BookingNotFound",
    "Customer",
    "HoldExpired",
    "InvalidCustomer",
    "InvalidTransition",
    "RescheduleRefused",
    "ResourcesBusy",
    "SlotUnavailable",
    "StartRefused",
    "approve",
    "book",
    "booking_for_token",
    "cancel",
    "confirm_hold",
    "mark",
    "reject",
    "release_expired_holds",
    "release_hold",
    "reschedule",
]

HOLD_MINUTES = 10
"""How long a hold reserves its slot during checkout."""

LOCK_TIMEOUT_MS = 3000
ATTEMPTS = 4
MAX_SEATS = 10_000

# PostgreSQL error codes worth another attempt: lock_not_available, deadlock_detected,
# serialization_failure. 23P01 (exclusion_violation) means the slot is taken.
_RETRY = {"55P03", "40P01", "40001"}
_EXCLUSION_VIOLATION = "23P01"


class BookingError(Exception):
    """A booking operation that cannot be done as asked; the message says why."""


class StartRefused(BookingError):
    """The start breaks a rule whatever else is booked (``refusal`` says which)."""

    def __init__(self, refusal: scheduling.Refusal | str, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal


class SlotUnavailable(BookingError):
    """The slot is a real one, but taken (or too full for the seats asked)."""


class ResourcesBusy(BookingError):
    """The resources stayed locked by other bookings through every attempt."""


class BookingNotFound(BookingError):
    pass


class InvalidTransition(BookingError):
    """The booking's status does not allow this (cancelling a cancelled booking...)."""


class HoldExpired(BookingError):
    pass


class RescheduleRefused(BookingError):
    """The booking's terms do not let the customer move it (now, or again)."""

    def __init__(self, refusal: str, message: str) -> None:
        super().__init__(message)
        self.refusal = refusal


class InvalidCustomer(BookingError):
    """The customer's details cannot be used (no name, an address that is not one)."""


@dataclass(frozen=True, slots=True)
class Customer:
    name: str
    email: str
    time_zone: str
    phone: str = ""


_REFUSALS = {
    scheduling.Refusal.NOT_ON_GRID: "{start} is not one of the service's start times.",
    scheduling.Refusal.CLOSED: "{start} is outside the opening hours.",
    scheduling.Refusal.TOO_SOON: "{start} is sooner than the service's minimum notice allows.",
    scheduling.Refusal.TOO_FAR: "{start} is beyond how far ahead the service can be booked.",
    scheduling.Refusal.TOO_MANY_SEATS: "A session of this service has fewer seats than that.",
}


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


_LINK_TOKEN = re.compile(r"m(?P<pk>[1-9][0-9]{0,18})-(?P<mac>[A-Za-z0-9_-]{32})")


def link_token(booking: Booking) -> str:
    """A manage token for links in messages: ``m<id>-<HMAC>``, signed with the secret key.

    The manage token itself is never stored, so messages sent later cannot
    carry it; this one works wherever it does, and only for this booking.
    """
    return f"m{booking.pk}-{_link_mac(booking.pk, booking.manage_token_hash)}"


def _link_mac(pk: int, manage_token_hash: str | None) -> str:
    mac = salted_hmac(
        "slotwise.bookings.link", f"{pk}:{manage_token_hash}", algorithm="sha256"
    ).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode()


def booking_for_token(token: str) -> Booking:
    """The booking whose manage token (or :func:`link_token`) is ``token``, or
    :class:`BookingNotFound`."""
    bookings = Booking.objects.with_scopes_disabled().select_related("service")
    link = _LINK_TOKEN.fullmatch(token)
    if link is not None:
        booking = bookings.filter(pk=int(link["pk"])).first()
        if booking is not None and hmac.compare_digest(
            link["mac"], _link_mac(booking.pk, booking.manage_token_hash)
        ):
            return booking
    booking = bookings.filter(manage_token_hash=hash_token(token)).first()
    if booking is None:
        raise BookingNotFound("No booking has this manage token.")
    return booking


def book(
    service: Service,
    *,
    start: datetime,
    customer: Customer,
    now: datetime,
    duration_minutes: int | None = None,
    seats: int = 1,
    hold: bool = False,
    hold_until: datetime | None = None,
) -> tuple[Booking, str]:
    """Book ``service`` from ``start``; the booking and its manage token (shown once).

    The booking is ``held`` for :data:`HOLD_MINUTES` (or until ``hold_until``,
    a waitlist offer's end) when ``hold`` is set,
    else ``pending`` if the service requires approval, else ``confirmed``.
    Raises :class:`StartRefused`, :class:`SlotUnavailable`,
    :class:`ResourcesBusy` or ``DurationNotOffered``; on any of them nothing
    is written.
    """
    _check_start_and_seats(start, seats, now)
    _check_customer(customer)
    duration = offered_duration(service, duration_minutes)
    end = start + timedelta(minutes=duration)
    token = secrets.token_urlsafe(32)
    if hold:
        status = BookingStatus.HELD
        expires_at = hold_until or now + timedelta(minutes=HOLD_MINUTES)
    else:
        status = BookingStatus.PENDING if service.requires_approval else BookingStatus.CONFIRMED
        expires_at = None

    # Refused without waiting for the lock when the slot is already gone: under
    # contention most attempts end here, and the lock queue stays short.
    candidates = _unlocked(service)
    _check(candidates, start, duration, seats, now)

    def attempt() -> Booking:
        locked = _lock_service(service, now, candidates)
        picked, resources = _check(locked, start, duration, seats, now), locked.resources
        booking = Booking.objects.create(
            organization_id=service.organization_id,
            service=service,
            starts_at=start,
            ends_at=end,
            seats=seats,
            status=status,
            expires_at=expires_at,
            customer_name=customer.name,
            customer_email=customer.email,
            customer_phone=customer.phone,
            customer_time_zone=customer.time_zone,
            manage_token_hash=hash_token(token),
            terms=terms_for(service, seats, resources[picked[0]].time_zone),
            created_at=now,
            updated_at=now,
        )
        _allocate(booking, service, picked, resources)
        _log(booking, "booking.created", CancelledBy.CUSTOMER, now, status=status)
        if hold:
            _schedule_release(booking)
        return booking

    return _locked(attempt), token


def reschedule(
    booking: Booking, *, start: datetime, now: datetime, by: str = CancelledBy.CUSTOMER
) -> Booking:
    """Move ``booking`` to ``start`` in one transaction, keeping its identity, length and seats.

    The new slot is checked as a new booking would be, except that the
    booking does not conflict with itself; its resources are kept where they
    can take the new slot. If the new slot cannot be had the booking stays
    where it was.
    """
    _check_start_and_seats(start, booking.seats, now)
    service = booking.service
    duration = int((booking.ends_at - booking.starts_at).total_seconds() // 60)

    def attempt() -> Booking:
        current = _lock_booking(booking.pk)
        if current.status not in BLOCKING_STATUSES or _expired(current, now):
            raise InvalidTransition(f"A {current.status} booking cannot be moved.")
        if by == CancelledBy.CUSTOMER:
            _check_reschedule_allowed(current, now)
            current.reschedules += 1
        held = set(current.allocations.values_list("resource_id", flat=True))
        picked, resources = _checked_resources(
            service, start, duration, current.seats, now, exclude=current, prefer=held
        )
        old = [_iso_utc(current.starts_at), _iso_utc(current.ends_at)]
        current.allocations.all().delete()
        current.starts_at, current.ends_at = start, start + timedelta(minutes=duration)
        current.updated_at = now
        current.save(update_fields=["starts_at", "ends_at", "reschedules", "updated_at"])
        _allocate(current, service, picked, resources)
        new = [_iso_utc(current.starts_at), _iso_utc(current.ends_at)]
        _log(current, "booking.rescheduled", by, now, old=old, new=new)
        return current

    return _locked(attempt)


def approve(booking: Booking, *, now: datetime) -> Booking:
    """Confirm a pending booking after re-checking, under the locks, that it still fits.

    Hours or busy times may have changed since it was requested; notice and
    horizon are judged as of the request. :class:`SlotUnavailable` if it no
    longer fits (the booking stays pending, for staff to reject or move).
    """
    service = booking.service

    def attempt() -> Booking:
        current = _lock_booking(booking.pk)
        if current.status != BookingStatus.PENDING:
            raise InvalidTransition(
                f"Only a pending booking can be approved, not a {current.status} one."
            )
        duration = int((current.ends_at - current.starts_at).total_seconds() // 60)
        held = set(current.allocations.values_list("resource_id", flat=True))
        _checked_resources(
            service,
            current.starts_at,
            duration,
            current.seats,
            now,
            exclude=current,
            prefer=held,
            require=held,
            rules_now=current.created_at,
        )
        return _set_status(
            current, BookingStatus.CONFIRMED, "booking.approved", CancelledBy.STAFF, now
        )

    return _locked(attempt)


def reject(booking: Booking, *, now: datetime, reason: str = "") -> Booking:
    """Turn down a pending booking: it is cancelled by staff and frees its slot."""
    with transaction.atomic():
        current = _lock_booking(booking.pk)
        if current.status != BookingStatus.PENDING:
            raise InvalidTransition(
                f"Only a pending booking can be rejected, not a {current.status} one."
            )
        return _release(current, CancelledBy.STAFF, reason or "Rejected.", now, "booking.rejected")


def confirm_hold(booking: Booking, *, now: datetime) -> Booking:
    """A held booking goes ahead: confirmed, or pending if the service requires approval."""
    with transaction.atomic():
        current = _lock_booking(booking.pk)
        if current.status != BookingStatus.HELD:
            raise InvalidTransition(
                f"Only a held booking can be confirmed, not a {current.status} one."
            )
        if _expired(current, now):
            raise HoldExpired("The hold on this slot has expired; book it again if it is free.")
        status = (
            BookingStatus.PENDING if current.service.requires_approval else BookingStatus.CONFIRMED
        )
        return _set_status(current, status, "booking.hold_confirmed", CancelledBy.CUSTOMER, now)


def cancel(booking: Booking, *, by: str, now: datetime, reason: str = "") -> Booking:
    """Cancel ``booking`` (held, pending or confirmed) and free what it occupied."""
    with transaction.atomic():
        current = _lock_booking(booking.pk)
        if current.status not in BLOCKING_STATUSES:
            raise InvalidTransition(f"A {current.status} booking cannot be cancelled.")
        return _release(current, by, reason, now, "booking.cancelled")


def mark(booking: Booking, status: str, *, now: datetime) -> Booking:
    """Record how a confirmed booking went: ``completed`` or ``no_show``, once it has started."""
    if status not in (BookingStatus.COMPLETED, BookingStatus.NO_SHOW):
        raise InvalidTransition(f"A booking cannot be marked {status}.")
    with transaction.atomic():
        current = _lock_booking(booking.pk)
        if current.status != BookingStatus.CONFIRMED:
            raise InvalidTransition(f"Only a confirmed booking can be marked {status}.")
        if current.starts_at > now:
            raise InvalidTransition(f"A booking cannot be marked {status} before it starts.")
        return _set_status(current, status, f"booking.{status}", CancelledBy.STAFF, now)


def release_hold(booking_id: int, *, now: datetime) -> bool:
    """Release one hold if it has expired by ``now``; whether it did."""
    with transaction.atomic():
        booking = _lock_booking(booking_id)
        if not _expired(booking, now):
            return False
        _release(booking, CancelledBy.SYSTEM, "The hold expired.", now, "booking.hold_expired")
        return True


def _schedule_release(booking: Booking) -> None:
    """After commit, ask the worker to release the hold when it expires (where the
    task backend can run tasks later; elsewhere expiry is enforced when read)."""
    from slotwise.bookings.tasks import release_hold as release_task

    if booking.expires_at is None or not release_task.get_backend().supports_defer:
        return
    when, pk = booking.expires_at, booking.pk
    transaction.on_commit(lambda: release_task.using(run_after=when).enqueue(pk))


def release_expired_holds(now: datetime, resource_ids: list[int] | None = None) -> int:
    """Cancel holds that expired by ``now`` (on ``resource_ids`` only, if given); how many.

    On the booking path this runs every time, so it first asks, in one cheap
    query on the hold-expiry index, whether there is anything to release.
    """
    holds = Booking.objects.filter(status=BookingStatus.HELD, expires_at__lte=now)
    if resource_ids is not None:
        on_them = Allocation.objects.filter(resource_id__in=resource_ids).values("booking_id")
        holds = holds.filter(pk__in=on_them)
    if not holds.exists():
        return 0
    with transaction.atomic():
        return _release_expired_holds(now, holds)


def _release_expired_holds(now: datetime, holds: QuerySet[Booking]) -> int:
    if connection.vendor == "postgresql":
        holds = holds.select_for_update(of=("self",))
    released = 0
    for booking in holds.order_by("pk"):
        _release(booking, CancelledBy.SYSTEM, "The hold expired.", now, "booking.hold_expired")
        released += 1
    return released


# The shared machinery


def _check_start_and_seats(start: datetime, seats: int, now: datetime) -> None:
    if start.tzinfo is None or start.utcoffset() is None:
        raise StartRefused("naive", "The start needs a UTC offset, e.g. 2026-07-01T09:00:00+01:00.")
    if start <= now:
        raise StartRefused("in-past", f"{start.isoformat()} is in the past.")
    if not 1 <= seats <= MAX_SEATS:
        raise StartRefused("seats", f"Seats must be between 1 and {MAX_SEATS}.")


_RESCHEDULE_REFUSALS = {
    "limit": "This booking has been moved as many times as its terms allow.",
    "cutoff": "It is too close to the start to move this booking; its terms allow moves "
    "until {cutoff} before.",
    "after-start": "A booking cannot be moved once it has started.",
}


def _check_reschedule_allowed(booking: Booking, now: datetime) -> None:
    """The customer's move must be within the booking's terms: before the cutoff, and
    not more often than they allow (staff may always move it)."""
    policy = policy_of(booking)
    refusal = scheduling.reschedule_refusal(
        policy, start=booking.starts_at, at=now, count=booking.reschedules
    )
    if refusal is not None:
        cutoff = policy.reschedule_cutoff or timedelta(0)
        hours = cutoff.total_seconds() / 3600
        raise RescheduleRefused(
            refusal, _RESCHEDULE_REFUSALS[refusal].format(cutoff=f"{hours:g} hours")
        )


def _check_customer(customer: Customer) -> None:
    if not customer.name.strip():
        raise InvalidCustomer("The customer's name is missing.")
    try:
        validate_email(customer.email)
    except ValidationError:
        raise InvalidCustomer(f"{customer.email[:254]!r} is not an email address.") from None
    try:
        zone_named(customer.time_zone)
    except ValueError:
        raise InvalidCustomer(
            f"{customer.time_zone[:64]!r} is not an IANA time zone name such as Europe/London."
        ) from None


@dataclass(frozen=True, slots=True)
class _Resources:
    """The service's pools and resources: locked for this transaction by
    :func:`_lock_service`, or only read, for a first check, by :func:`_unlocked`."""

    service: Service
    pools: list[list[int]]
    resources: dict[int, Resource]


def _unlocked(service: Service) -> _Resources:
    """The service's pools and resources, read without a lock, for a first check."""
    pools, resources = load_pools(service)
    if not pools or not all(pools):
        raise SlotUnavailable(f"{service.name} has no resource that could take a booking.")
    return _Resources(service, pools, resources)


def _lock_service(service: Service, now: datetime, read: _Resources | None = None) -> _Resources:
    """Lock every resource ``service`` could use, and release expired holds on them.

    ``read`` (from :func:`_unlocked`) saves reading the pools again, unless
    one of its resources was deactivated meanwhile.
    """
    found = read or _unlocked(service)
    active = _lock_resources(sorted(found.resources))
    if read is not None and active != set(found.resources):
        found = _unlocked(service)
        _lock_resources(sorted(found.resources))
    release_expired_holds(now, sorted(found.resources))
    return found


def _checked_resources(
    service: Service,
    start: datetime,
    duration: int,
    seats: int,
    now: datetime,
    **options: Any,
) -> tuple[list[int], dict[int, Resource]]:
    """Lock the service's resources, check ``start`` with the core; the resources to take."""
    locked = _lock_service(service, now)
    return _check(locked, start, duration, seats, now, **options), locked.resources


def _check(
    locked: _Resources,
    start: datetime,
    duration: int,
    seats: int,
    now: datetime,
    *,
    exclude: Booking | None = None,
    prefer: set[int] | None = None,
    require: set[int] | None = None,
    rules_now: datetime | None = None,
) -> list[int]:
    """Check ``start`` on locked resources with the core; the resources to take.

    What this transaction already wrote counts. ``prefer`` resources win the
    pick when they can take the booking; ``require`` (for an approval)
    insists on them. Notice and horizon are judged at ``rules_now``
    (default ``now``).
    """
    service = locked.service
    rules = service_rules(service, duration)
    margin = timedelta(days=8 if rules.limits.any else 2)
    calendars = load_calendars(
        service,
        locked.pools,
        locked.resources,
        start - margin,
        start + timedelta(minutes=duration) + margin,
        now=now,
        exclude_booking=exclude.pk if exclude is not None else None,
    )
    result = scheduling.check_start(
        rules, calendars, start=start, now=rules_now or now, seats=seats
    )
    if result.refusal is scheduling.Refusal.UNAVAILABLE:
        raise SlotUnavailable(f"{start.isoformat()} is taken.")
    if result.refusal is not None:
        raise StartRefused(
            result.refusal, _REFUSALS[result.refusal].format(start=start.isoformat())
        )
    picked = result.pick()
    if prefer:
        kept = []
        for pool, choice in zip(result.pools, picked, strict=True):
            mine = [c.key for c in pool if c.key in prefer and c.key not in kept]
            kept.append(mine[0] if mine else choice)
        picked = kept
    if require is not None and set(picked) != require:
        raise SlotUnavailable("The booking no longer fits its resources at that time.")
    return [int(key) for key in picked]  # type: ignore[call-overload]


def guarded() -> bool:
    """Whether bookings lock what they book: always, except in the stress test's
    demonstration that the race is real (``SLOTWISE_STRESS_UNGUARDED=1``, refused in
    production)."""
    unguarded = os.environ.get("SLOTWISE_STRESS_UNGUARDED") == "1"
    return not unguarded or settings.SLOTWISE_PRODUCTION


def _lock_resources(ids: list[int]) -> set[int]:
    """Row locks on the resources, in id order; those of them still active.

    SQLite's IMMEDIATE transaction already holds the database's write lock.
    """
    table = ResourceRow._meta.db_table
    placeholders = ", ".join(["%s"] * len(ids))
    lock = connection.vendor == "postgresql" and guarded()
    with connection.cursor() as cursor:
        if lock:
            cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT_MS}ms'")
        cursor.execute(
            f"SELECT id, active FROM {table} WHERE id IN ({placeholders})"  # noqa: S608
            f" ORDER BY id{' FOR UPDATE' if lock else ''}",
            ids,
        )
        return {rid for rid, active in cursor.fetchall() if active}


def _lock_booking(pk: int) -> Booking:
    rows = Booking.objects.select_related("service").filter(pk=pk)
    if connection.vendor == "postgresql":
        rows = rows.select_for_update(of=("self",))
    booking = rows.first()
    if booking is None:
        raise BookingNotFound("The booking no longer exists.")
    return booking


def _allocate(
    booking: Booking, service: Service, picked: list[int], resources: dict[int, Resource]
) -> None:
    group = service.seats_per_slot is not None
    blocked_start = booking.starts_at - timedelta(minutes=service.buffer_before_minutes)
    blocked_end = booking.ends_at + timedelta(minutes=service.buffer_after_minutes)
    Allocation.objects.bulk_create(
        Allocation(
            organization_id=booking.organization_id,
            booking=booking,
            resource_id=rid,
            blocked_start=blocked_start,
            blocked_end=blocked_end,
            # A group session holds one unit however many seats it sells.
            units=1 if group else booking.seats,
            exclusive=not group and resources[rid].capacity == 1 and guarded(),
        )
        for rid in picked
    )


def _set_status(booking: Booking, status: str, action: str, by: str, now: datetime) -> Booking:
    old = booking.status
    booking.status = status
    booking.expires_at = None
    booking.updated_at = now
    booking.save(update_fields=["status", "expires_at", "updated_at"])
    _log(booking, action, by, now, old=old, new=status)
    return booking


def _release(booking: Booking, by: str, reason: str, now: datetime, action: str) -> Booking:
    # Kept in the history: who was to take the booking, once it holds nothing.
    held = sorted(booking.allocations.values_list("resource_id", flat=True))
    booking.allocations.all().delete()
    booking.status = BookingStatus.CANCELLED
    booking.expires_at = None
    booking.cancelled_at = now
    booking.cancelled_by = by
    booking.cancel_reason = reason[:500]
    booking.updated_at = now
    booking.save(
        update_fields=[
            "status", "expires_at", "cancelled_at", "cancelled_by", "cancel_reason", "updated_at"
        ]
    )  # fmt: skip
    _log(booking, action, by, now, reason=reason[:500], resources=held)
    return booking


def _iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def _expired(booking: Booking, now: datetime) -> bool:
    return (
        booking.status == BookingStatus.HELD
        and booking.expires_at is not None
        and booking.expires_at <= now
    )


def _log(booking: Booking, action: str, by: str, now: datetime, **data: object) -> None:
    """Write the booking's history row, the messages it causes and the audit log
    entry of ``action``.

    The audit log names who acted as the context knows them (the member or
    API key of a staff request, ``system`` outside requests); in a request by
    someone not signed in, the booking's customer. A hold that expired is
    released by the system, whoever's request found it.
    """
    event = BookingEvent.objects.create(
        organization_id=booking.organization_id,
        booking=booking,
        at=now,
        action=action,
        actor=by,
        data=data,
    )
    hooks.notify(booking, event, now)
    plan_messages(booking, event, now)
    actor = None
    if by == CancelledBy.SYSTEM:
        actor = audit_context.SYSTEM
    elif audit_context.current().who()[0] is None:
        actor = by
    log_action(
        action,
        organization=booking.organization_id,
        target=booking,
        data={"by": by, **data},
        actor=actor,
        now=now,
    )


def _locked[T](operation: Callable[[], T]) -> T:
    """Run ``operation`` in a transaction, again after a lock timeout or deadlock."""
    for attempt in range(ATTEMPTS):
        try:
            with transaction.atomic():
                return operation()
        except IntegrityError as error:
            if _pgcode(error) == _EXCLUSION_VIOLATION:
                raise SlotUnavailable("That time was taken a moment ago.") from error
            raise
        except OperationalError as error:
            if not _retryable(error) or attempt == ATTEMPTS - 1:
                if _retryable(error):
                    raise ResourcesBusy(
                        "Too many bookings are being made for these resources right now; "
                        "try again in a moment."
                    ) from error
                raise
            time.sleep(0.05 * (attempt + 1) + secrets.randbelow(50) / 1000)
    raise AssertionError("unreachable")


def _pgcode(error: DatabaseError) -> str | None:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def _retryable(error: OperationalError) -> bool:
    if connection.vendor == "postgresql":
        return _pgcode(error) in _RETRY
    return "locked" in str(error)
