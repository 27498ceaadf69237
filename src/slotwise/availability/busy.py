"""What occupies resources, read for the slot finder: bookings' allocations and busy events.

This is the hot path of every slot query, so it is one hand-written query
(allocations and external events joined by ``UNION ALL``) whose rows are
tuples of integers: UTC epoch seconds computed by the database, never model
instances or datetimes. A busy provider has hundreds of rows per query, and
the ORM's compiling and per-value converters would cost more than the
database does.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db import connection

from slotwise import scheduling
from slotwise.bookings.models import BLOCKING_STATUSES, Allocation, Booking, BookingStatus
from slotwise.calendars.models import ExternalBusy

__all__ = ["busy_query", "load_busy"]


def _epoch(column: str) -> str:
    """Whole UTC epoch seconds of a datetime column, as the core counts them."""
    if connection.vendor == "postgresql":
        # date_part gives a double, cheaper than EXTRACT's numeric; exact for whole seconds.
        return f"FLOOR(DATE_PART('epoch', {column}))::bigint"
    # SQLite keeps datetimes as UTC text, which strftime('%s') reads as epoch seconds.
    return f"CAST(strftime('%%s', {column}) AS INTEGER)"


def busy_query(
    resource_ids: list[int],
    lo: datetime,
    hi: datetime,
    *,
    now: datetime,
    exclude_booking: int | None = None,
) -> tuple[str, list[Any]]:
    """SQL and parameters of what occupies ``resource_ids`` between ``lo`` and ``hi``.

    Rows are ``(resource, start, end, units, service, booked_start,
    booked_end, seats)``; an external event has ``None`` from ``units`` on.
    Allocations of cancelled bookings (there should be none) and of holds
    expired at ``now`` are left out, and those of ``exclude_booking``. Both halves are range
    scans of the ``*_slot_lookup`` indexes (resource, start, end);
    ``tests/availability/test_busy_plan.py`` checks the plan on PostgreSQL.
    """
    allocation, booking = Allocation._meta.db_table, Booking._meta.db_table
    external = ExternalBusy._meta.db_table
    ids = ", ".join(["%s"] * len(resource_ids))
    statuses = ", ".join(["%s"] * len(BLOCKING_STATUSES))
    # Only table names and placeholders are formatted in; every value is a parameter.
    sql = (
        f"SELECT a.resource_id, {_epoch('a.blocked_start')}, {_epoch('a.blocked_end')},"  # noqa: S608
        f" a.units, b.service_id, {_epoch('b.starts_at')}, {_epoch('b.ends_at')}, b.seats"
        f" FROM {allocation} a JOIN {booking} b ON b.id = a.booking_id"
        f" WHERE a.resource_id IN ({ids}) AND a.blocked_start < %s AND a.blocked_end > %s"
        f" AND b.status IN ({statuses}) AND (b.status <> %s OR b.expires_at > %s)"
        " AND b.id <> %s"
        " UNION ALL"
        f" SELECT e.resource_id, {_epoch('e.starts_at')}, {_epoch('e.ends_at')},"
        " NULL, NULL, NULL, NULL, NULL"
        f" FROM {external} e"
        f" WHERE e.resource_id IN ({ids}) AND e.starts_at < %s AND e.ends_at > %s"
    )
    bounds = [
        connection.ops.adapt_datetimefield_value(hi),
        connection.ops.adapt_datetimefield_value(lo),
    ]
    held = [str(BookingStatus.HELD), connection.ops.adapt_datetimefield_value(now)]
    statuses_in = [str(status) for status in BLOCKING_STATUSES]
    excluded = [exclude_booking or 0]
    params = [*resource_ids, *bounds, *statuses_in, *held, *excluded, *resource_ids, *bounds]
    return sql, params


def load_busy(
    service_id: int,
    resource_ids: list[int],
    lo: datetime,
    hi: datetime,
    *,
    now: datetime,
    exclude_booking: int | None = None,
) -> dict[int, list[scheduling.Busy]]:
    """What occupies each resource between ``lo`` and ``hi``, for the core. One query.

    Allocations of bookings of ``service_id`` carry the booking (it counts
    toward that service's limits and forms its group sessions); other
    bookings and external events only take capacity, events all of it.
    """
    Busy, Booked = scheduling.Busy, scheduling.Booked
    busy: dict[int, list[scheduling.Busy]] = defaultdict(list)
    if not resource_ids:
        return busy
    with connection.cursor() as cursor:
        cursor.execute(*busy_query(resource_ids, lo, hi, now=now, exclude_booking=exclude_booking))
        rows = cursor.fetchall()
    for resource_id, start, end, units, booked_service, starts_at, ends_at, seats in rows:
        if units is None:
            busy[resource_id].append(Busy(start, end, None))
        else:
            booked = Booked(starts_at, ends_at, seats) if booked_service == service_id else None
            busy[resource_id].append(Busy(start, end, units, booked))
    return busy
