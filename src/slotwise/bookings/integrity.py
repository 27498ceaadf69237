"""Checks that scan the whole database for what must never happen.

The booking engine prevents a double booking by locking and, on PostgreSQL,
by an exclusion constraint; these scans are the independent witness, used by
the race and load tests, and cheap enough for an operator to run.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime

from slotwise.bookings.models import BLOCKING_STATUSES, Allocation, Booking
from slotwise.organizations.tenancy import unscoped

__all__ = ["overbooked_instants"]

COLUMNS = (
    "resource_id",
    "resource__capacity",
    "blocked_start",
    "blocked_end",
    "units",
    "booking__service_id",
    "booking__service__seats_per_slot",
)


def overbooked_instants() -> int:
    """Instants where some resource holds more than its capacity, plus group sessions
    sold beyond their seats, in every organization; 0 when all is well."""
    load: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    capacity: dict[int, int] = {}
    sessions: set[tuple[int, int, datetime, datetime]] = set()
    with unscoped():
        allocations = list(
            Allocation.objects.filter(booking__status__in=BLOCKING_STATUSES).values_list(*COLUMNS)
        )
        seated = list(
            Booking.objects.filter(
                status__in=BLOCKING_STATUSES, service__seats_per_slot__isnull=False
            ).values_list("service_id", "starts_at", "service__seats_per_slot", "seats")
        )
    for resource, cap, start, end, units, service, per_slot in allocations:
        capacity[resource] = cap
        if per_slot is None:
            load[resource] += [(start, units), (end, -units)]
        else:  # the bookings of one session occupy the resource once
            sessions.add((resource, service, start, end))
    for resource, _, start, end in sessions:
        load[resource] += [(start, 1), (end, -1)]
    over = 0
    for resource, events in load.items():
        level = 0
        for _, delta in sorted(events):  # at one instant, releases before takes
            level += delta
            over += level > capacity[resource]
    sold: Counter[tuple[int, datetime, int]] = Counter()
    for service, start, per_slot, seats in seated:
        sold[(service, start, per_slot)] += seats
    return over + sum(1 for (_, _, per_slot), seats in sold.items() if seats > per_slot)
