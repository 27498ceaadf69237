"""A demo organization to click through: ``load_demo()`` creates it, or leaves it as it is.

Harbour & Pine Studio has a photographer in London and one in New York
(weekly hours with a lunch break, each with their public holidays), one
studio room in London, and three services: a 30-minute consultation with
either photographer, a 60 or 90-minute portrait session that needs a
photographer *and* the room (with set-up and tidy-up buffers), and a group
workshop in the room with eight seats. A few bookings and busy events from
the photographers' own calendars fill the weeks after the demo was first
loaded; their times are counted from that moment, so loading the demo again
later changes nothing.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.db import models, transaction
from django.utils import timezone

from slotwise.bookings.models import Allocation, Booking, BookingStatus
from slotwise.calendars.models import ExternalBusy
from slotwise.catalog.models import (
    Resource,
    ResourceKind,
    Schedule,
    Service,
    ServiceRequirement,
    WeeklyRule,
)
from slotwise.organizations.models import Organization
from slotwise.organizations.tenancy import unscoped

__all__ = ["DEMO_SLUG", "load_demo"]

DEMO_SLUG = "harbour-and-pine"
LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = range(5)


def load_demo(*, base_url: str = "http://127.0.0.1:8000", now: datetime | None = None) -> str:
    """Create the demo organization unless it exists; return what to tell the user.

    Idempotent: every row is looked up by a natural key and only written when
    missing or different. The returned lines end with the address of the API
    docs and a ready-to-click slots query for next month, in Tokyo time.
    """
    now = now or timezone.now()
    # An operator's command: it reads and writes the demo organization's rows by name.
    with unscoped(), transaction.atomic():
        org = _upsert(
            Organization,
            {"slug": DEMO_SLUG},
            name="Harbour & Pine Studio",
            time_zone="Europe/London",
            currency="GBP",
            locale="en-GB",
        )
        london_hours = _schedule(org, "London studio hours", "GB", "ENG", (time(9), time(12, 30)))
        london_hours_pm = (time(13, 30), time(17, 30))
        _weekly(london_hours, WEEKDAYS, [london_hours_pm])
        new_york_hours = _schedule(org, "New York hours", "US", "NY", (time(10), time(13)))
        _weekly(new_york_hours, WEEKDAYS, [(time(14), time(18))])
        room_hours = _schedule(org, "Studio room", "GB", "ENG", None)
        _weekly(room_hours, range(6), [(time(8), time(20))])

        amara = _resource(org, "Amara Okafor", ResourceKind.PERSON, "Europe/London", london_hours)
        daniel = _resource(
            org, "Daniel Reyes", ResourceKind.PERSON, "America/New_York", new_york_hours
        )
        room = _resource(org, "Pine Room", ResourceKind.ROOM, "Europe/London", room_hours)

        consultation = _service(
            org,
            "consultation",
            "Intro consultation",
            [30],
            [ResourceKind.PERSON],
            price_minor=0,
            min_notice_minutes=120,
            horizon_days=120,
        )
        portrait = _service(
            org,
            "portrait-session",
            "Portrait session",
            [60, 90],
            [ResourceKind.PERSON, ResourceKind.ROOM],
            price_minor=9500,
            step_minutes=30,
            buffer_before_minutes=15,
            buffer_after_minutes=15,
            min_notice_minutes=24 * 60,
            horizon_days=120,
            # A 20 % deposit, paid at the studio unless Stripe is set up, refunded in
            # full until 48 hours before, half until 24 hours before, then not at all.
            payment_mode="deposit",
            deposit_percent=20,
            cancellation_policy={
                "tiers": [
                    {"before_minutes": 48 * 60, "refund_percent": 100},
                    {"before_minutes": 24 * 60, "refund_percent": 50},
                ],
                "same_day_refund_percent": 0,
                "fee_minor": 0,
                "reschedule_cutoff_minutes": 24 * 60,
                "max_reschedules": 2,
                "no_show_fee": {"percent": 0, "fixed_minor": 0},
            },
        )
        workshop = _service(
            org,
            "lighting-workshop",
            "Lighting workshop",
            [120],
            [ResourceKind.ROOM],
            price_minor=4500,
            seats_per_slot=8,
            buffer_after_minutes=30,
            horizon_days=120,
        )

        # Counted from the first load, so a second load finds the same rows.
        monday = _next_monday(org.created_at.astimezone(LONDON).date())
        _book(amara, consultation, _at(monday, 1, time(10), LONDON), 30)
        _book(amara, portrait, _at(monday, 2, time(14), LONDON), 60, room=room)
        _book(amara, consultation, _at(monday, 3, time(11), LONDON), 30, BookingStatus.CANCELLED)
        _book(daniel, consultation, _at(monday, 7, time(11), NEW_YORK), 30)
        _book(daniel, portrait, _at(monday, 9, time(15), NEW_YORK), 90, room=room)
        workshop_at = _at(monday, 5, time(10), LONDON)
        _book(room, workshop, workshop_at, 120, seats=2, key=0)
        _book(room, workshop, workshop_at, 120, seats=1, key=1)

        _busy(amara, "dentist", _at(monday, 4, time(9), LONDON), timedelta(minutes=90))
        _busy(room, "boiler-service", _at(monday, 3, time(8), LONDON), timedelta(hours=4))
        _busy(
            daniel,
            "family-day",
            _at(monday, 8, time(0), NEW_YORK),
            timedelta(days=1),
            all_day=True,
        )

    local_today = now.astimezone(LONDON).date()
    first = (local_today.replace(day=1) + timedelta(days=32)).replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    query = urlencode({"start": first, "end": last, "tz": "Asia/Tokyo"}, safe="/")
    return "\n".join(
        [
            f"Demo organization: {org.name} ({org.slug})",
            f"Services: {consultation.name} #{consultation.pk}, {portrait.name} #{portrait.pk}, "
            f"{workshop.name} #{workshop.pk}",
            f"API docs: {base_url}/api/v1/docs",
            f"{portrait.name} slots next month, Tokyo time: "
            f"{base_url}/api/v1/services/{portrait.pk}/slots?{query}",
        ]
    )


def _upsert[M: models.Model](model: type[M], lookup: dict[str, Any], **fields: Any) -> M:
    """The row matching ``lookup`` with ``fields`` set; see :func:`_save_changes`."""
    obj = model._default_manager.filter(**lookup).first()
    return _save_changes(obj or model(**lookup), fields)


def _save_changes[M: models.Model](obj: M, fields: dict[str, Any]) -> M:
    """Set ``fields`` on ``obj``; validate and save it only if it is new or changed."""
    if obj.pk is not None and all(getattr(obj, name) == value for name, value in fields.items()):
        return obj
    for name, value in fields.items():
        setattr(obj, name, value)
    obj.full_clean()
    obj.save()
    return obj


def _schedule(
    org: Organization,
    name: str,
    country: str,
    subdivision: str,
    morning: tuple[time, time] | None,
) -> Schedule:
    schedule = _upsert(
        Schedule,
        {"organization": org, "name": name},
        holiday_country=country,
        holiday_subdivision=subdivision,
    )
    if morning:
        _weekly(schedule, WEEKDAYS, [morning])
    return schedule


def _weekly(schedule: Schedule, weekdays: range, hours: list[tuple[time, time]]) -> None:
    for weekday in weekdays:
        for start, end in hours:
            _upsert(WeeklyRule, {"schedule": schedule, "weekday": weekday, "start": start}, end=end)


def _resource(org: Organization, name: str, kind: str, zone: str, schedule: Schedule) -> Resource:
    return _upsert(
        Resource,
        {"organization": org, "name": name},
        kind=kind,
        time_zone=zone,
        schedule=schedule,
        capacity=1,
        active=True,
    )


def _service(
    org: Organization,
    slug: str,
    name: str,
    durations: list[int],
    needs: list[str],
    **fields: Any,
) -> Service:
    service = _upsert(
        Service,
        {"organization": org, "slug": slug},
        name=name,
        durations=durations,
        currency=org.currency,
        active=True,
        **fields,
    )
    for ordering, kind in enumerate(needs):
        _upsert(ServiceRequirement, {"service": service, "ordering": ordering}, kind=kind)
    return service


def _book(
    resource: Resource,
    service: Service,
    starts_at: datetime,
    minutes: int,
    status: str = BookingStatus.CONFIRMED,
    *,
    room: Resource | None = None,
    seats: int = 1,
    key: int = 0,
) -> None:
    """A booking and its allocations; ``key`` tells apart bookings of one group session."""
    ends_at = starts_at + timedelta(minutes=minutes)
    existing = list(Booking.objects.filter(service=service, starts_at=starts_at).order_by("id"))
    booking = (
        existing[key] if len(existing) > key else Booking(service=service, starts_at=starts_at)
    )
    _save_changes(
        booking,
        {
            "organization": resource.organization,
            "ends_at": ends_at,
            "seats": seats,
            "status": status,
        },
    )
    blocked = (
        starts_at - timedelta(minutes=service.buffer_before_minutes),
        ends_at + timedelta(minutes=service.buffer_after_minutes),
    )
    for held in filter(None, (resource, room)):
        _upsert(
            Allocation,
            {"booking": booking, "resource": held},
            organization=booking.organization,
            blocked_start=blocked[0],
            blocked_end=blocked[1],
            units=1,
            exclusive=held.capacity == 1 and service.seats_per_slot is None,
        )


def _busy(
    resource: Resource, uid: str, starts_at: datetime, length: timedelta, *, all_day: bool = False
) -> None:
    _upsert(
        ExternalBusy,
        {"resource": resource, "source": "demo", "uid": uid},
        organization=resource.organization,
        starts_at=starts_at,
        ends_at=starts_at + length,
        all_day=all_day,
    )


def _next_monday(day: date) -> date:
    return day + timedelta(days=7 - day.weekday())


def _at(monday: date, days_later: int, wall: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(monday + timedelta(days=days_later), wall, zone)
