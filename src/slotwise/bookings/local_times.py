"""How a booking's times read to a person: in their own zone, named, with its UTC offset.

    >>> describe_span(booking.starts_at, booking.ends_at, ZoneInfo("Asia/Tokyo"))
    'Monday 1 June 2026, 18:00–19:00 (Asia/Tokyo, UTC+09:00)'

Times are stored as UTC instants, so each one has exactly one wall time and
one offset in any zone, whatever the clocks do there. When the clocks change
during a booking, each end carries its own offset. Day and month names come
out in the active language (wrap calls in ``translation.override``), and the
format strings are marked for translation, so a language may order them its
own way.
"""

# ruff: noqa: RUF001, RUF002 (the en dash is the range sign the texts print)

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from django.utils.dateformat import format as format_date
from django.utils.translation import gettext, pgettext

from slotwise.bookings.models import Booking
from slotwise.organizations.validators import zone_named

__all__ = ["describe_moment", "describe_span", "recipient_zone", "short_moment", "utc_offset"]


def recipient_zone(booking: Booking) -> ZoneInfo:
    """The zone the customer sees times in: theirs, else the organization's.

    A stored name that is not a zone (rows written without validation) is
    passed over rather than failing the page or the message.
    """
    for name in (booking.customer_time_zone, booking.organization.time_zone):
        try:
            return zone_named(name)
        except ValueError:
            continue
    return ZoneInfo("UTC")


def utc_offset(moment: datetime) -> str:
    """``UTC+09:00``, ``UTC+05:45``, ``UTC-03:30``: the offset of the aware ``moment``."""
    offset = moment.utcoffset()
    if offset is None:
        raise ValueError("utc_offset() needs an aware datetime.")
    seconds = int(offset.total_seconds())
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, seconds = divmod(rest, 60)
    return f"UTC{sign}{hours:02}:{minutes:02}" + (f":{seconds:02}" if seconds else "")


def describe_span(start: datetime, end: datetime, zone: ZoneInfo) -> str:
    """``Monday 1 June 2026, 18:00–19:00 (Asia/Tokyo, UTC+09:00)``.

    The end's date is named when it falls on another day; when the offset
    changes in between (the clocks go back at 02:00 in London), each time
    has its own: ``Sunday 25 October 2026, 01:30 UTC+01:00 – 01:30 UTC+00:00
    (Europe/London)``.
    """
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    start_text = _date_and_time(local_start)
    end_text = _clock(local_end)
    if local_end.date() != local_start.date():
        end_text = _date_and_time(local_end)
    if local_start.utcoffset() == local_end.utcoffset():
        values = {"start": start_text, "end": end_text, "zone": zone.key}
        values["offset"] = utc_offset(local_start)
        if local_end.date() == local_start.date():
            return gettext("%(start)s–%(end)s (%(zone)s, %(offset)s)") % values
        return gettext("%(start)s – %(end)s (%(zone)s, %(offset)s)") % values
    return gettext("%(start)s %(start_offset)s – %(end)s %(end_offset)s (%(zone)s)") % {
        "start": start_text,
        "start_offset": utc_offset(local_start),
        "end": end_text,
        "end_offset": utc_offset(local_end),
        "zone": zone.key,
    }


def describe_moment(moment: datetime, zone: ZoneInfo) -> str:
    """``Monday 1 June 2026, 18:00 (Asia/Tokyo, UTC+09:00)``."""
    local = moment.astimezone(zone)
    return gettext("%(moment)s (%(zone)s, %(offset)s)") % {
        "moment": _date_and_time(local),
        "zone": zone.key,
        "offset": utc_offset(local),
    }


def short_moment(moment: datetime, zone: ZoneInfo) -> str:
    """``Mon 1 Jun, 18:00``: the wall time in ``zone``, short enough for a subject line."""
    local = moment.astimezone(zone)
    return gettext("%(date)s, %(time)s") % {
        "date": format_date(local, pgettext("short date in a message", "D j M")),
        "time": _clock(local),
    }


def _date_and_time(local: datetime) -> str:
    return gettext("%(date)s, %(time)s") % {
        "date": format_date(local, pgettext("long date in a message", "l j F Y")),
        "time": _clock(local),
    }


def _clock(local: datetime) -> str:
    return format_date(local, pgettext("time of day in a message", "H:i"))
