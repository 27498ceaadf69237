"""Opening hours: weekly wall-clock rules, date overrides, closures, holidays.

A provider's hours are wall-clock times in the provider's IANA zone ("Mondays
09:00 to 12:00 and 13:00 to 17:00, Europe/Berlin"). Turning them into
instants follows one policy, stated here and nowhere else:

**A rule covers exactly the instants whose wall-clock reading, on that date,
lies inside the rule.** Everything about DST follows from it:

* a 09:00 to 17:00 rule is 8 real hours on an ordinary day, and still
  exactly 09:00 to 17:00 on the wall on a 23-hour or a 25-hour day; a rule
  that spans the change is one hour shorter or longer in real time;
* a rule time that does not exist that day (inside a spring-forward gap)
  resolves to the moment the clocks jump: a rule starting at 02:30 on a day
  when 02:00 jumps to 03:00 opens at 03:00, one ending at 02:30 closes at
  the jump, and a rule wholly inside the gap is closed that day;
* a rule time that happens twice (inside a fall-back fold) is covered both
  times: a rule starting in the repeated hour opens at its first pass, one
  ending in it closes at the end of its second pass, and the stretch of the
  first pass after the end time, which the clock shows again later, is
  closed (a rule 00:00 to 01:30 with 02:00 falling back to 01:00 covers
  00:00 to 01:30 first pass, and 01:00 to 01:30 second pass).

Per date, the most specific statement wins: a :class:`DateOverride` (special
hours, or closed) beats a :class:`Closure` (the provider's own days off),
which beats a public holiday from :class:`HolidayCalendar`, which beats the
weekly rules valid on that date. Rules cannot cross midnight; an overnight
opening is two rules (Mon 22:00 to 24:00 and Tue 00:00 to 02:00), and the
two pieces merge into one stretch. Write 24:00 as ``time(0)`` in the end
position.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from slotwise.scheduling.intervals import normalize
from slotwise.scheduling.zones import DAY, ZoneWindow, local_seconds

__all__ = [
    "Closure",
    "DateOverride",
    "HolidayCalendar",
    "Hours",
    "Schedule",
    "WeeklyRule",
]

Hours = tuple[time, time]
"""A wall-clock range within one day: start, and end with ``time(0)`` meaning 24:00."""


def _seconds(moment: time) -> int:
    if moment.tzinfo is not None:
        raise ValueError(f"rule times are wall-clock times without a zone, got {moment!r}")
    return moment.hour * 3600 + moment.minute * 60 + moment.second


def _range_seconds(start: time, end: time) -> tuple[int, int]:
    start_s = _seconds(start)
    end_s = _seconds(end) or DAY
    if end_s <= start_s:
        raise ValueError(
            f"opening hours must end after they start within one day, got {start} to {end} "
            "(split an overnight opening into two rules)"
        )
    return start_s, end_s


@dataclass(frozen=True, slots=True)
class WeeklyRule:
    """Open on ``weekday`` (0 is Monday) from ``start`` to ``end``, wall clock.

    ``valid_from`` and ``valid_until`` (both inclusive) limit the dates the
    rule applies to, for a change of hours that is known in advance.

        >>> WeeklyRule(0, time(9), time(12))
        WeeklyRule(weekday=0, start=datetime.time(9, 0), end=datetime.time(12, 0), ...)
    """

    weekday: int
    start: time
    end: time
    valid_from: date | None = None
    valid_until: date | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0 (Monday) to 6 (Sunday), got {self.weekday}")
        _range_seconds(self.start, self.end)
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise ValueError("a rule's valid_until is before its valid_from")

    def applies(self, day: date) -> bool:
        return (self.valid_from is None or self.valid_from <= day) and (
            self.valid_until is None or day <= self.valid_until
        )


@dataclass(frozen=True, slots=True)
class DateOverride:
    """On ``date``, open exactly during ``hours`` instead of the usual rules.

    Empty ``hours`` means closed all day.
    """

    date: date
    hours: tuple[Hours, ...] = ()

    def __post_init__(self) -> None:
        for start, end in self.hours:
            _range_seconds(start, end)


@dataclass(frozen=True, slots=True)
class Closure:
    """The provider's own days off, ``first`` to ``last`` inclusive."""

    first: date
    last: date
    reason: str = ""

    def __post_init__(self) -> None:
        if self.last < self.first:
            raise ValueError("a closure's last day is before its first")


@dataclass(frozen=True, slots=True)
class HolidayCalendar:
    """Public holidays of a country (ISO 3166-1 code) and optional subdivision.

    Backed by the ``holidays`` package; each year is read once per process.
    """

    country: str
    subdivision: str | None = None

    def __post_init__(self) -> None:
        _holiday_dates(self.country, self.subdivision, 2000)  # fails early on a bad code

    def dates(self, first: date, last: date) -> frozenset[date]:
        found: set[date] = set()
        for year in range(first.year, last.year + 1):
            found.update(_holiday_dates(self.country, self.subdivision, year))
        return frozenset(found)


@lru_cache(maxsize=1024)
def _holiday_dates(country: str, subdivision: str | None, year: int) -> frozenset[date]:
    import holidays

    try:
        calendar = holidays.country_holidays(country, subdiv=subdivision, years=year)
    except NotImplementedError as exc:
        raise ValueError(f"unknown holiday country {country!r}") from exc
    return frozenset(calendar.keys())


@dataclass(frozen=True, slots=True)
class Schedule:
    """When a resource is open: rules in its IANA ``zone``.

    >>> schedule = Schedule(
    ...     ZoneInfo("Europe/Berlin"),
    ...     weekly=(WeeklyRule(0, time(9), time(12)), WeeklyRule(0, time(13), time(17))),
    ...     holidays=HolidayCalendar("DE", "BE"),
    ... )
    >>> schedule.hours_on(date(2026, 6, 1))  # a Monday: seconds after midnight
    [(32400, 43200), (46800, 61200)]
    """

    zone: ZoneInfo
    weekly: tuple[WeeklyRule, ...] = ()
    overrides: tuple[DateOverride, ...] = ()
    closures: tuple[Closure, ...] = ()
    holidays: HolidayCalendar | None = None
    _by_weekday: tuple[tuple[WeeklyRule, ...], ...] = field(init=False, repr=False, compare=False)
    _overrides: dict[date, tuple[tuple[int, int], ...]] = field(
        init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        by_weekday = tuple(
            tuple(rule for rule in self.weekly if rule.weekday == weekday) for weekday in range(7)
        )
        object.__setattr__(self, "_by_weekday", by_weekday)
        overrides: dict[date, tuple[tuple[int, int], ...]] = {}
        for override in self.overrides:
            if override.date in overrides:
                raise ValueError(f"two overrides for {override.date}")
            overrides[override.date] = tuple(_range_seconds(s, e) for s, e in override.hours)
        object.__setattr__(self, "_overrides", overrides)

    def hours_on(self, day: date, holidays: frozenset[date] = frozenset()) -> list[tuple[int, int]]:
        """Wall-clock opening ranges on ``day`` as seconds after midnight.

        ``holidays`` are the public holidays in force (see :meth:`holiday_dates`).
        """
        special = self._overrides.get(day)
        if special is not None:
            return list(special)
        if day in holidays or any(c.first <= day <= c.last for c in self.closures):
            return []
        return [
            _range_seconds(rule.start, rule.end)
            for rule in self._by_weekday[day.weekday()]
            if rule.applies(day)
        ]

    def holiday_dates(self, first: date, last: date) -> frozenset[date]:
        return self.holidays.dates(first, last) if self.holidays else frozenset()

    def wall_ranges(self, first: date, last: date) -> list[tuple[int, int]]:
        """Opening ranges from ``first`` to ``last`` inclusive, as local seconds, in order."""
        holidays = self.holiday_dates(first, last)
        ranges = []
        day = first
        one = timedelta(days=1)
        while day <= last:
            for start, end in sorted(self.hours_on(day, holidays)):
                ranges.append((local_seconds(day, start), local_seconds(day, end)))
            day += one
        return ranges

    def open_spans(self, first: date, last: date, window: ZoneWindow) -> list[tuple[int, int]]:
        """The instants open from ``first`` to ``last`` (local dates), as a span list."""
        return spans_of(self.wall_ranges(first, last), window)


def spans_of(wall_ranges: Iterable[tuple[int, int]], window: ZoneWindow) -> list[tuple[int, int]]:
    """The instants whose wall time lies in any of ``wall_ranges``, as a span list."""
    pieces: list[tuple[int, int]] = []
    for start, end in wall_ranges:
        pieces.extend(window.instants_between(start, end))
    return normalize(pieces)
