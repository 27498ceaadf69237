"""The front page lists what can be booked and leads to its slots in the API."""

import re
from datetime import UTC, datetime
from html import unescape

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from slotwise.catalog.models import Service
from slotwise.demo import load_demo

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2026, 11, 25, 10, tzinfo=UTC), tick=False):
        yield


def test_an_empty_installation_says_how_to_load_the_demo(client):
    response = client.get("/")
    assert response.status_code == 200
    assert "slotwise demo" in response.text


def test_every_organization_and_active_service_links_to_its_booking_page(client):
    load_demo()
    Service.objects.filter(slug="consultation").update(active=False)

    response = client.get("/")

    html = unescape(response.text)
    assert "Harbour & Pine Studio" in html
    assert "Intro consultation" not in html
    assert 'href="/book/harbour-and-pine/"' in html
    links = re.findall(r'href="(/book/harbour-and-pine/[^"]+/)"', html)
    assert links == [
        "/book/harbour-and-pine/lighting-workshop/",
        "/book/harbour-and-pine/portrait-session/",
    ]
    assert 'href="/api/v1/docs"' in html
    assert 'href="/api/v1/openapi.json"' in html


def test_submitting_a_form_gives_slots_in_the_chosen_zone(client):
    load_demo()
    portrait = Service.objects.get(slug="portrait-session")
    query = {"start": "2026-12-01", "end": "2026-12-31", "tz": "Asia/Kathmandu"}

    response = client.get(f"/api/v1/services/{portrait.pk}/slots", query)

    starts = [slot["start"] for day in response.json()["days"] for slot in day["slots"]]
    assert starts
    assert all(start.endswith("+05:45") for start in starts)


def test_the_page_costs_two_queries_and_carries_the_security_headers(client):
    load_demo()
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/")
    assert len(queries) == 2
    assert "script-src 'self'" in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert "<script>" not in response.text  # no inline script
    stylesheet = client.get("/static/web/slotwise.css")
    stylesheet.close()
    assert stylesheet.status_code == 200


def test_only_safe_methods_are_answered(client):
    assert client.post("/").status_code == 405
