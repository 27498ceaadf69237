"""What the slot finder is given: a service's rules and its resources' calendars.

Instants are integer UTC epoch seconds wherever there are many of them (busy
entries); each such type has a ``between`` constructor taking aware
datetimes.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from slotwise.scheduling.rules import Schedule

__all__ = ["Booked", "Busy", "Limits", "ResourceCalendar", "ServiceRules", "instant"]

_ZERO = timedelta(0)


def instant(moment: datetime) -> int:
    """Whole UTC epoch seconds of an aware datetime; naive ones are refused."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"instants must be timezone-aware, got naive {moment!r}")
    return int(moment.timestamp())


def _whole_seconds(name: str, value: timedelta, *, positive: bool = False) -> int:
    seconds = int(value.total_seconds())
    if value != timedelta(seconds=seconds):
        raise ValueError(f"{name} must be whole seconds, got {value}")
    if seconds < 0 or (positive and seconds == 0):
        raise ValueError(f"{name} must be {'positive' if positive else 'zero or more'}")
    return seconds


@dataclass(frozen=True, slots=True)
class Limits:
    """Most bookings and booked minutes of a service per resource, per day and week."""

    bookings_per_day: int | None = None
    minutes_per_day: int | None = None
    bookings_per_week: int | None = None
    minutes_per_week: int | None = None

    @property
    def any(self) -> bool:
        return any(
            v is not None
            for v in (
                self.bookings_per_day,
                self.minutes_per_day,
                self.bookings_per_week,
                self.minutes_per_week,
            )
        )


@dataclass(frozen=True, slots=True)
class ServiceRules:
    """What a service asks of a slot.

    ``step`` defaults to the duration. ``horizon`` of ``None`` means no limit.
    ``seats_per_slot`` of ``None`` means one booking per slot takes the
    requested seats from the resources' capacity; a number makes the service a
    group service whose slots sell that many seats (see module docs).
    """

    duration: timedelta
    step: timedelta | None = None
    buffer_before: timedelta = _ZERO
    buffer_after: timedelta = _ZERO
    min_notice: timedelta = _ZERO
    horizon: timedelta | None = None
    seats_per_slot: int | None = None
    limits: Limits = field(default_factory=Limits)

    def __post_init__(self) -> None:
        _whole_seconds("duration", self.duration, positive=True)
        if self.step is not None:
            _whole_seconds("step", self.step, positive=True)
        _whole_seconds("buffer_before", self.buffer_before)
        _whole_seconds("buffer_after", self.buffer_after)
        _whole_seconds("min_notice", self.min_notice)
        if self.horizon is not None:
            _whole_seconds("horizon", self.horizon)
        if self.seats_per_slot is not None and self.seats_per_slot < 1:
            raise ValueError("seats_per_slot must be at least 1")


@dataclass(frozen=True, slots=True)
class Booked:
    """A booking of the queried service: its booked time (buffers excluded) and seats.

    ``start`` and ``end`` are UTC epoch seconds; :meth:`between` takes
    aware datetimes.
    """

    start: int
    end: int
    seats: int = 1

    @classmethod
    def between(cls, start: datetime, end: datetime, seats: int = 1) -> Booked:
        return cls(instant(start), instant(end), seats)


@dataclass(frozen=True, slots=True)
class Busy:
    """Something that occupies a resource from ``start`` to ``end`` (UTC epoch seconds).

    For a booking, the range is its blocked range (booked time plus buffers)
    and ``booking`` is set when it is a booking of the service being queried
    (it then counts toward the service's limits and may form a group
    session). ``units=None`` blocks the whole resource, as an external
    calendar event does. Instants are integers because a busy provider has
    hundreds of these per query; :meth:`between` takes aware datetimes.

        >>> from datetime import UTC
        >>> Busy.between(datetime(2026, 6, 1, 9, tzinfo=UTC), datetime(2026, 6, 1, 10, tzinfo=UTC))
        Busy(start=1780304400, end=1780308000, units=1, booking=None)
    """

    start: int
    end: int
    units: int | None = 1
    booking: Booked | None = None

    @classmethod
    def between(
        cls,
        start: datetime,
        end: datetime,
        units: int | None = 1,
        booking: Booked | None = None,
    ) -> Busy:
        return cls(instant(start), instant(end), units, booking)


@dataclass(frozen=True, slots=True)
class ResourceCalendar:
    """One resource as the slot finder sees it."""

    key: Hashable
    schedule: Schedule
    capacity: int = 1
    busy: tuple[Busy, ...] = ()

    def __post_init__(self) -> None:
        if self.capacity < 1:
            raise ValueError("a resource's capacity must be at least 1")
