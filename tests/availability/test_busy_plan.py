"""On PostgreSQL the slot path's busy query reads the slot lookup indexes."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection

from slotwise.availability.busy import busy_query, load_busy
from slotwise.bookings.models import Allocation, Booking
from slotwise.calendars.models import ExternalBusy
from slotwise.catalog.models import ResourceKind

pytestmark = [pytest.mark.django_db, pytest.mark.postgres_only]

START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def busy_calendar(make_org, make_resource, make_service):
    """Ten rooms, each with a booking and a busy event every twelve hours for a year."""
    org = make_org()
    rooms = [make_resource(org, kind=ResourceKind.ROOM, schedule=None) for _ in range(10)]
    service = make_service(org, needs=[(ResourceKind.ROOM, None)])
    bookings = Booking.objects.bulk_create(
        Booking(
            organization=org,
            service=service,
            starts_at=START + timedelta(hours=n),
            ends_at=START + timedelta(hours=n + 1),
        )
        for n in range(0, 24 * 365, 12)
    )
    Allocation.objects.bulk_create(
        Allocation(
            organization=org,
            booking=booking,
            resource=room,
            blocked_start=booking.starts_at,
            blocked_end=booking.ends_at,
        )
        for booking in bookings
        for room in rooms
    )
    ExternalBusy.objects.bulk_create(
        ExternalBusy(
            organization=org,
            resource=room,
            starts_at=booking.starts_at + timedelta(hours=1),
            ends_at=booking.ends_at + timedelta(hours=1),
            source="test",
            uid=f"{room.pk}-{booking.pk}",
        )
        for booking in bookings
        for room in rooms
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return rooms


def test_busy_query_uses_the_slot_lookup_indexes(busy_calendar):
    lo = START + timedelta(days=200)
    room = busy_calendar[3].pk
    sql, params = busy_query([room], lo, lo + timedelta(days=32), now=START)

    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "allocation_slot_lookup" in plan, plan
    assert "external_busy_slot_lookup" in plan, plan
    assert "Seq Scan on bookings_allocation" not in plan, plan
    assert "Seq Scan on calendars_externalbusy" not in plan, plan
    busy = load_busy(0, [room], lo, lo + timedelta(days=32), now=START)[room]
    assert len([b for b in busy if b.units == 1]) == 32 * 2
    assert len([b for b in busy if b.units is None]) == 32 * 2
