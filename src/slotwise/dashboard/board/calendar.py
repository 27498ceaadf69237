"""The dashboard's calendar: a week (one column a day) or a day (one column a resource).

Bookings come from :func:`slotwise.bookings.queries.bookings_starting`, the
query behind the staff API's list, with the caller's ``resource_ids``: a
staff member sees the bookings of the resources that are them and no
others. Dates and times are the organization's wall clock. Three queries
(resources, bookings with their services, what they hold), however many
bookings there are.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.dateformat import format as format_date
from django.utils.translation import gettext, gettext_lazy, pgettext
from django.views.decorators.http import require_GET

from slotwise.accounts.access import Caller
from slotwise.accounts.permissions import Permission
from slotwise.availability.services import SlotQueryError
from slotwise.bookings import queries
from slotwise.bookings.local_times import utc_offset
from slotwise.bookings.models import Booking, BookingStatus
from slotwise.catalog.models import Resource
from slotwise.dashboard.access import member_page, navigation
from slotwise.dashboard.board.statuses import status_of
from slotwise.organizations.validators import zone_named

__all__ = ["calendar"]

TEMPLATE = "dashboard/board/calendar.html"

# More bookings than this in one view are cut off, with a note to filter.
LIMIT = 500

# The dates a calendar may show: those the booking queries accept.
FIRST_DATE = date(1970, 1, 8)
LAST_DATE = date(2999, 12, 24)


class CalendarQuery(forms.Form):
    """The calendar's query string; every field may be left out."""

    view = forms.ChoiceField(
        label=gettext_lazy("View"),
        choices=[("week", gettext_lazy("Week")), ("day", gettext_lazy("Day"))],
        required=False,
    )
    date = forms.DateField(
        label=gettext_lazy("Date"),
        required=False,
        input_formats=["%Y-%m-%d"],
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )
    resource = forms.TypedChoiceField(
        label=gettext_lazy("Resource"), coerce=int, required=False, empty_value=None
    )
    cancelled = forms.BooleanField(label=gettext_lazy("Show cancelled bookings"), required=False)

    def __init__(self, *args: Any, resources: list[Resource], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["resource"].choices = [  # type: ignore[attr-defined]
            ("", gettext("All resources")),
            *((r.pk, r.name) for r in resources),
        ]

    def clean_date(self) -> date | None:
        day: date | None = self.cleaned_data.get("date")
        if day is not None and not FIRST_DATE <= day <= LAST_DATE:
            raise forms.ValidationError(
                gettext("Choose a date between %(first)s and %(last)s.")
                % {"first": FIRST_DATE.isoformat(), "last": LAST_DATE.isoformat()}
            )
        return day


@dataclass
class Entry:
    """One booking in one column."""

    booking: Booking
    start: str  # wall time in the organization's zone, e.g. 09:00
    end: str
    ends_another_day: bool
    status: dict[str, Any]
    resources: list[str]


@dataclass
class Column:
    key: str  # an id for the page: day-2026-06-01, resource-7, released
    title: str
    subtitle: str = ""
    link: str = ""
    today: bool = False
    note: str = ""
    entries: list[Entry] = field(default_factory=list)


@member_page(Permission.BOOKINGS_READ)
@require_GET
def calendar(request: HttpRequest) -> HttpResponse:
    """``?view=week|day&date=YYYY-MM-DD&resource=<id>&cancelled=on``: a week (the
    default, around today) or a day of the organization's bookings."""
    caller: Caller = request.caller  # type: ignore[attr-defined]
    organization = caller.organization
    zone = zone_named(organization.time_zone)
    today = timezone.now().astimezone(zone).date()
    resources = _resources(caller)
    query = CalendarQuery(request.GET, resources=resources)
    status = 200
    if query.is_valid():
        chosen = query.cleaned_data
    else:
        status = 400
        chosen = {"view": "week", "date": None, "resource": None, "cancelled": False}
    view = chosen["view"] or "week"
    day = chosen["date"] or today
    resource_id = chosen["resource"]
    show_cancelled = bool(chosen["cancelled"])
    if view == "day":
        first = last = day
    else:
        first = day - timedelta(days=day.weekday())
        last = first + timedelta(days=6)

    problem = ""
    bookings: list[Booking] = []
    more = False
    try:
        page = queries.bookings_starting(
            organization,
            first=first,
            last=last,
            zone=zone,
            resource_id=resource_id,
            limit=LIMIT,
            within=caller.resource_ids,
        )
    except (SlotQueryError, queries.BookingQueryError):
        problem = gettext("These dates cannot be shown. Choose another date.")
        status = 400
    else:
        more = page.next is not None
        bookings = [
            b for b in page.bookings if show_cancelled or b.status != BookingStatus.CANCELLED
        ]

    keep = {"resource": resource_id or "", "cancelled": "on" if show_cancelled else ""}
    if view == "day":
        shown = [r for r in resources if resource_id in (None, r.pk)]
        columns = _resource_columns(bookings, shown, zone, show_cancelled, only=resource_id)
        step = timedelta(days=1)
    else:
        columns = _day_columns(bookings, first, zone, today, keep)
        step = timedelta(days=7)

    context = {
        "caller": caller,
        "nav": navigation(request, caller),
        "query": query,
        "view": view,
        "first": first,
        "last": last,
        "columns": columns,
        "zone_name": zone.key,
        "offset": utc_offset(datetime.combine(first, time(12), zone)),
        "problem": problem,
        "more": more,
        "limit": LIMIT,
        "count": len(bookings),
        "show_cancelled": show_cancelled,
        "filtered_resource": next((r for r in resources if r.pk == resource_id), None),
        "own_only": caller.resource_ids is not None,
        "previous_url": _url(view, first - step, keep) if first - step >= FIRST_DATE else "",
        "next_url": _url(view, first + step, keep) if first + step <= LAST_DATE else "",
        "today_url": _url(view, today, keep),
        "week_url": _url("week", day, keep),
        "day_url": _url("day", day if view == "day" else _day_in(first, today), keep),
        "cancelled_url": _url(view, day, {**keep, "cancelled": "" if show_cancelled else "on"}),
        "can_act": caller.can(Permission.BOOKINGS_WRITE),
    }
    return render(request, TEMPLATE, context, status=status)


def _resources(caller: Caller) -> list[Resource]:
    """The resources the caller may filter by: a staff member's own, else all."""
    rows = Resource.objects.filter(organization=caller.organization)
    if caller.resource_ids is not None:
        rows = rows.filter(pk__in=caller.resource_ids)
    return list(rows.order_by("-active", "name", "pk"))


def _url(view: str, day: date, keep: dict[str, Any]) -> str:
    params = {"view": view, "date": day.isoformat()}
    params.update({k: v for k, v in keep.items() if v})
    return f"{reverse('dashboard:calendar')}?{urlencode(params)}"


def _day_in(first: date, today: date) -> date:
    """Today if it is in the week starting ``first``, else the week's first day."""
    return today if first <= today <= first + timedelta(days=6) else first


def _clock(local: datetime) -> str:
    return format_date(local, pgettext("time of day in a message", "H:i"))


def _entry(booking: Booking, zone: ZoneInfo) -> Entry:
    start, end = booking.starts_at.astimezone(zone), booking.ends_at.astimezone(zone)
    return Entry(
        booking=booking,
        start=_clock(start),
        end=_clock(end),
        ends_another_day=end.date() != start.date(),
        status=status_of(booking.status),
        resources=[a.resource.name for a in booking.allocations.all()],
    )


def _clock_change(day: date, zone: ZoneInfo) -> str:
    """A note when the clocks change on ``day`` in ``zone``, else nothing."""
    before = datetime.combine(day, time.min, zone)
    after = datetime.combine(day + timedelta(days=1), time.min, zone)
    if before.utcoffset() == after.utcoffset():
        return ""
    return gettext("The clocks change this day: %(before)s, then %(after)s.") % {
        "before": utc_offset(before),
        "after": utc_offset(after),
    }


def _day_columns(
    bookings: list[Booking], first: date, zone: ZoneInfo, today: date, keep: dict[str, Any]
) -> list[Column]:
    columns = []
    by_date: dict[date, Column] = {}
    for n in range(7):
        day = first + timedelta(days=n)
        column = Column(
            key=f"day-{day.isoformat()}",
            title=formats.date_format(day, "l"),
            subtitle=formats.date_format(day, "DATE_FORMAT"),
            link=_url("day", day, keep),
            today=day == today,
            note=_clock_change(day, zone),
        )
        columns.append(column)
        by_date[day] = column
    for booking in bookings:
        column = by_date.get(booking.starts_at.astimezone(zone).date())
        if column is not None:
            column.entries.append(_entry(booking, zone))
    return columns


def _resource_columns(
    bookings: list[Booking],
    resources: list[Resource],
    zone: ZoneInfo,
    show_cancelled: bool,
    *,
    only: int | None = None,
) -> list[Column]:
    """A column for each active resource shown, and any other holding a booking that
    day (only the resource ``only``, if given); bookings that hold nothing any more
    (cancelled) in a column of their own."""
    columns: dict[int, Column] = {}
    for resource in resources:
        if resource.active:
            columns[resource.pk] = _resource_column(resource.pk, resource.name)
    released = Column(key="released", title=gettext("Cancelled"),
                      subtitle=gettext("no longer holding a resource"))  # fmt: skip
    for booking in bookings:
        held = booking.allocations.all()
        if not held:
            released.entries.append(_entry(booking, zone))
        for allocation in held:
            resource = allocation.resource
            if only is not None and resource.pk != only:
                continue
            if resource.pk not in columns:
                columns[resource.pk] = _resource_column(resource.pk, resource.name)
            columns[resource.pk].entries.append(_entry(booking, zone))
    found = list(columns.values())
    if show_cancelled and released.entries:
        found.append(released)
    return found


def _resource_column(pk: int, name: str) -> Column:
    return Column(key=f"resource-{pk}", title=name)
