"""Choosing a slot on a page: a month of days with free slots, then one day's slots.

Used by the booking pages (:mod:`slotwise.web.public`) and by rescheduling.
Slots come from :func:`slotwise.availability.services.find_service_slots`,
the function behind the slots API, so a page never shows a slot the API
would not: one query for a whole month.

Templates ``web/public/_month.html`` and ``web/public/_day.html`` render a
:class:`Month` and a :class:`Day`; they take ``month``/``day``, ``nav_url``
(the page's URL without ``month``/``date``, ending in ``?...&`` or ``?``) and
``choose_url`` (the URL a chosen slot goes to, ending in ``?...&`` or ``?``;
the slot adds ``start=<UTC ISO>``).

Context of ``_month.html``: ``month`` (:class:`Month`), ``nav_url``, and
optionally ``selected`` (the chosen date as ``YYYY-MM-DD``). A day with slots
links to ``{nav_url}month=YYYY-MM&date=YYYY-MM-DD``; with htmx the link swaps
the element ``#slot-day`` of the response into the page, so the view behind
``nav_url`` must render ``_day.html`` within its page (a full page load works
without JavaScript). Month links swap ``#slot-month`` the same way.

Context of ``_day.html``: ``day`` (:class:`Day` or None when no day is chosen),
``choose_url``, ``zone_name`` (shown next to the date), and optionally
``waitlist_url`` (offered when the day has no slot) and ``choose_target``
(a link target for the slots, e.g. ``_blank`` in a frame). Each slot links to
``{choose_url}start=<UTC ISO, url-encoded>`` and carries the instant in
``data-start``; its label is the local wall time of that instant in the
chosen zone.

Parse query parameters with :func:`parse_zone`, :func:`parse_month`,
:func:`parse_date` and :func:`parse_duration`; each raises
:class:`PickerError` with a message to show (answer 400).
"""

from __future__ import annotations

import calendar
import zoneinfo
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from django.utils import formats
from django.utils.translation import gettext

from slotwise.availability.services import find_service_slots
from slotwise.catalog.models import Service

__all__ = [
    "Day",
    "Month",
    "PickerError",
    "SlotChoice",
    "all_zones",
    "day_slots",
    "month_view",
    "parse_date",
    "parse_duration",
    "parse_month",
    "parse_zone",
]


class PickerError(ValueError):
    """A query parameter a person can correct; the message says how."""


@dataclass(frozen=True, slots=True)
class SlotChoice:
    start_utc: str  # ISO 8601 with Z: what the booking form posts
    label: str  # the local wall time, e.g. 17:30
    remaining: int


@dataclass(slots=True)
class Day:
    date: date
    in_month: bool
    slots: list[SlotChoice] = field(default_factory=list)
    past_or_beyond: bool = False

    @property
    def has_slots(self) -> bool:
        return bool(self.slots)

    @property
    def iso(self) -> str:
        return self.date.isoformat()

    @property
    def label(self) -> str:
        return formats.date_format(self.date, "DATE_FORMAT")


@dataclass(slots=True)
class Month:
    first: date
    weeks: list[list[Day]]
    previous: date | None
    next: date | None
    weekday_names: list[str]

    @property
    def title(self) -> str:
        return formats.date_format(self.first, "YEAR_MONTH_FORMAT")

    @property
    def key(self) -> str:
        return f"{self.first:%Y-%m}"

    def days_with_slots(self) -> list[Day]:
        return [d for week in self.weeks for d in week if d.in_month and d.has_slots]


@cache
def all_zones() -> list[str]:
    """Every IANA zone name this machine knows, sorted, for a searchable list."""
    return sorted(zoneinfo.available_timezones())


def parse_zone(name: str | None, default: str) -> ZoneInfo:
    """The zone ``name``, or ``default`` when none is given; :class:`PickerError` for
    a name that is not a zone."""
    chosen = (name or "").strip() or default
    try:
        return ZoneInfo(chosen)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as error:
        raise PickerError(
            gettext("“%(zone)s” is not a time zone we know. Choose one from the list.")
            % {"zone": chosen[:64]}
        ) from error


def parse_month(text: str | None, today: date) -> date:
    """The first day of ``YYYY-MM``, or of ``today``'s month."""
    if not text:
        return today.replace(day=1)
    try:
        year, month = (int(part) for part in text.split("-"))
        return date(year, month, 1)
    except ValueError as error:
        raise PickerError(gettext("The month must look like 2026-07.")) from error


def parse_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise PickerError(gettext("The date must look like 2026-07-31.")) from error


def parse_duration(text: str | None, service: Service) -> int:
    if not text:
        return service.default_duration
    try:
        minutes = int(text)
    except ValueError:
        minutes = -1
    if minutes not in service.durations:
        raise PickerError(
            gettext("%(service)s lasts %(minutes)s minutes.")
            % {"service": service.name, "minutes": ", ".join(str(m) for m in service.durations)}
        )
    return minutes


def _choices(days: list, zone: ZoneInfo) -> dict[date, list[SlotChoice]]:
    found: dict[date, list[SlotChoice]] = {}
    for day in days:
        found[day.date] = [
            SlotChoice(
                start_utc=datetime.fromtimestamp(slot.start_ts, UTC)
                .isoformat()
                .replace("+00:00", "Z"),
                label=formats.time_format(
                    datetime.fromtimestamp(slot.start_ts, UTC).astimezone(zone), "TIME_FORMAT"
                ),
                remaining=slot.remaining,
            )
            for slot in day.slots
        ]
    return found


def month_view(
    service: Service, first: date, zone: ZoneInfo, now: datetime, *, duration: int, seats: int = 1
) -> Month:
    """The weeks (Monday first) around the month of ``first``, each day with its slots
    in ``zone``. Days before today or beyond the booking horizon have none."""
    last = first.replace(day=calendar.monthrange(first.year, first.month)[1])
    today = now.astimezone(zone).date()
    horizon = today + timedelta(days=service.horizon_days + 1) if service.horizon_days else None
    start, end = max(first, today), last if horizon is None else min(last, horizon)
    found = (
        _choices(
            find_service_slots(
                service, first=start, last=end, zone=zone, now=now,
                duration_minutes=duration, seats=seats,
            ),
            zone,
        )
        if start <= end
        else {}
    )  # fmt: skip
    grid_start = first - timedelta(days=first.weekday())
    weeks = []
    day = grid_start
    while day <= last or day.weekday() != 0:
        week = []
        for _ in range(7):
            week.append(
                Day(
                    date=day,
                    in_month=day.month == first.month,
                    slots=found.get(day, []),
                    past_or_beyond=day < today or (horizon is not None and day > horizon),
                )
            )
            day += timedelta(days=1)
        weeks.append(week)
    previous = (first - timedelta(days=1)).replace(day=1)
    following = last + timedelta(days=1)
    return Month(
        first=first,
        weeks=weeks,
        previous=previous if previous >= today.replace(day=1) else None,
        next=following if horizon is None or following <= horizon else None,
        weekday_names=[formats.date_format(grid_start + timedelta(days=n), "D") for n in range(7)],
    )


def day_slots(
    service: Service, day: date, zone: ZoneInfo, now: datetime, *, duration: int, seats: int = 1
) -> Day:
    """One date's slots in ``zone``."""
    found = _choices(
        find_service_slots(
            service, first=day, last=day, zone=zone, now=now, duration_minutes=duration,
            seats=seats,
        ),
        zone,
    )  # fmt: skip
    return Day(date=day, in_month=True, slots=found.get(day, []))
