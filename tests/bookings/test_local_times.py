"""A booking's times as a person reads them: their zone, named, with the offset of the moment."""

# ruff: noqa: RUF001 (the en dash is the range sign the texts print)

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation

from slotwise.bookings.local_times import (
    describe_moment,
    describe_span,
    recipient_zone,
    short_moment,
    utc_offset,
)
from slotwise.bookings.models import Booking
from slotwise.organizations.models import Organization

JUNE_1_0900_UTC = datetime(2026, 6, 1, 9, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "start", "minutes", "expected"),
    [
        pytest.param(
            "Asia/Tokyo", JUNE_1_0900_UTC, 60,
            "Monday 1 June 2026, 18:00–19:00 (Asia/Tokyo, UTC+09:00)",
            id="whole-hour-offset",
        ),
        pytest.param(
            "Asia/Kolkata", JUNE_1_0900_UTC, 60,
            "Monday 1 June 2026, 14:30–15:30 (Asia/Kolkata, UTC+05:30)",
            id="half-hour-offset",
        ),
        pytest.param(
            "Asia/Kathmandu", JUNE_1_0900_UTC, 45,
            "Monday 1 June 2026, 14:45–15:30 (Asia/Kathmandu, UTC+05:45)",
            id="45-minute-offset",
        ),
        pytest.param(
            "America/St_Johns", JUNE_1_0900_UTC, 60,
            "Monday 1 June 2026, 06:30–07:30 (America/St_Johns, UTC-02:30)",
            id="negative-half-hour-offset-in-summer",
        ),
        pytest.param(
            "America/St_Johns", datetime(2026, 1, 12, 9, tzinfo=UTC), 60,
            "Monday 12 January 2026, 05:30–06:30 (America/St_Johns, UTC-03:30)",
            id="negative-half-hour-offset-in-winter",
        ),
        pytest.param(
            "Europe/London", datetime(2026, 10, 24, 9, tzinfo=UTC), 60,
            "Saturday 24 October 2026, 10:00–11:00 (Europe/London, UTC+01:00)",
            id="day-before-the-clocks-go-back",
        ),
        pytest.param(
            "Europe/London", datetime(2026, 10, 26, 10, tzinfo=UTC), 60,
            "Monday 26 October 2026, 10:00–11:00 (Europe/London, UTC+00:00)",
            id="day-after-the-clocks-go-back",
        ),
        pytest.param(
            "Europe/London", datetime(2026, 10, 25, 0, 30, tzinfo=UTC), 60,
            "Sunday 25 October 2026, 01:30 UTC+01:00 – 01:30 UTC+00:00 (Europe/London)",
            id="clocks-go-back-during-the-booking",
        ),
        pytest.param(
            "America/New_York", datetime(2026, 3, 8, 6, 30, tzinfo=UTC), 60,
            "Sunday 8 March 2026, 01:30 UTC-05:00 – 03:30 UTC-04:00 (America/New_York)",
            id="clocks-go-forward-during-the-booking",
        ),
        pytest.param(
            "Asia/Tokyo", datetime(2026, 6, 1, 14, 30, tzinfo=UTC), 60,
            "Monday 1 June 2026, 23:30 – Tuesday 2 June 2026, 00:30 (Asia/Tokyo, UTC+09:00)",
            id="overnight",
        ),
    ],
)  # fmt: skip
def test_a_span_reads_in_its_zone_with_the_offset(zone, start, minutes, expected):
    with translation.override("en-GB"):
        text = describe_span(start, start + timedelta(minutes=minutes), ZoneInfo(zone))
    assert text == expected


def test_a_moment_and_its_short_form():
    zone = ZoneInfo("Asia/Kathmandu")
    assert (
        describe_moment(JUNE_1_0900_UTC, zone)
        == "Monday 1 June 2026, 14:45 (Asia/Kathmandu, UTC+05:45)"
    )
    assert short_moment(JUNE_1_0900_UTC, zone) == "Mon 1 Jun, 14:45"


@pytest.mark.parametrize(
    ("offset", "expected"),
    [
        (timedelta(0), "UTC+00:00"),
        (timedelta(hours=5, minutes=45), "UTC+05:45"),
        (timedelta(hours=-3, minutes=-30), "UTC-03:30"),
        (timedelta(hours=12, minutes=45), "UTC+12:45"),
        (timedelta(minutes=-1, seconds=-15), "UTC-00:01:15"),
    ],
)
def test_utc_offset_keeps_minutes_and_sign(offset, expected):
    from datetime import timezone

    assert utc_offset(datetime(2026, 1, 1, tzinfo=timezone(offset))) == expected


def test_the_customers_zone_else_the_organizations():
    organization = Organization(time_zone="Europe/London")
    assert recipient_zone(
        Booking(organization=organization, customer_time_zone="Asia/Tokyo")
    ).key == ("Asia/Tokyo")
    assert recipient_zone(Booking(organization=organization)).key == "Europe/London"
    assert recipient_zone(
        Booking(organization=organization, customer_time_zone="Mars/Base")
    ).key == ("Europe/London")
