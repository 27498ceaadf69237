"""The public booking API: book, read, confirm, move and cancel by manage token."""

import json
from datetime import UTC, datetime

import pytest
import time_machine

from slotwise.bookings.models import Booking, IdempotencyKey
from slotwise.catalog.models import ResourceKind

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, tzinfo=UTC)
KEY = "3f6c1a52-8a0e-4c1b-9f57-0d1f3b7a9e21"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def service(make_org, make_resource, make_service):
    org = make_org()
    make_resource(org, name="Ann")
    return make_service(org)


def body(service, start="2026-06-01T10:00:00+01:00", **extra):
    return {
        "service_id": service.pk,
        "start": start,
        "customer": {"name": "Ada", "email": "ada@example.com", "time_zone": "Asia/Tokyo"},
        **extra,
    }


def post(client, path, data, key=None):
    headers = {"Idempotency-Key": key} if key else {}
    return client.post(path, json.dumps(data), content_type="application/json", headers=headers)


def test_booking_answers_in_the_customers_zone_with_a_manage_token(client, service):
    response = post(client, "/api/v1/bookings", body(service))
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert answer["status"] == "confirmed"
    assert answer["start"] == "2026-06-01T18:00:00+09:00"
    assert answer["start_utc"] == "2026-06-01T09:00:00Z"
    assert "id" not in answer
    token = answer["manage_token"]
    read = client.get(f"/api/v1/bookings/manage/{token}").json()
    assert read["start"] == answer["start"]
    assert "manage_token" not in read
    assert [e["action"] for e in read["history"]] == ["booking.created"]


def test_a_taken_slot_is_409_with_the_next_free_slots(client, service):
    post(client, "/api/v1/bookings", body(service))
    response = post(client, "/api/v1/bookings", body(service))
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"] == "urn:slotwise:problem:slot-unavailable"
    assert response["Content-Type"] == "application/problem+json"
    assert [s["start"] for s in problem["suggestions"]] == [
        "2026-06-01T19:00:00+09:00",
        "2026-06-01T21:00:00+09:00",
        "2026-06-01T22:00:00+09:00",
    ]


@pytest.mark.parametrize(
    ("change", "status", "kind"),
    [
        ({"start": "2026-06-01T10:00:00"}, 400, "naive-time"),
        ({"start": "2026-04-01T10:00:00+01:00"}, 400, "start-in-past"),
        ({"start": "2026-06-01T10:07:00+01:00"}, 400, "start-not-on-grid"),
        ({"start": "2026-06-01T12:00:00+01:00"}, 400, "outside-hours"),
        ({"duration": 45}, 400, "duration-not-offered"),
        ({"seats": 0}, 400, "invalid-seats"),
        ({"seats": 10**6}, 400, "invalid-seats"),
        ({"service_id": 999999}, 404, "not-found"),
        ({"customer": {"name": "Ada", "email": "ada", "time_zone": "UTC"}}, 400,
         "invalid-customer"),
        ({"customer": {"name": "Ada", "email": "a@b.example", "time_zone": "Mars/Base"}}, 400,
         "invalid-timezone"),
        ({"start": "tomorrow"}, 422, "request-validation"),
    ],
    ids=["naive", "past", "off-grid", "lunch", "duration", "no-seats", "too-many-seats",
         "no-service", "bad-email", "bad-zone", "not-a-time"],
)  # fmt: skip
def test_bad_requests_get_distinct_problems_and_book_nothing(client, service, change, status, kind):
    response = post(client, "/api/v1/bookings", {**body(service), **change})
    assert response.status_code == status, response.json()
    assert response.json()["type"] == f"urn:slotwise:problem:{kind}"
    assert not Booking.objects.exists()


def test_the_same_idempotency_key_replays_the_first_answer(client, service):
    first = post(client, "/api/v1/bookings", body(service), key=KEY)
    again = post(client, "/api/v1/bookings", body(service), key=KEY)
    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Booking.objects.count() == 1
    other = post(client, "/api/v1/bookings", body(service, seats=2), key=KEY)
    assert other.status_code == 422
    assert other.json()["type"] == "urn:slotwise:problem:idempotency-key-reused"
    short = post(client, "/api/v1/bookings", body(service), key="abc")
    assert short.json()["type"] == "urn:slotwise:problem:invalid-idempotency-key"


def test_server_errors_are_not_kept_for_replay(client, service, monkeypatch):
    from slotwise.bookings import services

    def broken(*args, **kwargs):
        raise services.ResourcesBusy("busy")

    monkeypatch.setattr(services, "book", broken)
    assert post(client, "/api/v1/bookings", body(service), key=KEY).status_code == 503
    assert not IdempotencyKey.objects.exists()


def test_hold_then_confirm(client, service):
    held = post(client, "/api/v1/bookings", body(service, hold=True)).json()
    assert held["status"] == "held"
    assert held["expires_at"] == "2026-05-01T00:10:00Z"
    token = held["manage_token"]
    confirmed = post(client, f"/api/v1/bookings/manage/{token}/confirm", {})
    assert confirmed.json()["status"] == "confirmed"
    again = post(client, f"/api/v1/bookings/manage/{token}/confirm", {})
    assert again.status_code == 409
    assert again.json()["type"] == "urn:slotwise:problem:invalid-transition"


def test_reschedule_and_cancel_by_token(client, service):
    token = post(client, "/api/v1/bookings", body(service)).json()["manage_token"]
    post(client, "/api/v1/bookings", body(service, start="2026-06-01T14:00:00+01:00"))
    taken = post(client, f"/api/v1/bookings/manage/{token}/reschedule",
                 {"start": "2026-06-01T14:00:00+01:00"})  # fmt: skip
    assert taken.status_code == 409
    assert taken.json()["suggestions"][0]["start"] == "2026-06-01T23:00:00+09:00"
    moved = post(client, f"/api/v1/bookings/manage/{token}/reschedule",
                 {"start": "2026-06-01T11:00:00+01:00"})  # fmt: skip
    assert moved.json()["start"] == "2026-06-01T19:00:00+09:00"
    cancelled = post(client, f"/api/v1/bookings/manage/{token}/cancel", {"reason": "Ill"})
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "Ill"
    assert post(client, f"/api/v1/bookings/manage/{token}/cancel", {}).status_code == 409


def test_unknown_tokens_are_404(client):
    response = client.get("/api/v1/bookings/manage/" + "x" * 43)
    assert response.status_code == 404
    assert response.json()["type"] == "urn:slotwise:problem:not-found"


def test_a_person_and_a_room_booked_through_the_api(client, make_org, make_resource, make_service):
    org = make_org()
    make_resource(org, name="Ann")
    make_resource(org, name="Room", kind=ResourceKind.ROOM)
    both = make_service(org, needs=[(ResourceKind.PERSON, None), (ResourceKind.ROOM, None)])
    assert post(client, "/api/v1/bookings", body(both)).status_code == 201
    assert post(client, "/api/v1/bookings", body(both)).status_code == 409


def series_body(service, rrule, mode="all-or-nothing", start="2026-06-01T14:00:00+01:00"):
    return {
        "service_id": service.pk,
        "start": start,
        "recurrence": {"rrule": rrule, "mode": mode},
        "customer": {"name": "Ada", "email": "ada@example.com", "time_zone": "America/New_York"},
    }


def test_a_weekly_series_through_the_api(client, service):
    response = post(client, "/api/v1/bookings/series", series_body(service, "FREQ=WEEKLY;COUNT=3"))
    assert response.status_code == 201, response.json()
    answer = response.json()
    assert [b["start"] for b in answer["bookings"]] == [
        "2026-06-01T09:00:00-04:00", "2026-06-08T09:00:00-04:00", "2026-06-15T09:00:00-04:00"
    ]  # fmt: skip
    assert answer["skipped"] == []
    token = answer["manage_token"]
    cancelled = post(client, f"/api/v1/bookings/series/{token}/cancel",
                     {"scope": "following", "occurrence": "2026-06-08T14:00:00+01:00"})  # fmt: skip
    assert len(cancelled.json()["bookings"]) == 2
    read = client.get(f"/api/v1/bookings/series/{token}").json()
    assert [b["status"] for b in read["bookings"]] == ["confirmed", "cancelled", "cancelled"]


def test_a_series_with_a_taken_date(client, service):
    post(client, "/api/v1/bookings", body(service, start="2026-06-08T14:00:00+01:00"))
    refused = post(client, "/api/v1/bookings/series", series_body(service, "FREQ=WEEKLY;COUNT=3"))
    assert refused.status_code == 409
    assert refused.json()["type"] == "urn:slotwise:problem:series-unavailable"
    assert [s["date"] for s in refused.json()["skipped"]] == ["2026-06-08"]
    partial = post(client, "/api/v1/bookings/series",
                   series_body(service, "FREQ=WEEKLY;COUNT=3", mode="available"))  # fmt: skip
    assert partial.status_code == 201
    assert len(partial.json()["bookings"]) == 2
    assert partial.json()["skipped"][0]["time"] == "14:00"


def test_a_bad_rule_is_a_400(client, service):
    response = post(client, "/api/v1/bookings/series", series_body(service, "FREQ=HOURLY;COUNT=3"))
    assert response.status_code == 400
    assert response.json()["type"] == "urn:slotwise:problem:invalid-recurrence"
    assert not Booking.objects.exists()


def test_a_signed_link_token_manages_the_booking_like_its_manage_token(client, service):
    from slotwise.bookings.models import Booking
    from slotwise.bookings.services import link_token

    answer = post(client, "/api/v1/bookings", body(service)).json()
    booking = Booking.objects.get()
    token = link_token(booking)
    assert client.get(f"/api/v1/bookings/manage/{token}").json()["start"] == answer["start"]
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    assert client.get(f"/api/v1/bookings/manage/{forged}").status_code == 404
    other = f"m{booking.pk + 1}-{token.split('-', 1)[1]}"
    assert client.get(f"/api/v1/bookings/manage/{other}").status_code == 404
