"""The slot picker: the month marks exactly the days with slots, in the customer's zone."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template.loader import render_to_string
from django.utils import formats

from slotwise.availability.services import find_service_slots
from slotwise.web import slot_picker

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)


@pytest.fixture
def service(make_org, make_resource, make_service):
    org = make_org()
    make_resource(org)
    return make_service(org)


def test_month_marks_exactly_the_days_with_slots(service):
    zone = ZoneInfo("Asia/Tokyo")
    month = slot_picker.month_view(
        service, date(2026, 7, 1), zone, NOW, duration=service.default_duration
    )
    expected = {
        d.date
        for d in find_service_slots(
            service, first=date(2026, 7, 1), last=date(2026, 7, 31), zone=zone, now=NOW
        )
        if d.slots
    }
    assert expected
    assert {d.date for d in month.days_with_slots()} == expected


def test_day_labels_equal_the_utc_instant_in_the_zone(service):
    zone = ZoneInfo("Asia/Tokyo")
    day = slot_picker.day_slots(service, date(2026, 7, 6), zone, NOW, duration=60)
    assert day.slots
    first = day.slots[0]
    instant = datetime.fromisoformat(first.start_utc.replace("Z", "+00:00"))
    local = instant.astimezone(zone)
    assert (local.hour, local.minute) == (17, 0)  # 09:00 in London (BST) is 17:00 in Tokyo
    assert formats.time_format(local, "TIME_FORMAT") == first.label
    html = render_to_string(
        "web/public/_day.html",
        {"day": day, "choose_url": "/x?tz=Asia/Tokyo&", "zone_name": "Asia/Tokyo"},
    )
    assert first.label in html
    assert "start=" in html


@pytest.mark.parametrize(
    ("call", "arg"),
    [
        (slot_picker.parse_month, "2026-13"),
        (slot_picker.parse_month, "July"),
        (slot_picker.parse_date, "2026-02-30"),
    ],
)
def test_bad_month_or_date_is_a_readable_error(call, arg):
    with pytest.raises(slot_picker.PickerError):
        call(arg, date(2026, 7, 1)) if call is slot_picker.parse_month else call(arg)


def test_unknown_zone_is_a_readable_error():
    with pytest.raises(slot_picker.PickerError, match="Mars/Olympus"):
        slot_picker.parse_zone("Mars/Olympus", "Europe/London")
    assert slot_picker.parse_zone("", "Europe/London") == ZoneInfo("Europe/London")


def test_month_partial_renders_links_for_free_days(service):
    month = slot_picker.month_view(
        service, date(2026, 7, 1), ZoneInfo("Europe/London"), NOW, duration=60
    )
    html = render_to_string(
        "web/public/_month.html", {"month": month, "nav_url": "/book/a/b/?tz=Europe/London&"}
    )
    assert "date=2026-07-06" in html
    assert "date=2026-07-04" not in html  # a Saturday
