"""The hours editor's form: a schedule's weekly openings, dated exceptions and closures.

The page lists, per weekday, any number of openings (two make a day with a
break), each a start and an end on the wall clock; then dates with special
hours or closed, and closed periods. Inputs are named by position
(``w1-0-start`` is Tuesday's first opening), so a page without JavaScript
sends spare empty rows, which mean nothing. What the form finds wrong
(a missing end, an end before the start, two openings that overlap) it says
beside the row and sends nothing; the rest is for the service layer, whose
complaints (``weekly_rules.3.end``) go back to the row they came from.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from django.utils.dates import WEEKDAYS
from django.utils.formats import time_format
from django.utils.translation import gettext as _

from slotwise.catalog import services
from slotwise.catalog.models import Schedule
from slotwise.catalog.models.hours import MIDNIGHT
from slotwise.dashboard.editors.common import Errors

__all__ = ["HoursForm", "holiday_countries"]

_CLOCK = re.compile(r"\A(?P<h>[0-9]{1,2}):(?P<m>[0-9]{2})(?::[0-9]{2}(?:\.[0-9]+)?)?\Z")
_WEEKLY = re.compile(r"\Aw(?P<day>[0-6])-(?P<i>[0-9]{1,3})-(?P<part>start|end|from|until)\Z")
_OVERRIDE = re.compile(
    r"\Ao-(?P<i>[0-9]{1,3})-(?P<part>date|note|remove|h(?P<j>[0-9]{1,2})-(?:start|end))\Z"
)
_CLOSURE = re.compile(r"\Ac-(?P<i>[0-9]{1,3})-(?P<part>first|last|reason|remove)\Z")
_DAY_MINUTES = 24 * 60


@dataclass
class Opening:
    """One opening as the page shows it: times as typed, ``HH:MM``."""

    start: str = ""
    end: str = ""
    valid_from: str = ""
    valid_until: str = ""
    errors: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.start.strip() or self.end.strip())


@dataclass
class Day:
    weekday: int
    openings: list[Opening] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(WEEKDAYS[self.weekday])


@dataclass
class OverrideRow:
    date: str = ""
    hours: list[Opening] = field(default_factory=list)
    note: str = ""
    remove: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.date.strip() and all(h.empty for h in self.hours) and not self.note


@dataclass
class ClosureRow:
    first: str = ""
    last: str = ""
    reason: str = ""
    remove: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.first.strip() or self.last.strip() or self.reason.strip())


def _hhmm(moment: time, *, end: bool = False) -> str:
    return "24:00" if end and moment == MIDNIGHT else f"{moment:%H:%M}"


@dataclass
class HoursForm:
    name: str = ""
    holiday_country: str = ""
    holiday_subdivision: str = ""
    days: list[Day] = field(default_factory=lambda: [Day(d) for d in range(7)])
    overrides: list[OverrideRow] = field(default_factory=list)
    closures: list[ClosureRow] = field(default_factory=list)
    errors: Errors = field(default_factory=Errors)
    # The rows sent to the service layer, in its order, for its complaints.
    _sent: dict[str, list[Any]] = field(default_factory=dict)

    # Building the form

    @classmethod
    def of(cls, schedule: Schedule) -> HoursForm:
        """The form showing ``schedule`` as stored."""
        form = cls(
            name=schedule.name,
            holiday_country=schedule.holiday_country,
            holiday_subdivision=schedule.holiday_subdivision,
        )
        for rule in schedule.weekly_rules.all():
            form.days[rule.weekday].openings.append(
                Opening(
                    start=_hhmm(rule.start),
                    end=_hhmm(rule.end, end=True),
                    valid_from=rule.valid_from.isoformat() if rule.valid_from else "",
                    valid_until=rule.valid_until.isoformat() if rule.valid_until else "",
                )
            )
        for override in schedule.overrides.all():
            form.overrides.append(
                OverrideRow(
                    date=override.date.isoformat(),
                    hours=[
                        Opening(start=_hhmm(h.start), end=_hhmm(h.end, end=True))
                        for h in override.hours.all()
                    ],
                    note=override.note,
                )
            )
        for closure in schedule.closures.all():
            form.closures.append(
                ClosureRow(
                    first=closure.first.isoformat(),
                    last=closure.last.isoformat(),
                    reason=closure.reason,
                )
            )
        return form

    @classmethod
    def from_post(cls, data: Mapping[str, Any]) -> HoursForm:
        """The form as the page sent it, rows in the order of their numbers."""
        form = cls(
            name=data.get("name", "").strip(),
            holiday_country=data.get("holiday_country", "").strip().upper(),
            holiday_subdivision=data.get("holiday_subdivision", "").strip().upper(),
        )
        weekly: dict[int, dict[int, Opening]] = defaultdict(dict)
        overrides: dict[int, OverrideRow] = {}
        override_hours: dict[tuple[int, int], Opening] = {}
        closures: dict[int, ClosureRow] = {}
        for key in data:
            value = str(data.get(key, ""))
            if match := _WEEKLY.match(key):
                opening = weekly[int(match["day"])].setdefault(int(match["i"]), Opening())
                attribute = {"from": "valid_from", "until": "valid_until"}.get(
                    match["part"], match["part"]
                )
                setattr(opening, attribute, value.strip())
            elif match := _OVERRIDE.match(key):
                row = overrides.setdefault(int(match["i"]), OverrideRow())
                part = match["part"]
                if match["j"] is not None:
                    hours = override_hours.setdefault((int(match["i"]), int(match["j"])), Opening())
                    setattr(hours, part.rsplit("-", 1)[1], value.strip())
                elif part == "remove":
                    row.remove = True
                else:
                    setattr(row, part, value.strip())
            elif match := _CLOSURE.match(key):
                closure = closures.setdefault(int(match["i"]), ClosureRow())
                if match["part"] == "remove":
                    closure.remove = True
                else:
                    setattr(closure, match["part"], value.strip())
        for weekday, openings in weekly.items():
            form.days[weekday].openings = [openings[i] for i in sorted(openings)]
        for (i, _j), hours in sorted(override_hours.items()):
            overrides.setdefault(i, OverrideRow()).hours.append(hours)
        form.overrides = [overrides[i] for i in sorted(overrides)]
        form.closures = [closures[i] for i in sorted(closures)]
        return form

    def with_spare_rows(self) -> HoursForm:
        """Empty rows to fill in: one more opening per day (two on a closed day),
        two more hours per date, a new date and a new closure."""
        for day in self.days:
            day.openings = [o for o in day.openings if not o.empty or o.errors]
            day.openings.extend(Opening() for _ in range(1 if day.openings else 2))
        for row in self.overrides:
            row.hours = [h for h in row.hours if not h.empty or h.errors]
            row.hours.extend(Opening() for _ in range(max(1, 2 - len(row.hours))))
        self.overrides = [r for r in self.overrides if not r.empty or r.errors]
        self.overrides.append(OverrideRow(hours=[Opening(), Opening()]))
        self.closures = [c for c in self.closures if not c.empty or c.errors]
        self.closures.append(ClosureRow())
        return self

    # Checking it

    def clean(self) -> dict[str, Any] | None:
        """The service layer's input, or None with every problem noted on its row."""
        rules: list[tuple[Opening, services.WeeklyRuleInput]] = []
        for day in self.days:
            ranges = []
            for opening in day.openings:
                span = _span(opening)
                if span is None:
                    continue
                valid_from = _date(opening, opening.valid_from)
                valid_until = _date(opening, opening.valid_until)
                if opening.errors:
                    continue
                ranges.append((opening, span, valid_from, valid_until))
                rules.append(
                    (
                        opening,
                        services.WeeklyRuleInput(
                            day.weekday, span[0], span[1], valid_from, valid_until
                        ),
                    )
                )
            _check_overlaps(ranges)
        overrides: list[tuple[OverrideRow, services.DateOverrideInput]] = []
        seen: dict[date, OverrideRow] = {}
        for row in self.overrides:
            if row.remove or row.empty:
                continue
            day = _date(row, row.date) if row.date else None
            if day is None and not row.errors:
                row.errors.append(_("Give the date these hours are for."))
            elif day in seen:
                row.errors.append(_("This date is listed twice; give each date once."))
            hours = [(h, span) for h in row.hours if (span := _span(h)) is not None]
            _check_overlaps([(h, span, None, None) for h, span in hours])
            if day is None or row.errors or any(h.errors for h in row.hours):
                continue
            seen[day] = row
            overrides.append(
                (
                    row,
                    services.DateOverrideInput(
                        date=day, hours=tuple(span for _, span in hours), note=row.note
                    ),
                )
            )
        closures: list[tuple[ClosureRow, services.ClosureInput]] = []
        for closure in self.closures:
            if closure.remove or closure.empty:
                continue
            first = _date(closure, closure.first) if closure.first else None
            last = _date(closure, closure.last) if closure.last else first
            if first is None and not closure.errors:
                closure.errors.append(_("Give the first day of the closure."))
            if first and last and last < first:
                closure.errors.append(_("The last day must not be before the first."))
            if closure.errors or first is None or last is None:
                continue
            closures.append(
                (closure, services.ClosureInput(first=first, last=last, reason=closure.reason))
            )
        if not self.name:
            self.errors.add("name", _("Give the schedule a name, such as “Opening hours”."))
        if self.has_errors():
            return None
        self._sent = {
            "weekly_rules": [row for row, _ in rules],
            "overrides": [row for row, _ in overrides],
            "closures": [row for row, _ in closures],
        }
        return {
            "name": self.name,
            "holiday_country": self.holiday_country,
            "holiday_subdivision": self.holiday_subdivision,
            "weekly_rules": [rule for _, rule in rules],
            "overrides": [override for _, override in overrides],
            "closures": [closure for _, closure in closures],
        }

    def take(self, errors: Mapping[str, list[str]]) -> None:
        """Put the service layer's complaints on the rows and fields they name."""
        for key, messages in errors.items():
            name, _dot, rest = key.partition(".")
            position, _dot, _field = rest.partition(".")
            rows = self._sent.get(name, [])
            if position.isdigit() and int(position) < len(rows):
                rows[int(position)].errors.extend(messages)
            else:
                self.errors.extend({name if name in _FIELDS else "__all__": list(messages)})

    def has_errors(self) -> bool:
        return (
            bool(self.errors)
            or any(o.errors for day in self.days for o in day.openings)
            or any(r.errors or any(h.errors for h in r.hours) for r in self.overrides)
            or any(c.errors for c in self.closures)
        )


_FIELDS = frozenset({"name", "holiday_country", "holiday_subdivision"})


def _clock(text: str, *, end: bool) -> time | None:
    match = _CLOCK.match(text)
    if match is None:
        return None
    hour, minute = int(match["h"]), int(match["m"])
    if end and hour == 24 and minute == 0:
        return MIDNIGHT
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _span(opening: Opening) -> tuple[time, time] | None:
    """The opening's start and end, or None: empty, or wrong (noted on the opening)."""
    if opening.empty:
        return None
    if not opening.start or not opening.end:
        opening.errors.append(
            _("Give both a start and an end, or leave both empty to remove this opening.")
        )
        return None
    start, end = _clock(opening.start, end=False), _clock(opening.end, end=True)
    if start is None or end is None:
        opening.errors.append(_("Enter times as hours and minutes, such as 09:00."))
        return None
    if end != MIDNIGHT and end <= start:
        opening.errors.append(
            _(
                "The end (%(end)s) must be after the start (%(start)s). For hours past "
                "midnight, end this day at 00:00 and go on from 00:00 the next day."
            )
            % {"end": time_format(end), "start": time_format(start)}
        )
        return None
    return start, end


def _date(row: Opening | OverrideRow | ClosureRow, text: str) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        row.errors.append(_("Enter a date, such as 2027-01-31."))
        return None


def _minutes(moment: time, *, end: bool = False) -> int:
    return _DAY_MINUTES if end and moment == MIDNIGHT else moment.hour * 60 + moment.minute


def _check_overlaps(
    ranges: Iterable[tuple[Opening, tuple[time, time], date | None, date | None]],
) -> None:
    """Note on the later of two openings of a day that they overlap (on dates both
    apply to): the provider meant something else, and should say what."""
    ordered = sorted(ranges, key=lambda r: _minutes(r[1][0]))
    for i, (opening, (start, end), first, last) in enumerate(ordered):
        for _other, (other_start, other_end), other_first, other_last in ordered[:i]:
            if first and other_last and other_last < first:
                continue
            if last and other_first and last < other_first:
                continue
            if _minutes(start) < _minutes(other_end, end=True):
                opening.errors.append(
                    _(
                        "This opening (%(start)s to %(end)s) overlaps %(other_start)s to "
                        "%(other_end)s on the same day. Join them into one, or move one."
                    )
                    % {
                        "start": time_format(start),
                        "end": _shown_end(end),
                        "other_start": time_format(other_start),
                        "other_end": _shown_end(other_end),
                    }
                )
                break


def _shown_end(end: time) -> str:
    return "24:00" if end == MIDNIGHT else time_format(end)


def holiday_countries() -> list[tuple[str, str]]:
    """(code, name) of every country with a public-holiday calendar, by name."""
    from holidays import list_supported_countries, registry

    known = list_supported_countries(include_aliases=False)
    names = {entry[1]: key.replace("_", " ").title() for key, entry in registry.COUNTRIES.items()}
    return sorted(((code, names.get(code, code)) for code in known), key=lambda c: c[1])
