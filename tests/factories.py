"""Factory fixtures for organizations, hours, resources, services, bookings and busy times.

Each fixture returns a function that creates one object with sensible
defaults (a London organization, Monday-to-Friday hours with a lunch break,
a 60-minute service); tests pass only what matters to them. The root
``conftest.py`` registers this module, so every test can ask for them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, time, timedelta
from itertools import count
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from slotwise.accounts.models import User
    from slotwise.bookings.models import Booking
    from slotwise.calendars.models import ExternalBusy
    from slotwise.catalog.models import Closure, DateOverride, Resource, Schedule, Service
    from slotwise.organizations.models import Organization

# Models are imported inside the fixtures, so that importing this module
# never depends on Django being set up.

OFFICE_HOURS = ((time(9), time(12)), (time(13), time(17)))
"""09:00 to 12:00 and 13:00 to 17:00: a working day with a lunch break."""

_serial = count(1)


@pytest.fixture
def make_org() -> Callable[..., Organization]:
    from slotwise.organizations.models import Organization

    def make(**fields: Any) -> Organization:
        n = next(_serial)
        defaults = {
            "name": f"Studio {n}",
            "slug": f"studio-{n}",
            "time_zone": "Europe/London",
            "currency": "GBP",
            "locale": "en-GB",
        }
        return Organization.objects.create(**{**defaults, **fields})

    return make


@pytest.fixture
def make_schedule() -> Callable[..., Schedule]:
    """Monday to Friday ``hours`` (default :data:`OFFICE_HOURS`), or ``weekdays`` given."""
    from slotwise.catalog.models import Schedule, WeeklyRule

    def make(
        org: Organization,
        *,
        hours: Iterable[tuple[time, time]] = OFFICE_HOURS,
        weekdays: Iterable[int] = range(5),
        **fields: Any,
    ) -> Schedule:
        schedule = Schedule.objects.create(
            organization=org, name=f"Hours {next(_serial)}", **fields
        )
        WeeklyRule.objects.bulk_create(
            WeeklyRule(schedule=schedule, weekday=weekday, start=start, end=end)
            for weekday in weekdays
            for start, end in hours
        )
        return schedule

    return make


@pytest.fixture
def make_override() -> Callable[..., DateOverride]:
    """A date override; no ``hours`` means closed that day."""
    from slotwise.catalog.models import DateOverride, DateOverrideHours

    def make(schedule: Schedule, day: Any, hours: Iterable[tuple[time, time]] = ()) -> DateOverride:
        override = DateOverride.objects.create(schedule=schedule, date=day)
        for start, end in hours:
            DateOverrideHours.objects.create(override=override, start=start, end=end)
        return override

    return make


@pytest.fixture
def make_closure() -> Callable[..., Closure]:
    from slotwise.catalog.models import Closure

    def make(schedule: Schedule, first: Any, last: Any, reason: str = "") -> Closure:
        return Closure.objects.create(schedule=schedule, first=first, last=last, reason=reason)

    return make


@pytest.fixture
def make_resource(make_schedule: Callable[..., Schedule]) -> Callable[..., Resource]:
    """A person in London with office hours unless told otherwise."""
    from slotwise.catalog.models import Resource, ResourceKind

    def make(org: Organization, **fields: Any) -> Resource:
        if "schedule" not in fields:
            fields["schedule"] = make_schedule(org)
        defaults = {
            "name": f"Resource {next(_serial)}",
            "kind": ResourceKind.PERSON,
            "time_zone": "Europe/London",
        }
        return Resource.objects.create(organization=org, **{**defaults, **fields})

    return make


@pytest.fixture
def make_service() -> Callable[..., Service]:
    """A 60-minute service; ``needs`` lists (kind, explicit pool or None) per requirement."""
    from slotwise.catalog.models import ResourceKind, Service, ServiceRequirement

    def make(
        org: Organization,
        *,
        needs: Iterable[tuple[str, Iterable[Resource] | None]] = ((ResourceKind.PERSON, None),),
        **fields: Any,
    ) -> Service:
        n = next(_serial)
        defaults = {
            "name": f"Service {n}",
            "slug": f"service-{n}",
            "durations": [60],
            "currency": org.currency,
            "price_minor": 5000,
        }
        service = Service.objects.create(organization=org, **{**defaults, **fields})
        for ordering, (kind, pool) in enumerate(needs):
            requirement = ServiceRequirement.objects.create(
                service=service, kind=kind, ordering=ordering
            )
            if pool is not None:
                requirement.pool.set(pool)
        return service

    return make


@pytest.fixture
def make_booking() -> Callable[..., Booking]:
    """A booking of ``service`` on ``resources``, blocking its time plus the service's buffers."""
    from slotwise.bookings.models import Allocation, Booking, BookingStatus

    def make(
        service: Service,
        resources: Iterable[Resource],
        starts_at: datetime,
        *,
        minutes: int | None = None,
        status: str = BookingStatus.CONFIRMED,
        seats: int = 1,
        units: int = 1,
        expires_at: datetime | None = None,
    ) -> Booking:
        """A hold without ``expires_at`` lasts until the booking's start."""
        ends_at = starts_at + timedelta(minutes=minutes or service.default_duration)
        if status == BookingStatus.HELD and expires_at is None:
            expires_at = starts_at
        booking = Booking.objects.create(
            organization_id=service.organization_id,
            service=service,
            starts_at=starts_at,
            ends_at=ends_at,
            seats=seats,
            status=status,
            expires_at=expires_at,
        )
        for resource in resources:
            Allocation.objects.create(
                organization_id=service.organization_id,
                booking=booking,
                resource=resource,
                blocked_start=starts_at - timedelta(minutes=service.buffer_before_minutes),
                blocked_end=ends_at + timedelta(minutes=service.buffer_after_minutes),
                units=units,
            )
        return booking

    return make


@pytest.fixture
def make_busy() -> Callable[..., ExternalBusy]:
    from slotwise.calendars.models import ExternalBusy

    def make(resource: Resource, starts_at: datetime, ends_at: datetime) -> ExternalBusy:
        return ExternalBusy.objects.create(
            organization_id=resource.organization_id,
            resource=resource,
            starts_at=starts_at,
            ends_at=ends_at,
            source="test",
            uid=f"event-{next(_serial)}",
        )

    return make


PASSWORD = "a long and unusual passphrase 7"


@pytest.fixture
def make_member() -> Callable[..., Any]:
    """A user with ``role`` in ``org`` (none: no membership), password :data:`PASSWORD`,
    a verified email and, with ``mfa=True``, an authenticator app; its TOTP secret is
    ``user.totp_secret``."""
    from allauth.account.models import EmailAddress
    from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret

    from slotwise.accounts.models import Membership, User

    def make(org: Organization | None = None, role: str | None = None, *, mfa: bool = False,
             email: str | None = None) -> User:  # fmt: skip
        email = email or f"member{next(_serial)}@example.com"
        user = User.objects.create_user(email, PASSWORD)
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        if org is not None and role is not None:
            Membership.objects.create(organization=org, user=user, role=role)
        user.totp_secret = None  # type: ignore[attr-defined]
        if mfa:
            user.totp_secret = generate_totp_secret()  # type: ignore[attr-defined]
            TOTP.activate(user, user.totp_secret)  # type: ignore[attr-defined]
        return user

    return make
