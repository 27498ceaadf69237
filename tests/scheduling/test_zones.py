"""Zone windows find every offset change to the second."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from slotwise.scheduling.zones import ZoneWindow, local_seconds

ZONES = ["America/New_York", "Australia/Lord_Howe", "Pacific/Chatham", "Africa/Casablanca",
         "America/Santiago", "Asia/Kathmandu", "Europe/Dublin"]  # fmt: skip


def ts(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


def test_new_york_spring_forward_is_found_to_the_second():
    window = ZoneWindow(
        ZoneInfo("America/New_York"), ts("2026-03-07T00:00Z"), ts("2026-03-10T00:00Z")
    )
    assert window.starts[1:] == [ts("2026-03-08T07:00Z")]
    assert window.offsets == [-5 * 3600, -4 * 3600]


@pytest.mark.parametrize(
    ("zone", "wall", "count"),
    [
        ("America/New_York", "2026-03-08T02:30", 0),  # in the gap
        ("America/New_York", "2026-11-01T01:30", 2),  # in the fold
        ("America/New_York", "2026-11-01T02:00", 1),
        ("Australia/Lord_Howe", "2026-10-04T02:15", 0),
        ("Australia/Lord_Howe", "2026-04-05T01:45", 2),
    ],
)
def test_instants_of_a_wall_time(zone, wall, count):
    moment = datetime.fromisoformat(wall)
    window = ZoneWindow(
        ZoneInfo(zone), ts(f"{wall[:10]}T00:00Z") - 86400, ts(f"{wall[:10]}T00:00Z") + 86400
    )
    found = window.instants_of(
        local_seconds(moment.date(), moment.hour * 3600 + moment.minute * 60)
    )
    assert len(found) == count
    for instant in found:
        shown = datetime.fromtimestamp(instant, ZoneInfo(zone))
        assert shown.replace(tzinfo=None) == moment


@settings(max_examples=300)
@given(
    st.sampled_from(ZONES),
    st.integers(ts("2024-01-01T00:00Z"), ts("2028-01-01T00:00Z")),
)
def test_offsets_match_zoneinfo_at_every_instant(zone, start):
    window = ZoneWindow(ZoneInfo(zone), start, start + 40 * 86400)
    for probe in range(start, start + 40 * 86400, 3593):
        expected = datetime.fromtimestamp(probe, ZoneInfo(zone)).utcoffset()
        assert window.offset_at(probe) == expected // timedelta(seconds=1)
