"""The demo organization loads once, and its slots come back from the API."""

from datetime import UTC, datetime
from urllib.parse import urlsplit

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from slotwise.bookings.models import Allocation, Booking
from slotwise.calendars.models import ExternalBusy
from slotwise.catalog.models import Resource, Service, WeeklyRule
from slotwise.demo import load_demo
from slotwise.organizations.models import Organization

pytestmark = pytest.mark.django_db

MODELS = (Organization, Resource, Service, WeeklyRule, Booking, Allocation, ExternalBusy)


@pytest.fixture(autouse=True)
def frozen_clock():
    # A Wednesday: the demo's bookings start the Monday after.
    with time_machine.travel(datetime(2026, 11, 25, 10, tzinfo=UTC), tick=False):
        yield


def test_loading_twice_writes_nothing_the_second_time():
    first = load_demo()
    counts = [model.objects.count() for model in MODELS]
    with CaptureQueriesContext(connection) as queries:
        second = load_demo()
    assert second == first
    assert [model.objects.count() for model in MODELS] == counts
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in ("INSERT", "UPDATE", "DELETE")]
    assert writes == []
    assert counts == [1, 3, 3, 26, 7, 9, 3]


def test_the_demo_slots_link_answers_with_next_months_slots(client):
    lines = load_demo().splitlines()
    assert "API docs: http://127.0.0.1:8000/api/v1/docs" in lines
    url = urlsplit(lines[-1].rsplit(" ", 1)[-1])
    assert url.query == "start=2026-12-01&end=2026-12-31&tz=Asia/Tokyo"

    response = client.get(f"{url.path}?{url.query}")

    assert response.status_code == 200
    body = response.json()
    assert body["service"]["name"] == "Portrait session"
    assert len(body["days"]) == 31
    starts = [slot["start"] for day in body["days"] for slot in day["slots"]]
    assert len(starts) > 100
    assert all(start.endswith("+09:00") for start in starts)


def test_the_demo_bookings_and_busy_times_block(client):
    load_demo()
    workshop = Service.objects.get(slug="lighting-workshop")
    saturday = "2026-12-05"  # the workshop with three of eight seats taken
    response = client.get(
        f"/api/v1/services/{workshop.pk}/slots?start={saturday}&end={saturday}&tz=Europe/London"
    )
    offered = {s["start"][11:16]: s["remaining"] for s in response.json()["days"][0]["slots"]}
    assert offered == {"10:00": 5, "14:00": 8, "16:00": 8, "18:00": 8}
