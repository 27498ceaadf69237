"""Recurring bookings: the occurrences of a series, from an RFC 5545 RRULE.

A customer may book a series ("every second Tuesday of the month at 14:00,
six times"). The series is read on the provider's wall clock, as opening
hours are (see :mod:`slotwise.scheduling.rules`): a weekly 14:00 booking in
Europe/Berlin is at 14:00 on the wall every week, so its UTC instant moves by
an hour when the clocks change. :func:`expand` lists the occurrences, with
these policies:

* **The first start is the first occurrence**, exactly as given, including
  which pass of a repeated hour it names. A rule that would not produce it
  (``BYDAY=TU`` from a Monday) is an error rather than a series silently
  moved to the next Tuesday, and so is a first start the clocks skip.
* **A wall time the clocks skip is not moved.** An occurrence whose wall time
  falls in a spring-forward gap keeps its place in the series but has no
  instant and is not bookable; :attr:`Occurrence.reason` says why. (RFC 5545
  would move it forward by the length of the gap, booking a time nobody
  chose.) The slot finder likewise offers no slot at such a time.
* **A wall time that happens twice takes its first pass**, as in RFC 5545:
  of the two slots the slot finder offers in a fall-back fold, the earlier.
* **A series ends.** The rule gives ``COUNT`` or ``UNTIL``, not both, and
  has at most ``max_occurrences`` occurrences. Skipped occurrences count, as
  ``COUNT`` counts them. ``UNTIL`` is either a date, inclusive on the
  provider's wall clock, or a UTC time ending in ``Z``, inclusive and
  compared with the instants; a skipped wall time is measured there with the
  offset in force before the gap (the ``fold=0`` reading of PEP 495).
* **Dates a month lacks are skipped**, as in RFC 5545: monthly on the 31st
  has no occurrence in April. ``BYDAY=-1FR`` (the last Friday) and
  ``BYMONTHDAY=-1`` (the last day) say what is usually meant.
* **A rule says which days, never which times.** Supported parts are
  ``FREQ`` (``DAILY``, ``WEEKLY`` or ``MONTHLY``), ``INTERVAL``, ``COUNT``,
  ``UNTIL``, ``BYDAY`` (numbered, as in ``2TU`` or ``-1FR``, only when
  monthly), ``BYMONTHDAY`` (not when weekly) and ``WKST``. The time of day
  comes from the first start; any other part, such as ``BYHOUR``,
  ``BYSETPOS``, ``BYMONTH`` or a ``DTSTART`` inside the rule, is refused.

The days are computed by ``dateutil.rrule`` on the naive wall-clock time,
then placed in the zone.

    >>> berlin = ZoneInfo("Europe/Berlin")
    >>> series = expand("RRULE:FREQ=WEEKLY;COUNT=3", datetime(2026, 3, 23, 14, tzinfo=berlin))
    >>> [o.start.isoformat() for o in series if o.start]
    ['2026-03-23T14:00:00+01:00', '2026-03-30T14:00:00+02:00', '2026-04-06T14:00:00+02:00']

    >>> new_york = ZoneInfo("America/New_York")
    >>> early = expand("FREQ=WEEKLY;COUNT=2", datetime(2026, 3, 1, 2, 30, tzinfo=new_york))
    >>> early[1]
    Occurrence(wall=datetime.datetime(2026, 3, 8, 2, 30), start=None)
    >>> early[1].reason
    'the clocks skip this time that day'
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from dateutil import rrule as dateutil_rrule

__all__ = ["SKIPPED", "Occurrence", "RecurrenceError", "expand"]

SKIPPED = "the clocks skip this time that day"
"""The reason an occurrence is not bookable when its wall time does not exist."""

_Freq = Literal[0, 1, 2, 3, 4, 5, 6]
_FREQS: dict[str, _Freq] = {
    "DAILY": dateutil_rrule.DAILY,
    "WEEKLY": dateutil_rrule.WEEKLY,
    "MONTHLY": dateutil_rrule.MONTHLY,
}
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_SUPPORTED = ("FREQ", "INTERVAL", "COUNT", "UNTIL", "BYDAY", "BYMONTHDAY", "WKST")
_UNSUPPORTED = frozenset(
    {
        "BYSECOND",
        "BYMINUTE",
        "BYHOUR",
        "BYMONTH",
        "BYYEARDAY",
        "BYWEEKNO",
        "BYSETPOS",
        "BYEASTER",
        "RSCALE",
        "SKIP",
    }
)
_BYDAY = re.compile(r"([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)")
_UNTIL_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})")
_UNTIL_TIME = re.compile(r"(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(Z?)")
# How far ahead to look for the day a rule would start on, to name it in an error.
_LOOKAHEAD = timedelta(days=366 * 8)


class RecurrenceError(ValueError):
    """A recurrence rule that cannot describe a booking series; the message says why."""


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One occurrence of a series.

    ``wall`` is its naive date and time on the provider's wall clock.
    ``start`` is the instant, an aware datetime in the provider's zone, or
    ``None`` when the clocks skip ``wall`` that day; such an occurrence is
    not bookable.
    """

    wall: datetime
    start: datetime | None

    @property
    def bookable(self) -> bool:
        return self.start is not None

    @property
    def reason(self) -> str:
        """Why the occurrence is not bookable; empty when it is."""
        return "" if self.start is not None else SKIPPED


@dataclass(frozen=True, slots=True)
class _Rule:
    freq: _Freq
    interval: int = 1
    count: int | None = None
    until_date: date | None = None
    until_instant: datetime | None = None
    byweekday: tuple[dateutil_rrule.weekday, ...] | None = None
    bymonthday: tuple[int, ...] | None = None
    wkst: int = 0


def expand(rrule: str, first_start: datetime, *, max_occurrences: int = 104) -> list[Occurrence]:
    """The occurrences of the series ``rrule`` starting at ``first_start``, in order.

    ``first_start`` is aware, its ``tzinfo`` the provider's ``ZoneInfo``; it
    is the first occurrence. ``rrule`` may start with ``RRULE:``. Raises
    :class:`RecurrenceError` for a rule outside the policies in the module
    docstring.

        >>> series = expand(
        ...     "FREQ=MONTHLY;BYDAY=-1FR;UNTIL=20260630",
        ...     datetime(2026, 4, 24, 9, 30, tzinfo=ZoneInfo("Asia/Kathmandu")),
        ... )
        >>> [o.start.isoformat() for o in series if o.start]
        ['2026-04-24T09:30:00+05:45', '2026-05-29T09:30:00+05:45', '2026-06-26T09:30:00+05:45']
    """
    if max_occurrences < 1:
        raise ValueError("max_occurrences must be at least 1")
    zone = _zone_of(first_start)
    rule = _parse(rrule)
    first_wall = first_start.replace(tzinfo=None, fold=0)
    _check_bounds(rule, first_start, max_occurrences)

    if next(_days(rule, first_wall, until=first_wall), None) is None:
        later = next(_days(rule, first_wall, until=_later(first_wall, _LOOKAHEAD)), None)
        would_be = f"; its first would be {_show(later)}" if later is not None else ""
        raise RecurrenceError(
            f"the rule does not produce the first start, {_show(first_wall)}{would_be}: "
            "start the series on a day the rule names"
        )

    occurrences = [Occurrence(first_wall, first_start)]
    walls = _walls(rule, first_wall, zone)
    next(walls)  # the first start, checked above
    for wall in walls:
        if rule.until_instant is not None and wall.replace(tzinfo=zone) > rule.until_instant:
            break
        if len(occurrences) == max_occurrences:
            raise RecurrenceError(
                f"the series has more than {max_occurrences} occurrences; "
                "end it sooner with UNTIL or book fewer with COUNT"
            )
        occurrences.append(_occurrence(wall, zone))
    if rule.count is not None and len(occurrences) < rule.count:
        raise RecurrenceError(
            f"the series runs past the year 9999 after {len(occurrences)} of its "
            f"COUNT={rule.count} occurrences"
        )
    return occurrences


def _occurrence(wall: datetime, zone: ZoneInfo) -> Occurrence:
    """``wall`` placed in ``zone``: its first pass, or no instant when the clocks skip it.

    >>> _occurrence(datetime(2026, 11, 1, 1, 30), ZoneInfo("America/New_York")).start
    datetime.datetime(2026, 11, 1, 1, 30, tzinfo=zoneinfo.ZoneInfo(key='America/New_York'))
    """
    start = wall.replace(tzinfo=zone)  # fold=0, the first pass of a repeated time
    if start.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != wall:
        return Occurrence(wall, None)
    return Occurrence(wall, start)


def _zone_of(first_start: datetime) -> ZoneInfo:
    zone = first_start.tzinfo
    if not isinstance(zone, ZoneInfo):
        raise RecurrenceError(
            f"the first start must carry the provider's zone as a zoneinfo.ZoneInfo, "
            f"got {first_start!r}"
        )
    if first_start.microsecond:
        raise RecurrenceError(f"the first start must be whole seconds, got {first_start}")
    if _occurrence(first_start.replace(tzinfo=None, fold=0), zone).start is None:
        raise RecurrenceError(
            f"the first start {_show(first_start)} does not exist in {zone.key}: "
            "the clocks skip this time that day"
        )
    return zone


def _check_bounds(rule: _Rule, first_start: datetime, max_occurrences: int) -> None:
    if rule.count is not None and rule.count > max_occurrences:
        raise RecurrenceError(
            f"COUNT={rule.count} is more than the {max_occurrences} occurrences a series may have"
        )
    if rule.until_date is not None and rule.until_date < first_start.date():
        raise RecurrenceError(
            f"UNTIL {rule.until_date} is before the first start {_show(first_start)}"
        )
    if rule.until_instant is not None and rule.until_instant < first_start:
        raise RecurrenceError(
            f"UNTIL {rule.until_instant:%Y-%m-%d %H:%M:%S} UTC is before the first start "
            f"{_show(first_start)} ({first_start.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC)"
        )


def _walls(rule: _Rule, first_wall: datetime, zone: ZoneInfo) -> Iterator[datetime]:
    """The series' wall times from the first, up to the rule's end on the wall clock.

    An ``UNTIL`` instant is turned into a wall time a day late; the caller
    compares instants exactly.
    """
    until = None
    if rule.until_date is not None:
        until = datetime.combine(rule.until_date, time.max)
    elif rule.until_instant is not None:
        until = _later(rule.until_instant.astimezone(zone).replace(tzinfo=None), timedelta(days=1))
    return _days(rule, first_wall, until=until, count=rule.count)


def _days(
    rule: _Rule, first_wall: datetime, *, until: datetime | None, count: int | None = None
) -> Iterator[datetime]:
    days = dateutil_rrule.rrule(
        rule.freq,
        dtstart=first_wall,
        interval=rule.interval,
        wkst=rule.wkst,
        byweekday=rule.byweekday,
        bymonthday=rule.bymonthday,
        count=count,
        until=until,
    )
    yield from days


def _later(wall: datetime, delta: timedelta) -> datetime:
    try:
        return wall + delta
    except OverflowError:
        return datetime.combine(date.max, time.max)


def _show(moment: datetime) -> str:
    """``Monday 2026-03-02 14:00``, a wall time as people read it."""
    return f"{moment:%A %Y-%m-%d %H:%M}"


def _parse(text: str) -> _Rule:
    """Read and check an RRULE value, with or without ``RRULE:`` in front."""
    body = text.strip()
    if body.upper().startswith("RRULE:"):
        body = body[len("RRULE:") :]
    if not body or any(c in body for c in ":\r\n"):
        raise RecurrenceError(
            f"cannot read the rule {text!r}: give one RRULE such as 'FREQ=WEEKLY;COUNT=10'"
        )
    parts: dict[str, str] = {}
    for piece in body.upper().split(";"):
        name, equals, value = piece.partition("=")
        name, value = name.strip(), value.strip()
        if not equals or not name or not value:
            raise RecurrenceError(
                f"cannot read the rule {text!r}: {piece!r} is not a NAME=VALUE part"
            )
        if name in parts:
            raise RecurrenceError(f"the rule {text!r} gives {name} twice")
        _check_supported(name)
        parts[name] = value

    if "FREQ" not in parts:
        raise RecurrenceError(f"the rule {text!r} has no FREQ")
    freq = parts["FREQ"]
    if freq not in _FREQS:
        raise RecurrenceError(
            f"FREQ={freq} is not supported: a series repeats DAILY, WEEKLY or MONTHLY"
        )
    if "COUNT" in parts and "UNTIL" in parts:
        raise RecurrenceError("the rule gives both COUNT and UNTIL; give one of them")
    if "COUNT" not in parts and "UNTIL" not in parts:
        raise RecurrenceError(
            "the rule has neither COUNT nor UNTIL; a series must end, so give one of them"
        )
    until_date, until_instant = _until(parts.get("UNTIL"))
    return _Rule(
        freq=_FREQS[freq],
        interval=_whole("INTERVAL", parts.get("INTERVAL", "1")),
        count=_whole("COUNT", parts["COUNT"]) if "COUNT" in parts else None,
        until_date=until_date,
        until_instant=until_instant,
        byweekday=_byday(parts["BYDAY"], freq) if "BYDAY" in parts else None,
        bymonthday=_bymonthday(parts["BYMONTHDAY"], freq) if "BYMONTHDAY" in parts else None,
        wkst=_weekday("WKST", parts.get("WKST", "MO")),
    )


def _check_supported(name: str) -> None:
    supported = ", ".join(_SUPPORTED)
    if name == "DTSTART":
        raise RecurrenceError(
            "DTSTART inside the rule is not supported: the series starts at the first start"
        )
    if name in _UNSUPPORTED:
        raise RecurrenceError(
            f"{name} is not supported in a booking series; the parts a series may use are "
            f"{supported}"
        )
    if name not in _SUPPORTED:
        raise RecurrenceError(
            f"unknown rule part {name!r}; the parts a series may use are {supported}"
        )


def _whole(name: str, value: str) -> int:
    """A positive whole number.

    >>> _whole("INTERVAL", "0")
    Traceback (most recent call last):
    ...
    slotwise.scheduling.recurrence.RecurrenceError: INTERVAL must be at least 1, got 0
    """
    if not re.fullmatch(r"[+-]?\d{1,9}", value):
        raise RecurrenceError(f"{name} must be a whole number, got {value!r}")
    number = int(value)
    if number < 1:
        raise RecurrenceError(f"{name} must be at least 1, got {number}")
    return number


def _weekday(name: str, value: str) -> int:
    if value not in _WEEKDAYS:
        raise RecurrenceError(f"{name} must be one of {', '.join(_WEEKDAYS)}, got {value!r}")
    return _WEEKDAYS.index(value)


def _byday(value: str, freq: str) -> tuple[dateutil_rrule.weekday, ...]:
    days = []
    for item in value.split(","):
        match = _BYDAY.fullmatch(item.strip())
        if match is None:
            raise RecurrenceError(
                f"BYDAY={value}: {item!r} is not a weekday such as TU, 2TU or -1FR"
            )
        number, name = match.groups()
        nth = int(number) if number else None
        if nth is not None and freq != "MONTHLY":
            raise RecurrenceError(
                f"BYDAY={value}: a numbered weekday such as {item} needs FREQ=MONTHLY"
            )
        if nth is not None and not 1 <= abs(nth) <= 5:
            raise RecurrenceError(
                f"BYDAY={value}: a month has at most five of each weekday; "
                "number them 1 to 5, or -1 to -5 from the end"
            )
        days.append(dateutil_rrule.weekday(_WEEKDAYS.index(name), nth))
    return tuple(days)


def _bymonthday(value: str, freq: str) -> tuple[int, ...]:
    if freq == "WEEKLY":
        raise RecurrenceError("BYMONTHDAY cannot be used with FREQ=WEEKLY")
    days = []
    for item in value.split(","):
        item = item.strip()
        if not re.fullmatch(r"[+-]?\d{1,2}", item) or not 1 <= abs(int(item)) <= 31:
            raise RecurrenceError(
                f"BYMONTHDAY={value}: {item!r} is not a day of the month, 1 to 31 or -1 to -31"
            )
        days.append(int(item))
    return tuple(days)


def _until(value: str | None) -> tuple[date | None, datetime | None]:
    """``UNTIL`` as a wall-clock date or a UTC instant (the other one ``None``)."""
    if value is None:
        return None, None
    day = _UNTIL_DATE.fullmatch(value)
    moment = _UNTIL_TIME.fullmatch(value)
    if moment and not moment.group(7):
        raise RecurrenceError(
            f"UNTIL={value} has no zone: give a date (20261231) "
            "or a UTC time ending in Z (20261231T230000Z)"
        )
    try:
        if day:
            year, month, dom = (int(g) for g in day.groups())
            return date(year, month, dom), None
        if moment:
            year, month, dom, hour, minute, second = (int(g) for g in moment.groups()[:6])
            return None, datetime(year, month, dom, hour, minute, second, tzinfo=UTC)
    except ValueError as exc:
        raise RecurrenceError(f"UNTIL={value} is not a real date or time") from exc
    raise RecurrenceError(
        f"UNTIL={value} is neither a date (20261231) nor a UTC time (20261231T230000Z)"
    )
