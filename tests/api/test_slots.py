"""GET /api/v1/services/{id}/slots: the answer, and a problem for every bad question."""

from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import time_machine

from slotwise.availability.api import PROBLEMS
from slotwise.availability.services import SlotQueryError

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
PROBLEM = "application/problem+json"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def service(make_org, make_resource, make_service):
    org = make_org()
    make_resource(org)  # London, Monday to Friday 09:00-12:00 and 13:00-17:00
    return make_service(org, name="Portrait", durations=[60, 90], price_minor=9500)


def get_slots(client, service_id, **params):
    query = {"start": "2026-06-01", "end": "2026-06-01", "tz": "Asia/Tokyo", **params}
    return client.get(f"/api/v1/services/{service_id}/slots?{urlencode(query)}")


def slot(start, end, start_utc, end_utc):
    return {"start": start, "end": end, "start_utc": start_utc, "end_utc": end_utc, "remaining": 1}


def test_slots_of_a_london_provider_in_tokyo_time(client, service):
    response = get_slots(client, service.pk)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    # 09:00 in London (UTC+1) is 17:00 in Tokyo; the 16:00 London slot starts
    # at midnight in Tokyo, on 2 June, so it is not listed.
    assert response.json() == {
        "service": {
            "id": service.pk,
            "name": "Portrait",
            "durations": [60, 90],
            "currency": "GBP",
            "price_minor": 9500,
            "payment_mode": "none",
            "deposit_percent": None,
            "deposit_minor": None,
            "cancellation_policy": {
                "tiers": [],
                "same_day_refund_percent": None,
                "fee_minor": 0,
                "reschedule_cutoff_minutes": None,
                "max_reschedules": None,
                "no_show_fee": {"percent": 0, "fixed_minor": 0},
            },
        },
        "timezone": "Asia/Tokyo",
        "start": "2026-06-01",
        "end": "2026-06-01",
        "days": [
            {
                "date": "2026-06-01",
                "slots": [
                    slot(
                        "2026-06-01T17:00:00+09:00",
                        "2026-06-01T18:00:00+09:00",
                        "2026-06-01T08:00:00Z",
                        "2026-06-01T09:00:00Z",
                    ),
                    slot(
                        "2026-06-01T18:00:00+09:00",
                        "2026-06-01T19:00:00+09:00",
                        "2026-06-01T09:00:00Z",
                        "2026-06-01T10:00:00Z",
                    ),
                    slot(
                        "2026-06-01T19:00:00+09:00",
                        "2026-06-01T20:00:00+09:00",
                        "2026-06-01T10:00:00Z",
                        "2026-06-01T11:00:00Z",
                    ),
                    slot(
                        "2026-06-01T21:00:00+09:00",
                        "2026-06-01T22:00:00+09:00",
                        "2026-06-01T12:00:00Z",
                        "2026-06-01T13:00:00Z",
                    ),
                    slot(
                        "2026-06-01T22:00:00+09:00",
                        "2026-06-01T23:00:00+09:00",
                        "2026-06-01T13:00:00Z",
                        "2026-06-01T14:00:00Z",
                    ),
                    slot(
                        "2026-06-01T23:00:00+09:00",
                        "2026-06-02T00:00:00+09:00",
                        "2026-06-01T14:00:00Z",
                        "2026-06-01T15:00:00Z",
                    ),
                ],
            }
        ],
    }


def test_the_next_tokyo_date_gets_the_last_london_slot(client, service):
    days = get_slots(client, service.pk, start="2026-06-02", end="2026-06-02").json()["days"]
    assert days[0]["slots"][0]["start"] == "2026-06-02T00:00:00+09:00"


def test_a_longer_duration_on_request(client, service):
    # Without a step of its own the grid steps by the duration.
    days = get_slots(client, service.pk, duration=90, tz="Europe/London").json()["days"]
    assert [s["start"][11:16] for s in days[0]["slots"]] == ["09:00", "10:30", "13:00", "14:30"]


def test_a_fixed_number_of_queries(client, service, django_assert_num_queries):
    # The service, then the seven of find_service_slots.
    with django_assert_num_queries(4):
        get_slots(client, service.pk, start="2026-06-01", end="2026-09-01")


@pytest.mark.parametrize(
    ("params", "status", "kind"),
    [
        ({"tz": "Mars/Olympus_Mons"}, 400, "invalid-timezone"),
        ({"tz": "../../etc"}, 400, "invalid-timezone"),
        ({"tz": "../../etc/passwd"}, 400, "invalid-timezone"),
        ({"start": "2026-06-02", "end": "2026-06-01"}, 400, "invalid-date-range"),
        ({"start": "2026-06-01", "end": "2026-09-02"}, 400, "range-too-long"),
        ({"start": "0001-01-01", "end": "0001-01-01"}, 400, "invalid-date-range"),
        ({"start": "9999-12-31", "end": "9999-12-31"}, 400, "invalid-date-range"),
        ({"duration": 45}, 400, "duration-not-offered"),
    ],
    ids=[
        "unknown-zone",
        "relative-path",
        "path-to-file",
        "end-before-start",
        "93-days-plus-one",
        "year-1",
        "year-9999",
        "duration",
    ],
)
def test_problems(client, service, params, status, kind):
    response = get_slots(client, service.pk, **params)
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"urn:slotwise:problem:{kind}"
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]


def test_93_days_are_fine(client, service):
    response = get_slots(client, service.pk, start="2026-06-01", end="2026-09-01")
    assert response.status_code == 200
    assert len(response.json()["days"]) == 93


def test_unknown_and_inactive_services_look_the_same(client, service):
    unknown = get_slots(client, service.pk + 1000)
    service.active = False
    service.save()
    inactive = get_slots(client, service.pk)
    for response, service_id in ((unknown, service.pk + 1000), (inactive, service.pk)):
        assert response.status_code == 404
        assert response["Content-Type"] == PROBLEM
        assert response.json() == {
            "type": "urn:slotwise:problem:not-found",
            "title": "Not found",
            "status": 404,
            "detail": f"There is no bookable service {service_id}.",
        }


def test_request_validation_errors_are_problems_with_field_errors(client):
    response = client.get("/api/v1/services/abc/slots?start=2026-02-30&seats=-1")
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == "urn:slotwise:problem:request-validation"
    assert body["status"] == 422
    assert body["detail"] == "Check these parameters: service_id, start, end, tz, seats."
    assert {(tuple(e["loc"]), e["type"]) for e in body["errors"]} == {
        (("path", "service_id"), "int_parsing"),
        (("query", "start"), "date_from_datetime_parsing"),
        (("query", "end"), "missing"),
        (("query", "tz"), "missing"),
        (("query", "seats"), "greater_than_equal"),
    }


@pytest.mark.parametrize(
    ("service_id", "params"),
    [
        ("1.5", {}),
        ("-1", {}),
        ("0", {}),
        ("99999999999999999999999", {}),
        ("1", {"start": "yesterday"}),
        ("1", {"start": "2026-6-1"}),
        ("1", {"end": "2026-06-01T25:00"}),
        ("1", {"start": "99999-01-01"}),
        ("1", {"seats": "0"}),
        ("1", {"seats": "many"}),
        ("1", {"duration": "0"}),
        ("1", {"duration": "-30"}),
        ("1", {"tz": "A" * 65}),
    ],
)
def test_garbage_is_a_422_problem_never_a_500(client, service, service_id, params):
    query = {"start": "2026-06-01", "end": "2026-06-01", "tz": "UTC", **params}
    response = client.get(f"/api/v1/services/{service_id}/slots?{urlencode(query)}")
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "urn:slotwise:problem:request-validation"


def test_unknown_api_addresses_are_problems(client):
    response = client.get("/api/v1/no/such/thing")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["type"] == "urn:slotwise:problem:not-found"


def test_the_api_root_is_a_problem_pointing_at_the_docs(client):
    response = client.get("/api/v1/")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert "/api/v1/docs" in response.json()["detail"]


def test_a_wrong_method_is_a_problem(client, service):
    response = client.post(f"/api/v1/services/{service.pk}/slots")
    assert response.status_code == 405
    assert response["Content-Type"] == PROBLEM
    assert response["Allow"] == "GET"
    assert response.json() == {
        "type": "about:blank",
        "title": "Method Not Allowed",
        "status": 405,
        "detail": "Use GET, not POST.",
    }


def test_every_slot_query_error_has_a_problem_type():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    assert set(subclasses(SlotQueryError)) == set(PROBLEMS)
