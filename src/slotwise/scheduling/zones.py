"""Wall clocks of IANA zones, as integer arithmetic.

Two kinds of time meet in scheduling (the ``whenever`` library names them
well): an *instant* is an exact moment, here integer seconds since the Unix
epoch in UTC; a *wall time* is what a clock on the wall shows in some zone,
here integer "local seconds": the same count as if that wall time were UTC.
An instant becomes a wall time by adding the zone's offset at that instant.

The way back is not a function. During a spring-forward *gap* some wall
times never happen; during a fall-back *fold* some happen twice. Rather
than guessing, :meth:`ZoneWindow.instants_of` returns every instant that
shows a wall time (none, one or two), and :meth:`ZoneWindow.instants_between`
returns every instant whose wall time lies in a half-open wall range. The
scheduling rules in :mod:`slotwise.scheduling.rules` are defined on top of
these two answers, so the DST policy is stated once, there.

A :class:`ZoneWindow` reads the zone's offsets over a bounded window once
(sampling every 12 hours and bisecting each change to the second) and then
answers in a few integer operations. Two offset changes less than 12 hours
apart would be seen as one; no zone in the tz database does that in the
years a booking system deals with.
"""

from __future__ import annotations

from bisect import bisect_right
from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

__all__ = [
    "DAY",
    "EPOCH_ORDINAL",
    "ZoneWindow",
    "day_number",
    "local_seconds",
    "zone_window",
]

DAY = 86_400
_SAMPLE = 12 * 3_600
EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


def day_number(day: date) -> int:
    """Days since 1970-01-01 (negative before)."""
    return day.toordinal() - EPOCH_ORDINAL


def local_seconds(day: date, seconds_of_day: int) -> int:
    """The wall time ``seconds_of_day`` after midnight of ``day``, as local seconds."""
    return day_number(day) * DAY + seconds_of_day


def _offset(zone: ZoneInfo, instant: int) -> int:
    offset = datetime.fromtimestamp(instant, zone).utcoffset()
    if offset is None:  # pragma: no cover - a ZoneInfo always knows its offset
        raise ValueError(f"{zone} gives no UTC offset")
    return offset.days * DAY + offset.seconds


class ZoneWindow:
    """The offsets of ``zone`` for every instant in ``[start, end)``.

    The window is cut into segments of constant offset; ``starts[i]`` is the
    first instant of segment ``i`` and ``offsets[i]`` its offset in seconds.
    Instants outside the window are answered with the nearest segment.

        >>> w = ZoneWindow(ZoneInfo("Europe/London"), 1_711_843_200, 1_711_929_600)
        >>> w.offsets  # 2024-03-31: GMT, then BST from 01:00 UTC
        [0, 3600]
    """

    __slots__ = ("end", "offsets", "start", "starts", "zone")

    def __init__(self, zone: ZoneInfo, start: int, end: int) -> None:
        self.zone = zone
        self.start = start
        self.end = end
        first = _offset(zone, start)
        self.starts = [start]
        self.offsets = [first]
        previous_t, previous = start, first
        t = start
        while t < end:
            t = min(t + _SAMPLE, end)
            current = _offset(zone, t)
            if current != previous:
                lo, hi = previous_t, t  # offset(lo) == previous, offset(hi) == current
                while hi - lo > 1:
                    mid = (lo + hi) // 2
                    if _offset(zone, mid) == previous:
                        lo = mid
                    else:
                        hi = mid
                self.starts.append(hi)
                self.offsets.append(current)
            previous_t, previous = t, current

    def offset_at(self, instant: int) -> int:
        """The zone's UTC offset in seconds at ``instant``."""
        return self.offsets[max(bisect_right(self.starts, instant) - 1, 0)]

    def wall(self, instant: int) -> int:
        """The wall time (local seconds) shown at ``instant``."""
        return instant + self.offset_at(instant)

    def instants_of(self, wall: int) -> list[int]:
        """Every instant whose wall time is ``wall``: none in a gap, two in a fold."""
        offsets = self.offsets
        if len(offsets) == 1:
            return [wall - offsets[0]]
        starts = self.starts
        found = []
        last = len(starts) - 1
        for i, offset in enumerate(offsets):
            instant = wall - offset
            if (i == 0 or instant >= starts[i]) and (i == last or instant < starts[i + 1]):
                found.append(instant)
        return found

    def instants_between(self, wall_start: int, wall_end: int) -> list[tuple[int, int]]:
        """The instants whose wall time lies in ``[wall_start, wall_end)``, as sorted spans.

        The pieces are returned in time order and may touch; a caller that
        needs a span list passes them through :func:`~.intervals.normalize`.
        """
        offsets = self.offsets
        if len(offsets) == 1:
            return [(wall_start - offsets[0], wall_end - offsets[0])]
        starts = self.starts
        last = len(starts) - 1
        pieces = []
        for i, offset in enumerate(offsets):
            lo = wall_start - offset
            hi = wall_end - offset
            if i > 0 and lo < starts[i]:
                lo = starts[i]
            if i < last and hi > starts[i + 1]:
                hi = starts[i + 1]
            if lo < hi:
                pieces.append((lo, hi))
        return pieces


@lru_cache(maxsize=512)
def zone_window(zone: ZoneInfo, start: int, end: int) -> ZoneWindow:
    """A shared :class:`ZoneWindow`; windows are read-only, and queries repeat."""
    return ZoneWindow(zone, start, end)
