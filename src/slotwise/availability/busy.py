"""What occupies resources, read for the slot finder: bookings' allocations and busy events.

This is the hot path of every slot query, so rows come back as tuples of
integers (UTC epoch seconds, computed by the database), never as model
instances or datetimes: a busy provider has hundreds of them per query.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

from django.db.models import BigIntegerField, Func, QuerySet
from django.db.models.sql.compiler import SQLCompiler

from slotwise import scheduling
from slotwise.bookings.models import BLOCKING_STATUSES, Allocation
from slotwise.calendars.models import ExternalBusy

__all__ = ["EpochSeconds", "busy_rows", "load_busy"]


class EpochSeconds(Func):
    """Whole UTC epoch seconds of a datetime column, as the core counts them."""

    # date_part gives a double, cheaper than EXTRACT's numeric; exact for whole seconds.
    template = "FLOOR(DATE_PART('epoch', %(expressions)s))::bigint"
    output_field = BigIntegerField()

    def as_sqlite(self, compiler: SQLCompiler, connection: Any, **extra: Any) -> Any:
        # SQLite keeps datetimes as UTC text; strftime's %s reads it as seconds since
        # the epoch. Doubled twice: once for the template, once for the placeholders.
        return self.as_sql(
            compiler, connection, template="CAST(strftime('%%%%s', %(expressions)s) AS INTEGER)"
        )


def busy_rows(
    resource_ids: list[int], lo: datetime, hi: datetime
) -> tuple[QuerySet[Allocation, tuple[int, ...]], QuerySet[ExternalBusy, tuple[int, ...]]]:
    """The two queries of what occupies ``resource_ids`` between ``lo`` and ``hi``.

    Allocations of cancelled bookings are left out. Both queries are range
    scans of the ``*_slot_lookup`` indexes (resource, start, end);
    ``tests/availability/test_busy_plan.py`` checks the plan on PostgreSQL.
    """
    allocations = Allocation.objects.filter(
        resource_id__in=resource_ids,
        blocked_start__lt=hi,
        blocked_end__gt=lo,
        booking__status__in=BLOCKING_STATUSES,
    ).values_list(
        "resource_id",
        EpochSeconds("blocked_start"),
        EpochSeconds("blocked_end"),
        "units",
        "booking__service_id",
        EpochSeconds("booking__starts_at"),
        EpochSeconds("booking__ends_at"),
        "booking__seats",
    )
    external = ExternalBusy.objects.filter(
        resource_id__in=resource_ids, starts_at__lt=hi, ends_at__gt=lo
    ).values_list("resource_id", EpochSeconds("starts_at"), EpochSeconds("ends_at"))
    return allocations, external


def load_busy(
    service_id: int, resource_ids: list[int], lo: datetime, hi: datetime
) -> dict[int, list[scheduling.Busy]]:
    """What occupies each resource between ``lo`` and ``hi``, for the core. Two queries.

    Allocations of bookings of ``service_id`` carry the booking (it counts
    toward that service's limits and forms its group sessions); other
    bookings and external events only take capacity, events all of it.
    """
    Busy, Booked = scheduling.Busy, scheduling.Booked
    busy: dict[int, list[scheduling.Busy]] = defaultdict(list)
    allocations, external = busy_rows(resource_ids, lo, hi)
    for resource_id, start, end, units, booked_service, starts_at, ends_at, seats in allocations:
        booked = Booked(starts_at, ends_at, seats) if booked_service == service_id else None
        busy[resource_id].append(Busy(start, end, units, booked))
    for resource_id, start, end in external:
        busy[resource_id].append(Busy(start, end, None))
    return busy
