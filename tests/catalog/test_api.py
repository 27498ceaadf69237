"""The staff API for the catalog: /api/v1/staff/resources, /schedules and /services."""

import re
from datetime import UTC, date, datetime, time
from urllib.parse import urlencode

import pytest
import time_machine
from django.db.models import QuerySet

from slotwise.catalog.api import PROBLEMS, router
from slotwise.catalog.models import Resource, Schedule, Service
from slotwise.catalog.services import CatalogError, InvalidInput
from slotwise.organizations.services import issue_api_key, revoke_api_key

pytestmark = pytest.mark.django_db

API = "/api/v1/staff"
NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
PROBLEM = "application/problem+json"
MONDAY = "2026-06-01"


class Staff:
    """The test client, acting for one organization with its API key."""

    def __init__(self, client, organization):
        self.client = client
        self.organization = organization
        self.api_key, key = issue_api_key(organization, "Tests", scopes=["write"])
        self.headers = {"Authorization": f"Bearer {key}"}

    def get(self, path):
        return self.client.get(API + path, headers=self.headers)

    def delete(self, path):
        return self.client.delete(API + path, headers=self.headers)

    def post(self, path, body):
        return self.send("post", path, body)

    def patch(self, path, body):
        return self.send("patch", path, body)

    def send(self, method, path, body):
        return getattr(self.client, method)(
            API + path, body, content_type="application/json", headers=self.headers
        )


@pytest.fixture
def org(make_org):
    return make_org(time_zone="Europe/London", currency="GBP")


@pytest.fixture
def staff(client, org):
    return Staff(client, org)


@pytest.fixture
def outsider(client, make_org):
    return Staff(client, make_org(time_zone="Asia/Tokyo", currency="JPY"))


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def problem(response, kind, status=400):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"urn:slotwise:problem:{kind}"
    assert body["status"] == status
    return body


def invalid(response, thing):
    """The per-field ``errors`` of a 400 ``invalid-<thing>`` problem."""
    body = problem(response, f"invalid-{thing}")
    assert body["title"] == f"Invalid {thing}"
    assert body["detail"] == f"Check these fields: {', '.join(body['errors'])}."
    return body["errors"]


def slots(client, service_id, day=MONDAY, tz="Europe/London"):
    query = urlencode({"start": day, "end": day, "tz": tz})
    with time_machine.travel(NOW, tick=False):
        response = client.get(f"/api/v1/services/{service_id}/slots?{query}")
    return [s["start"][11:16] for s in ok(response)["days"][0]["slots"]]


WEEK = [
    {"weekday": 0, "start": "09:00", "end": "12:00", "valid_from": None, "valid_until": None},
    {"weekday": 0, "start": "13:00", "end": "17:00", "valid_from": None, "valid_until": None},
    {
        "weekday": 5,
        "start": "22:00",
        "end": "24:00",
        "valid_from": "2026-01-01",
        "valid_until": "2026-12-31",
    },
]


# Resources


def test_create_a_resource_with_the_organizations_zone(staff):
    created = ok(staff.post("/resources", {"name": "Ann", "kind": "person"}), 201)

    assert created == {
        "id": created["id"],
        "name": "Ann",
        "kind": "person",
        "capacity": 1,
        "time_zone": "Europe/London",
        "schedule_id": None,
        "active": True,
    }
    assert Resource.objects.get(pk=created["id"]).organization == staff.organization


def test_list_read_and_change_resources(staff, make_schedule):
    schedule = make_schedule(staff.organization)
    table = ok(staff.post("/resources", {"name": "Table 4", "kind": "table", "capacity": 6}), 201)
    room = ok(
        staff.post(
            "/resources",
            {"name": "Attic", "kind": "room", "time_zone": "Europe/Dublin", "schedule_id": None},
        ),
        201,
    )

    assert [r["name"] for r in ok(staff.get("/resources"))] == ["Attic", "Table 4"]
    assert ok(staff.get(f"/resources/{table['id']}")) == table

    changed = ok(
        staff.patch(f"/resources/{room['id']}", {"capacity": 2, "schedule_id": schedule.pk})
    )
    assert changed == {**room, "capacity": 2, "schedule_id": schedule.pk}
    cleared = ok(staff.patch(f"/resources/{room['id']}", {"schedule_id": None}))
    assert cleared == {**changed, "schedule_id": None}


def test_delete_deactivates_a_resource_and_patch_brings_it_back(staff, make_resource):
    resource = make_resource(staff.organization)

    gone = ok(staff.delete(f"/resources/{resource.pk}"))

    assert gone["active"] is False
    assert ok(staff.get(f"/resources/{resource.pk}"))["active"] is False
    assert ok(staff.patch(f"/resources/{resource.pk}", {"active": True}))["active"] is True


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"time_zone": "Europe/Londres"}, "time_zone", "not an IANA time zone"),
        ({"time_zone": "../../etc/passwd"}, "time_zone", "not an IANA time zone"),
        ({"name": ""}, "name", "cannot be blank"),
        ({"name": "x" * 201}, "name", "at most 200 characters"),
        ({"name": None}, "name", "cannot be null"),
        ({"kind": None}, "kind", "cannot be null"),
        ({"schedule_id": 10**9}, "schedule_id", "There is no schedule 1000000000."),
    ],
)
def test_invalid_resource_changes_are_400_problems_by_field(
    staff, make_resource, body, field, message
):
    resource = make_resource(staff.organization, name="Ann")

    errors = invalid(staff.patch(f"/resources/{resource.pk}", {"capacity": 3, **body}), "resource")

    assert list(errors) == [field]
    assert message in errors[field][0]
    resource.refresh_from_db()
    assert (resource.name, resource.capacity) == ("Ann", 1)


def test_every_error_of_a_resource_is_reported_at_once(staff):
    errors = invalid(
        staff.post(
            "/resources",
            {"name": "", "kind": "room", "time_zone": "Nowhere", "schedule_id": 10**9},
        ),
        "resource",
    )
    assert set(errors) == {"name", "time_zone", "schedule_id"}
    assert not Resource.objects.exists()


def test_another_organizations_schedule_is_refused_like_a_missing_one(staff, outsider):
    theirs = Schedule.objects.create(organization=outsider.organization, name="Theirs")
    missing = theirs.pk + 1000

    errors = {
        pk: invalid(
            staff.post("/resources", {"name": "Ann", "kind": "person", "schedule_id": pk}),
            "resource",
        )
        for pk in (theirs.pk, missing)
    }

    assert errors[theirs.pk] == {"schedule_id": [f"There is no schedule {theirs.pk}."]}
    assert errors[missing] == {"schedule_id": [f"There is no schedule {missing}."]}


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Ann"},
        {"name": "Ann", "kind": "robot"},
        {"name": "Ann", "kind": "person", "capacity": 0},
        {"name": "Ann", "kind": "person", "capacity": 2**31},
        {"name": "Ann", "kind": "person", "schedule_id": 0},
        {"name": ["Ann"], "kind": "person"},
    ],
)
def test_malformed_bodies_are_422_request_validation(staff, body):
    problem(staff.post("/resources", body), "request-validation", 422)


# Schedules


def test_create_and_read_a_schedule_with_all_its_hours(staff):
    body = {
        "name": "Front desk",
        "holiday_country": "GB",
        "holiday_subdivision": "SCT",
        "weekly_rules": WEEK,
        "overrides": [
            {"date": "2026-12-24", "hours": [{"start": "09:00", "end": "13:00"}], "note": "Eve"},
            {"date": "2026-12-23", "hours": [], "note": ""},
        ],
        "closures": [{"first": "2026-08-03", "last": "2026-08-14", "reason": "Summer"}],
    }

    created = ok(staff.post("/schedules", body), 201)

    expected = {
        **body,
        "id": created["id"],
        # Read back in order: rules by weekday and start, overrides by date.
        "overrides": [body["overrides"][1], body["overrides"][0]],
    }
    assert created == expected
    assert ok(staff.get(f"/schedules/{created['id']}")) == expected
    assert ok(staff.get("/schedules")) == [expected]


def test_a_schedule_needs_only_a_name(staff):
    created = ok(staff.post("/schedules", {"name": "Closed"}), 201)
    assert created == {
        "id": created["id"],
        "name": "Closed",
        "holiday_country": "",
        "holiday_subdivision": "",
        "weekly_rules": [],
        "overrides": [],
        "closures": [],
    }


def test_midnight_as_an_end_reads_back_as_24_00(staff):
    rule = {"weekday": 4, "start": "18:00", "end": "00:00"}
    created = ok(staff.post("/schedules", {"name": "Late", "weekly_rules": [rule]}), 201)
    assert created["weekly_rules"][0]["end"] == "24:00"
    assert Schedule.objects.get().weekly_rules.get().end == time(0)


def test_patch_replaces_the_lists_it_is_given_and_keeps_the_rest(staff, make_schedule):
    schedule = make_schedule(staff.organization)
    before = ok(staff.get(f"/schedules/{schedule.pk}"))
    assert len(before["weekly_rules"]) == 10  # Monday to Friday, with a lunch break

    after = ok(
        staff.patch(
            f"/schedules/{schedule.pk}",
            {
                "weekly_rules": [{"weekday": 2, "start": "10:00", "end": "14:00"}],
                "closures": [{"first": "2026-07-01", "last": "2026-07-01"}],
            },
        )
    )

    assert after == {
        **before,
        "weekly_rules": [
            {
                "weekday": 2,
                "start": "10:00",
                "end": "14:00",
                "valid_from": None,
                "valid_until": None,
            }
        ],
        "closures": [{"first": "2026-07-01", "last": "2026-07-01", "reason": ""}],
    }
    emptied = ok(staff.patch(f"/schedules/{schedule.pk}", {"weekly_rules": [], "name": "Shut"}))
    assert emptied == {**after, "weekly_rules": [], "name": "Shut"}


def test_patch_replaces_overrides_with_their_hours(staff, make_schedule, make_override):
    schedule = make_schedule(staff.organization)
    make_override(schedule, date(2026, 6, 1), [(time(9), time(10))])
    override = {"date": "2026-06-02", "hours": [{"start": "11:00", "end": "12:00"}]}

    after = ok(staff.patch(f"/schedules/{schedule.pk}", {"overrides": [override]}))

    assert after["overrides"] == [{**override, "note": ""}]


@pytest.mark.parametrize(
    ("country", "subdivision", "field", "message"),
    [
        ("XX", "", "holiday_country", "no public-holiday calendar for 'XX'"),
        ("GBR", "", "holiday_country", "ISO 3166-1 alpha-2"),
        ("gb", "", "holiday_country", "no public-holiday calendar for 'gb'"),
        ("GB", "XYZ", "holiday_subdivision", "these are: ENG, NIR, SCT, WLS"),
        ("", "ENG", "holiday_subdivision", "needs holiday_country"),
    ],
    ids=["unknown", "alpha-3", "lower-case", "unknown-subdivision", "no-country"],
)
def test_unknown_holiday_calendars_are_400_problems(
    staff, make_schedule, country, subdivision, field, message
):
    schedule = make_schedule(staff.organization, holiday_country="DE", holiday_subdivision="BE")

    errors = invalid(
        staff.patch(
            f"/schedules/{schedule.pk}",
            {"holiday_country": country, "holiday_subdivision": subdivision},
        ),
        "schedule",
    )

    assert list(errors) == [field]
    assert message in errors[field][0]
    schedule.refresh_from_db()
    assert (schedule.holiday_country, schedule.holiday_subdivision) == ("DE", "BE")


@pytest.mark.parametrize(("country", "subdivision"), [("US", "CA"), ("JP", ""), ("", "")])
def test_known_holiday_calendars_are_accepted(staff, country, subdivision):
    body = {"name": "x", "holiday_country": country, "holiday_subdivision": subdivision}
    created = ok(staff.post("/schedules", body), 201)
    assert (created["holiday_country"], created["holiday_subdivision"]) == (country, subdivision)


def test_null_holiday_fields_mean_no_holidays(staff, make_schedule):
    schedule = make_schedule(staff.organization, holiday_country="GB", holiday_subdivision="ENG")
    body = {"holiday_country": None, "holiday_subdivision": None}
    changed = ok(staff.patch(f"/schedules/{schedule.pk}", body))
    assert (changed["holiday_country"], changed["holiday_subdivision"]) == ("", "")


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (
            {"weekly_rules": [WEEK[0], {"weekday": 1, "start": "17:00", "end": "09:00"}]},
            {"weekly_rules.1.end"},
        ),
        (
            {"weekly_rules": [{"weekday": 1, "start": "09:00", "end": "09:00"}]},
            {"weekly_rules.0.end"},
        ),
        (
            {
                "weekly_rules": [
                    {
                        "weekday": 1,
                        "start": "09:00",
                        "end": "17:00",
                        "valid_from": "2026-02-01",
                        "valid_until": "2026-01-31",
                    }
                ]
            },
            {"weekly_rules.0.valid_until"},
        ),
        (
            {
                "overrides": [
                    {"date": "2026-06-01"},
                    {"date": "2026-06-02", "hours": [{"start": "12:00", "end": "11:00"}]},
                    {"date": "2026-06-01", "note": "x" * 201},
                ]
            },
            {"overrides.1.hours.0.end", "overrides.2.date", "overrides.2.note"},
        ),
        (
            {"closures": [{"first": "2026-06-02", "last": "2026-06-01"}]},
            {"closures.0.last"},
        ),
        ({"weekly_rules": None, "closures": None}, {"weekly_rules", "closures"}),
        ({"name": "", "holiday_country": "GB"}, {"name"}),
    ],
    ids=[
        "end-before-start",
        "empty-rule",
        "valid-until-before-from",
        "overrides",
        "closure-backwards",
        "null-lists",
        "blank-name",
    ],
)
def test_invalid_hours_are_400_problems_and_change_nothing(staff, make_schedule, body, errors):
    schedule = make_schedule(staff.organization)
    before = ok(staff.get(f"/schedules/{schedule.pk}"))

    found = invalid(staff.patch(f"/schedules/{schedule.pk}", {"name": "New", **body}), "schedule")

    assert set(found) == errors
    assert ok(staff.get(f"/schedules/{schedule.pk}")) == before


def test_an_opening_past_midnight_is_explained(staff):
    rule = {"weekday": 4, "start": "22:00", "end": "02:00"}
    errors = invalid(staff.post("/schedules", {"name": "Bar", "weekly_rules": [rule]}), "schedule")
    assert "split an opening past midnight into two" in errors["weekly_rules.0.end"][0]


@pytest.mark.parametrize(
    "rule",
    [
        {"weekday": 7, "start": "09:00", "end": "17:00"},
        {"weekday": 0, "start": "9:00", "end": "17:00"},
        {"weekday": 0, "start": "24:00", "end": "24:00"},
        {"weekday": 0, "start": "09:00", "end": "24:01"},
        {"weekday": 0, "start": "09:00:30", "end": "17:00"},
        {"weekday": 0, "start": "09:00", "end": "25:00"},
        {"weekday": 0, "start": "09:00"},
    ],
)
def test_malformed_rules_are_422_request_validation(staff, rule):
    response = staff.post("/schedules", {"name": "x", "weekly_rules": [rule]})
    problem(response, "request-validation", 422)
    assert not Schedule.objects.exists()


def test_listing_schedules_takes_a_fixed_number_of_queries(
    staff, make_schedule, make_override, django_assert_num_queries
):
    for _ in range(3):
        schedule = make_schedule(staff.organization)
        make_override(schedule, date(2026, 6, 1), [(time(9), time(10))])
    staff.get("/schedules")  # the key's last use is written once an hour

    # The key, then schedules, weekly rules, overrides, their hours, closures.
    with django_assert_num_queries(6):
        assert len(ok(staff.get("/schedules"))) == 3


# Services


def test_create_a_service_with_its_requirements(staff, make_resource):
    ann, bob = make_resource(staff.organization), make_resource(staff.organization)
    room = make_resource(staff.organization, kind="room")
    body = {
        "name": "Portrait session",
        "durations": [60, 90],
        "step_minutes": 30,
        "buffer_before_minutes": 10,
        "buffer_after_minutes": 15,
        "min_notice_minutes": 120,
        "horizon_days": 60,
        "max_bookings_per_day": 4,
        "max_minutes_per_week": 600,
        "price_minor": 9500,
        "requirements": [
            {"kind": "person", "pool": [bob.pk, ann.pk, bob.pk]},
            {"kind": "room", "pool": [room.pk]},
            {"kind": "equipment"},
        ],
    }

    created = ok(staff.post("/services", body), 201)

    assert created == {
        **body,
        "id": created["id"],
        "slug": "portrait-session",
        "currency": "GBP",
        "seats_per_slot": None,
        "max_minutes_per_day": None,
        "max_bookings_per_week": None,
        "requires_approval": False,
        "reminder_minutes": [1440, 60],
        "payment_mode": "none",
        "deposit_percent": None,
        "deposit_minor": None,
        "cancellation_policy": {},
        "waitlist_mode": "sequential",
        "offer_minutes": 30,
        "active": True,
        "requirements": [
            {"kind": "person", "pool": sorted([ann.pk, bob.pk])},
            {"kind": "room", "pool": [room.pk]},
            {"kind": "equipment", "pool": []},
        ],
    }
    assert ok(staff.get(f"/services/{created['id']}")) == created
    assert ok(staff.get("/services")) == [created]


def test_patch_a_service_and_replace_its_requirements(staff, make_service, make_resource):
    service = make_service(staff.organization, slug="cut")
    room = make_resource(staff.organization, kind="room")
    before = ok(staff.get(f"/services/{service.pk}"))

    after = ok(
        staff.patch(
            f"/services/{service.pk}",
            {
                "price_minor": 0,
                "seats_per_slot": 8,
                "step_minutes": None,
                "requires_approval": True,
                "active": False,
                "requirements": [{"kind": "room", "pool": [room.pk]}],
            },
        )
    )

    assert after == {
        **before,
        "price_minor": 0,
        "seats_per_slot": 8,
        "requires_approval": True,
        "active": False,
        "requirements": [{"kind": "room", "pool": [room.pk]}],
    }
    assert ok(staff.patch(f"/services/{service.pk}", {"requirements": []}))["requirements"] == []


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"slug": "taken"}, "slug", "Another service of this organization has the slug 'taken'."),
        ({"slug": "not a slug"}, "slug", "Enter a valid “slug”"),
        ({"durations": [60, 60]}, "durations", "distinct positive minute counts"),
        ({"currency": "gbp"}, "currency", "ISO 4217"),
        ({"name": None}, "name", "cannot be null"),
        ({"requirements": None}, "requirements", "Give a list"),
    ],
)
def test_invalid_service_changes_are_400_problems_by_field(
    staff, make_service, body, field, message
):
    make_service(staff.organization, slug="taken")
    service = make_service(staff.organization, price_minor=100)

    errors = invalid(staff.patch(f"/services/{service.pk}", {"price_minor": 1, **body}), "service")

    assert list(errors) == [field]
    assert message in errors[field][0]
    service.refresh_from_db()
    assert service.price_minor == 100


def test_a_slug_of_another_organization_is_free(staff, outsider, make_service):
    make_service(outsider.organization, slug="cut")
    created = ok(staff.post("/services", {"name": "Cut", "durations": [30]}), 201)
    assert created["slug"] == "cut"


def test_a_slug_taken_while_checking_is_a_400_not_a_500(staff, make_service, monkeypatch):
    make_service(staff.organization, slug="cut")
    # As if the other service was saved after this one's checks.
    exists = QuerySet.exists
    monkeypatch.setattr(QuerySet, "exists", lambda qs: qs.model is not Service and exists(qs))

    errors = invalid(staff.post("/services", {"name": "Cut", "durations": [30]}), "service")

    assert list(errors) == ["slug"]
    assert Service.objects.count() == 1


def test_a_pool_takes_only_this_organizations_resources_of_the_kind(staff, outsider, make_resource):
    room = make_resource(staff.organization, kind="room")
    theirs = make_resource(outsider.organization)
    missing = theirs.pk + 1000
    body = {
        "name": "Cut",
        "durations": [30],
        "requirements": [
            {"kind": "person", "pool": [room.pk, theirs.pk, missing]},
            {"kind": "room", "pool": [room.pk]},
        ],
    }

    errors = invalid(staff.post("/services", body), "service")

    assert errors == {
        "requirements.0.pool": [
            f"Resource {room.pk} is a room, not a person.",
            f"There is no resource {theirs.pk}.",
            f"There is no resource {missing}.",
        ]
    }
    assert not Service.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"name": "Cut"},
        {"name": "Cut", "durations": []},
        {"name": "Cut", "durations": [0]},
        {"name": "Cut", "durations": [60], "step_minutes": 0},
        {"name": "Cut", "durations": [60], "seats_per_slot": 0},
        {"name": "Cut", "durations": [60], "buffer_after_minutes": -5},
        {"name": "Cut", "durations": [60], "price_minor": 2**31},
        {"name": "Cut", "durations": [60], "horizon_days": 3661},
        {"name": "Cut", "durations": [60], "requirements": [{"kind": "robot"}]},
        {"name": "Cut", "durations": [60], "requirements": [{"kind": "person", "pool": [0]}]},
    ],
)
def test_malformed_services_are_422_request_validation(staff, body):
    problem(staff.post("/services", body), "request-validation", 422)


def test_the_largest_settings_accepted_still_give_an_answer(client, staff, make_resource):
    resource = make_resource(staff.organization, capacity=2**31 - 1)
    year = 366 * 24 * 60
    body = {
        "name": "Sabbatical",
        "durations": [year],
        "step_minutes": year,
        "buffer_before_minutes": year,
        "buffer_after_minutes": year,
        "min_notice_minutes": year,
        "horizon_days": 3660,
        "seats_per_slot": 2**31 - 1,
        "max_bookings_per_day": 2**31 - 1,
        "max_minutes_per_week": 2**31 - 1,
        "price_minor": 2**31 - 1,
        "requirements": [{"kind": "person", "pool": [resource.pk]}],
    }
    service = ok(staff.post("/services", body), 201)

    assert slots(client, service["id"]) == []


# Tenancy: every route, with another organization's key


def staff_routes():
    return [
        (method, path)
        for path, view in router.path_operations.items()
        for operation in view.operations
        for method in operation.methods
    ]


ROUTES = staff_routes()

# A valid body for each route that takes one, so that only the id can be refused.
BODIES = {
    ("POST", "/resources"): {"name": "Ann", "kind": "person"},
    ("PATCH", "/resources/{resource_id}"): {"name": "Renamed"},
    ("POST", "/schedules"): {"name": "Hours", "weekly_rules": WEEK},
    ("PATCH", "/schedules/{schedule_id}"): {"name": "Renamed", "weekly_rules": []},
    ("POST", "/services"): {"name": "Cut", "durations": [30]},
    ("PATCH", "/services/{service_id}"): {"name": "Renamed", "requirements": []},
}


@pytest.fixture
def owned(staff, make_resource, make_service):
    """One row of each kind of ``staff``'s organization, by the path parameter naming it."""
    resource = make_resource(staff.organization)
    return {
        "resource_id": resource.pk,
        "schedule_id": resource.schedule_id,
        "service_id": make_service(staff.organization).pk,
    }


def call(staff, method, path, ids):
    url = path.format(**ids)
    if method in ("GET", "DELETE"):
        return getattr(staff, method.lower())(url)
    assert (method, path) in BODIES, f"give {method} {path} a valid body in BODIES"
    return staff.send(method.lower(), url, BODIES[method, path])


def test_every_route_that_takes_a_body_has_one_here():
    assert ROUTES
    assert {(m, p) for m, p in ROUTES if m in ("POST", "PATCH", "PUT")} == set(BODIES)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_another_organizations_ids_are_not_found(staff, outsider, owned, method, path):
    params = re.findall(r"{(\w+)}", path)
    assert set(params) <= set(owned), f"the test does not know {params}: add it to `owned`"
    if not params:
        # No id: the answer is about the outsider's organization alone.
        response = call(outsider, method, path, {})
        assert response.status_code in (200, 201), response.content
        body = response.json()
        rows = body if isinstance(body, list) else [body]
        mine = {owned[f"{path.strip('/')[:-1]}_id"]}
        assert not {row["id"] for row in rows} & mine
        return
    url = path.format(**owned)
    before = ok(staff.get(url))

    foreign = problem(call(outsider, method, path, owned), "not-found", 404)
    missing_ids = {name: pk + 10**6 for name, pk in owned.items()}
    missing = problem(call(outsider, method, path, missing_ids), "not-found", 404)

    # Told apart by nothing but the id in the detail.
    for name in params:
        missing["detail"] = missing["detail"].replace(str(missing_ids[name]), str(owned[name]))
    assert foreign == missing
    assert ok(staff.get(url)) == before


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_every_route_needs_a_valid_key(client, staff, owned, method, path):
    revoke_api_key(staff.organization, staff.api_key.prefix)
    for headers in ({}, staff.headers):
        staff.headers = headers
        response = call(staff, method, path, owned)
        assert response.status_code == 401
        assert response.json()["type"] == "urn:slotwise:problem:unauthorized"


def test_every_catalog_error_has_a_problem_type():
    def leaves(cls):
        subclasses = cls.__subclasses__()
        if not subclasses:
            yield cls
        for sub in subclasses:
            yield from leaves(sub)

    assert set(leaves(CatalogError)) == set(PROBLEMS)
    assert InvalidInput not in PROBLEMS


# What customers see


def test_slots_follow_hours_changed_through_the_staff_api(client, staff, make_resource):
    resource = make_resource(staff.organization)  # Monday to Friday, 09:00-12:00, 13:00-17:00
    service = ok(staff.post("/services", {"name": "Chat", "durations": [60]}), 201)
    patch = {"requirements": [{"kind": "person", "pool": [resource.pk]}]}
    ok(staff.patch(f"/services/{service['id']}", patch))
    assert slots(client, service["id"]) == [
        "09:00",
        "10:00",
        "11:00",
        "13:00",
        "14:00",
        "15:00",
        "16:00",
    ]

    rules = [{"weekday": 0, "start": "10:00", "end": "12:00"}]
    ok(staff.patch(f"/schedules/{resource.schedule_id}", {"weekly_rules": rules}))
    assert slots(client, service["id"]) == ["10:00", "11:00"]

    closed = [{"date": MONDAY}]
    ok(staff.patch(f"/schedules/{resource.schedule_id}", {"overrides": closed}))
    assert slots(client, service["id"]) == []

    ok(staff.patch(f"/schedules/{resource.schedule_id}", {"overrides": []}))
    ok(staff.delete(f"/resources/{resource.pk}"))
    assert slots(client, service["id"]) == []


def test_a_catalog_built_through_the_staff_api_is_bookable(client, staff):
    hours = {
        "name": "Evenings",
        "weekly_rules": [{"weekday": 0, "start": "22:00", "end": "24:00"}],
        "holiday_country": "GB",
    }
    schedule = ok(staff.post("/schedules", hours), 201)
    person = {"name": "Ann", "kind": "person", "schedule_id": schedule["id"]}
    resource = ok(staff.post("/resources", person), 201)
    service = {
        "name": "Night call",
        "durations": [30],
        "requirements": [{"kind": "person", "pool": [resource["id"]]}],
    }
    service_id = ok(staff.post("/services", service), 201)["id"]

    assert slots(client, service_id) == ["22:00", "22:30", "23:00", "23:30"]
    # The Spring Bank Holiday in England.
    assert slots(client, service_id, day="2026-05-25") == []
    # In Tokyo, London's Monday evening is Tuesday morning.
    assert slots(client, service_id, day="2026-06-02", tz="Asia/Tokyo") == [
        "06:00",
        "06:30",
        "07:00",
        "07:30",
    ]
