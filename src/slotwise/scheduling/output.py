"""What the slot finder answers: slots grouped by the customer's dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from time import gmtime, strftime
from zoneinfo import ZoneInfo

__all__ = ["Slot", "SlotDay", "iso_local"]


class Slot:
    """A bookable slot: instants in UTC seconds and offsets of the customer's zone."""

    __slots__ = ("end_offset", "end_ts", "remaining", "start_offset", "start_ts", "zone")

    def __init__(
        self,
        start_ts: int,
        end_ts: int,
        start_offset: int,
        end_offset: int,
        remaining: int,
        zone: ZoneInfo,
    ) -> None:
        self.start_ts = start_ts
        self.end_ts = end_ts
        self.start_offset = start_offset
        self.end_offset = end_offset
        self.remaining = remaining
        self.zone = zone

    def __repr__(self) -> str:
        return f"<Slot {self.start_iso()} to {self.end_iso()} remaining={self.remaining}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Slot):
            return NotImplemented
        return (self.start_ts, self.end_ts, self.remaining, self.zone) == (
            other.start_ts,
            other.end_ts,
            other.remaining,
            other.zone,
        )

    def __hash__(self) -> int:
        return hash((self.start_ts, self.end_ts, self.remaining))

    @property
    def start(self) -> datetime:
        """Start in the customer's zone."""
        return datetime.fromtimestamp(self.start_ts, self.zone)

    @property
    def end(self) -> datetime:
        return datetime.fromtimestamp(self.end_ts, self.zone)

    @property
    def start_utc(self) -> datetime:
        return datetime.fromtimestamp(self.start_ts, UTC)

    @property
    def end_utc(self) -> datetime:
        return datetime.fromtimestamp(self.end_ts, UTC)

    def start_iso(self) -> str:
        """``2026-03-08T09:00:00-04:00``, in the customer's zone."""
        return iso_local(self.start_ts, self.start_offset)

    def end_iso(self) -> str:
        return iso_local(self.end_ts, self.end_offset)

    def start_utc_iso(self) -> str:
        """``2026-03-08T13:00:00Z``."""
        return iso_local(self.start_ts, 0, utc=True)

    def end_utc_iso(self) -> str:
        return iso_local(self.end_ts, 0, utc=True)


@dataclass(frozen=True, slots=True)
class SlotDay:
    """The slots that start on one date of the customer's calendar."""

    date: date
    slots: list[Slot]


def iso_local(instant: int, offset: int, *, utc: bool = False) -> str:
    """ISO 8601 for ``instant`` at UTC ``offset`` seconds; ``utc`` writes ``Z``.

    >>> iso_local(1_780_304_400, -4 * 3600)
    '2026-06-01T05:00:00-04:00'
    """
    stamp = strftime("%Y-%m-%dT%H:%M:%S", gmtime(instant + offset))
    if utc:
        return stamp + "Z"
    suffix = _OFFSET_TEXT.get(offset)
    if suffix is None:
        sign = "-" if offset < 0 else "+"
        hours, rest = divmod(abs(offset), 3600)
        suffix = f"{sign}{hours:02d}:{rest // 60:02d}" + (f":{rest % 60:02d}" if rest % 60 else "")
        _OFFSET_TEXT[offset] = suffix
    return stamp + suffix


_OFFSET_TEXT: dict[int, str] = {}
