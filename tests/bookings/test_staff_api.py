"""The staff API for bookings: /api/v1/staff/bookings, its list, a booking and its actions."""

import base64
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import pytest
import time_machine

from slotwise.bookings import services
from slotwise.bookings.models import Booking, BookingEvent, BookingStatus
from slotwise.bookings.queries import BookingQueryError
from slotwise.bookings.staff_api import PROBLEMS, router
from slotwise.organizations.services import issue_api_key, revoke_api_key

pytestmark = pytest.mark.django_db

API = "/api/v1/staff/bookings"
NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
PROBLEM = "application/problem+json"
KEY = "0b6f2d4e-7c1a-4e8b-9d35-6a2f1c8e4b70"
# Monday 1 June 2026, British Summer Time (UTC+1).
TEN = datetime(2026, 6, 1, 9, tzinfo=UTC)
ADA = services.Customer(name="Ada", email="ada@example.com", time_zone="Asia/Tokyo")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


class Staff:
    """The test client, acting for one organization with its API key."""

    def __init__(self, client, organization):
        self.client = client
        self.organization = organization
        self.api_key, key = issue_api_key(organization, "Tests", scopes=["write"])
        self.headers = {"Authorization": f"Bearer {key}"}

    def get(self, path="", **query):
        suffix = f"?{urlencode(query)}" if query else ""
        return self.client.get(API + path + suffix, headers=self.headers)

    def post(self, path, body=None, key=None):
        headers = {**self.headers, **({"Idempotency-Key": key} if key else {})}
        return self.client.post(
            API + path, body or {}, content_type="application/json", headers=headers
        )


@pytest.fixture
def org(make_org):
    return make_org(time_zone="Europe/London")


@pytest.fixture
def staff(client, org):
    return Staff(client, org)


@pytest.fixture
def outsider(client, make_org):
    return Staff(client, make_org(time_zone="Asia/Tokyo", currency="JPY"))


@pytest.fixture
def ann(org, make_resource):
    return make_resource(org, name="Ann")


@pytest.fixture
def service(org, ann, make_service):
    return make_service(org, name="Cut")


@pytest.fixture
def approval(org, ann, make_service):
    """A service whose bookings wait for staff to approve them."""
    return make_service(org, name="Consultation", requires_approval=True)


def book(service, start=TEN):
    booking, _ = services.book(service, start=start, customer=ADA, now=NOW)
    return booking


def ok(response, status=200):
    assert response.status_code == status, response.content
    return response.json()


def problem(response, kind, status=400):
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["type"] == f"urn:slotwise:problem:{kind}"
    return body


def cursor(text):
    return base64.urlsafe_b64encode(text.encode()).decode()


def listed(staff, **query):
    return [b["id"] for b in ok(staff.get(**query))["bookings"]]


# Listing


def test_the_list_shows_each_booking_in_the_organizations_zone(staff, service, ann):
    booking = book(service)
    book(service, TEN + timedelta(days=2))

    page = ok(staff.get(start="2026-06-01", end="2026-06-02"))

    assert page == {
        "time_zone": "Europe/London",
        "start": "2026-06-01",
        "end": "2026-06-02",
        "bookings": [
            {
                "id": booking.pk,
                "status": "confirmed",
                "service": {"id": service.pk, "name": "Cut"},
                "start": "2026-06-01T10:00:00+01:00",
                "end": "2026-06-01T11:00:00+01:00",
                "start_utc": "2026-06-01T09:00:00Z",
                "end_utc": "2026-06-01T10:00:00Z",
                "time_zone": "Europe/London",
                "seats": 1,
                "expires_at": None,
                "customer": {"name": "Ada", "email": "ada@example.com", "phone": ""},
                "cancelled_at": None,
                "cancelled_by": "",
                "cancel_reason": "",
                "terms": booking.terms,
                "payment": None,
                "resources": [{"id": ann.pk, "name": "Ann"}],
                "created_at": "2026-05-01T12:00:00Z",
            }
        ],
        "next": None,
    }


def test_a_listed_booking_is_the_booking_without_its_history(staff, service, approval):
    bookings = [book(service), book(approval, TEN + timedelta(hours=4))]
    services.cancel(bookings[0], by="customer", now=NOW, reason="Ill")

    for item in ok(staff.get(start="2026-06-01", end="2026-06-01"))["bookings"]:
        detail = ok(staff.get(f"/{item['id']}"))
        assert detail.pop("history")
        assert item == detail


def test_dates_are_those_of_the_zone_asked_for(staff, service, ann, make_booking):
    # 23:30 on Monday in London is 07:30 on Tuesday in Tokyo.
    late = make_booking(service, [ann], datetime(2026, 6, 1, 22, 30, tzinfo=UTC))

    assert listed(staff, start="2026-06-01", end="2026-06-01") == [late.pk]
    assert listed(staff, start="2026-06-01", end="2026-06-01", tz="Asia/Tokyo") == []
    page = ok(staff.get(start="2026-06-02", end="2026-06-02", tz="Asia/Tokyo"))
    assert page["time_zone"] == "Asia/Tokyo"
    assert page["bookings"][0]["start"] == "2026-06-02T07:30:00+09:00"


def test_the_day_of_the_spring_clock_change_is_23_hours_of_wall_clock(
    staff, service, ann, make_booking
):
    starts = [
        datetime(2026, 3, 28, 23, 30, tzinfo=UTC),  # Saturday 23:30 GMT
        datetime(2026, 3, 29, 0, 30, tzinfo=UTC),  # Sunday 00:30 GMT
        datetime(2026, 3, 29, 22, 30, tzinfo=UTC),  # Sunday 23:30 BST
        datetime(2026, 3, 29, 23, 30, tzinfo=UTC),  # Monday 00:30 BST
    ]
    ids = [make_booking(service, [ann], start).pk for start in starts]

    assert listed(staff, start="2026-03-29", end="2026-03-29") == ids[1:3]


def test_filters_by_resource_service_and_status(
    staff, org, service, ann, make_resource, make_booking
):
    bob = make_resource(org, name="Bob")
    other = book(service)  # Ann, the first free person
    on_bob = make_booking(service, [bob], TEN)
    held = make_booking(service, [bob], TEN + timedelta(hours=1), status=BookingStatus.HELD)
    dates = {"start": "2026-06-01", "end": "2026-06-01"}

    assert listed(staff, **dates) == [other.pk, on_bob.pk, held.pk]
    assert listed(staff, **dates, resource_id=ann.pk) == [other.pk]
    assert listed(staff, **dates, resource_id=bob.pk) == [on_bob.pk, held.pk]
    assert listed(staff, **dates, status="held") == [held.pk]
    assert listed(staff, **dates, service_id=service.pk, status="confirmed") == [
        other.pk,
        on_bob.pk,
    ]
    assert listed(staff, **dates, service_id=service.pk + 1000) == []


def test_a_cancelled_booking_is_listed_by_status_but_holds_no_resource(staff, service, ann):
    booking = services.cancel(book(service), by="staff", now=NOW)
    dates = {"start": "2026-06-01", "end": "2026-06-01"}

    assert listed(staff, **dates, resource_id=ann.pk) == []
    [item] = ok(staff.get(**dates, status="cancelled"))["bookings"]
    assert (item["id"], item["resources"]) == (booking.pk, [])


def test_pages_follow_start_then_id(staff, org, service, make_resource, make_booking):
    bob = make_resource(org, name="Bob")
    cy = make_resource(org, name="Cy")
    # Made out of order: two at 11:00, one each at 10:00, 12:00 and 15:00 (UTC).
    starts = [11, 10, 11, 15, 12]
    made = [
        make_booking(service, [bob if n % 2 else cy], TEN.replace(hour=hour))
        for n, hour in enumerate(starts)
    ]
    expected = [b.pk for b in sorted(made, key=lambda b: (b.starts_at, b.pk))]

    seen, cursor, pages = [], None, 0
    while True:
        query = {"start": "2026-06-01", "end": "2026-06-01", "limit": 2}
        page = ok(staff.get(**query, **({"cursor": cursor} if cursor else {})))
        seen += [b["id"] for b in page["bookings"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break

    assert seen == expected
    assert pages == 3


def test_the_list_costs_the_same_queries_for_one_booking_or_many(
    staff, service, make_booking, make_resource, org, django_assert_num_queries
):
    dates = {"start": "2026-06-01", "end": "2026-06-30"}
    first = book(service)
    ok(staff.get(**dates))  # the key's first use records it

    # The key with its organization, the bookings with their services, what they hold.
    with django_assert_num_queries(3):
        assert listed(staff, **dates) == [first.pk]

    people = [make_resource(org) for _ in range(3)]
    for day in range(1, 9):
        make_booking(service, people, TEN + timedelta(days=day))
    services.cancel(book(service, TEN + timedelta(hours=5)), by="staff", now=NOW)

    with django_assert_num_queries(3):
        assert len(listed(staff, **dates)) == 10


@pytest.mark.parametrize(
    ("query", "status", "kind"),
    [
        ({"status": "done"}, 400, "invalid-status"),
        ({"tz": "Mars/Base"}, 400, "invalid-timezone"),
        ({"end": "2026-05-31"}, 400, "invalid-date-range"),
        ({"start": "1969-12-31"}, 400, "invalid-date-range"),
        ({"end": "2026-09-02"}, 400, "range-too-long"),
        ({"cursor": "not-a-cursor"}, 400, "invalid-cursor"),
        ({"cursor": cursor("123.9999999999999999999")}, 400, "invalid-cursor"),
        ({"cursor": cursor("9999999999999999999.1")}, 400, "invalid-cursor"),
        ({"limit": 501}, 422, "request-validation"),
        ({"limit": 0}, 422, "request-validation"),
        ({"resource_id": 0}, 422, "request-validation"),
        ({"start": "June"}, 422, "request-validation"),
    ],
    ids=["status", "zone", "backwards", "too-early", "94-days", "cursor", "huge-id",
         "huge-time", "limit-high", "limit-zero", "resource-zero", "not-a-date"],
)  # fmt: skip
def test_bad_list_parameters_are_problems(staff, query, status, kind):
    body = problem(staff.get(**{"start": "2026-06-01", "end": "2026-06-01", **query}), kind, status)
    if kind == "invalid-status":
        assert "held, pending, confirmed, completed, no_show, cancelled" in body["detail"]


def test_every_booking_query_error_has_a_problem_type():
    assert set(BookingQueryError.__subclasses__()) == set(PROBLEMS)


def test_93_dates_are_the_most_one_list_covers(staff, service):
    booking = book(service)
    assert listed(staff, start="2026-06-01", end="2026-09-01") == [booking.pk]


# One booking


def test_a_booking_shows_its_whole_history(staff, approval, ann):
    booking = book(approval)
    ok(staff.post(f"/{booking.pk}/reschedule", {"start": "2026-06-01T14:00:00+01:00"}))

    detail = ok(staff.get(f"/{booking.pk}", tz="America/New_York"))

    assert detail["id"] == booking.pk
    assert detail["status"] == "pending"
    assert detail["start"] == "2026-06-01T09:00:00-04:00"
    assert detail["resources"] == [{"id": ann.pk, "name": "Ann"}]
    assert detail["history"] == [
        {
            "at": "2026-05-01T12:00:00Z",
            "action": "booking.created",
            "actor": "customer",
            "data": {"status": "pending"},
        },
        {
            "at": "2026-05-01T12:00:00Z",
            "action": "booking.rescheduled",
            "actor": "staff",
            "data": {
                "old": ["2026-06-01T09:00:00+00:00", "2026-06-01T10:00:00+00:00"],
                "new": ["2026-06-01T13:00:00+00:00", "2026-06-01T14:00:00+00:00"],
            },
        },
    ]


def test_a_bad_zone_for_a_booking_is_a_problem(staff, service):
    problem(staff.get(f"/{book(service).pk}", tz="Europe/Londres"), "invalid-timezone")


# Actions


def test_approve_confirms_a_pending_booking(staff, approval):
    booking = book(approval)

    approved = ok(staff.post(f"/{booking.pk}/approve"))

    assert approved["status"] == "confirmed"
    assert approved["time_zone"] == "Europe/London"
    assert approved["history"][-1] == {
        "at": "2026-05-01T12:00:00Z",
        "action": "booking.approved",
        "actor": "staff",
        "data": {"old": "pending", "new": "confirmed"},
    }
    problem(staff.post(f"/{booking.pk}/approve"), "invalid-transition", 409)


def test_approve_checks_again_and_a_busy_time_added_since_refuses_it(
    staff, approval, ann, make_busy
):
    booking = book(approval)
    make_busy(ann, TEN - timedelta(minutes=30), TEN + timedelta(minutes=30))

    refused = problem(staff.post(f"/{booking.pk}/approve"), "slot-unavailable", 409)

    # The next free starts, in the organization's zone.
    assert [s["start"] for s in refused["suggestions"]] == [
        "2026-06-01T11:00:00+01:00",
        "2026-06-01T13:00:00+01:00",
        "2026-06-01T14:00:00+01:00",
    ]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.PENDING
    assert booking.allocations.get().resource == ann
    assert not booking.events.filter(action="booking.approved").exists()


def test_reject_frees_a_pending_booking(staff, approval, service):
    booking = book(approval)

    rejected = ok(staff.post(f"/{booking.pk}/reject", {"reason": "Fully booked that week"}))

    assert rejected["status"] == "cancelled"
    assert rejected["cancelled_by"] == "staff"
    assert rejected["cancel_reason"] == "Fully booked that week"
    assert rejected["resources"] == []
    assert book(service).starts_at == TEN  # the slot is free again
    confirmed = book(service, TEN + timedelta(hours=4))
    problem(staff.post(f"/{confirmed.pk}/reject"), "invalid-transition", 409)


def test_cancel_by_staff_with_a_reason(staff, service, ann):
    booking = book(service)

    cancelled = ok(staff.post(f"/{booking.pk}/cancel", {"reason": "Stylist ill"}))

    assert (cancelled["status"], cancelled["cancelled_by"]) == ("cancelled", "staff")
    assert cancelled["cancelled_at"] == "2026-05-01T12:00:00Z"
    assert cancelled["cancel_reason"] == "Stylist ill"
    # The history keeps who was to take the booking, now that it holds nothing.
    assert cancelled["history"][-1]["data"] == {"reason": "Stylist ill", "resources": [ann.pk]}
    problem(staff.post(f"/{booking.pk}/cancel"), "invalid-transition", 409)


def test_cancel_without_a_body(staff, service):
    booking = book(service)
    response = staff.client.generic("POST", f"{API}/{booking.pk}/cancel", headers=staff.headers)
    assert ok(response)["cancel_reason"] == ""


def test_reschedule_moves_a_booking_and_keeps_its_resource(staff, service, ann):
    booking = book(service)

    moved = ok(staff.post(f"/{booking.pk}/reschedule", {"start": "2026-06-01T14:00:00+01:00"}))

    assert (moved["start"], moved["end"]) == (
        "2026-06-01T14:00:00+01:00",
        "2026-06-01T15:00:00+01:00",
    )
    assert moved["resources"] == [{"id": ann.pk, "name": "Ann"}]
    assert moved["history"][-1]["actor"] == "staff"


def test_a_reschedule_to_a_taken_slot_changes_nothing_and_suggests(staff, service):
    booking = book(service)
    book(service, TEN + timedelta(hours=4))
    before = ok(staff.get(f"/{booking.pk}"))

    refused = problem(
        staff.post(f"/{booking.pk}/reschedule", {"start": "2026-06-01T14:00:00+01:00"}),
        "slot-unavailable",
        409,
    )

    assert refused["suggestions"][0]["start"] == "2026-06-01T15:00:00+01:00"
    assert ok(staff.get(f"/{booking.pk}")) == before


@pytest.mark.parametrize(
    ("start", "status", "kind"),
    [
        ("2026-06-01T12:00:00+01:00", 400, "outside-hours"),
        ("2026-06-01T14:00:00", 400, "naive-time"),
        ("2026-04-01T14:00:00+01:00", 400, "start-in-past"),
        ("after lunch", 422, "request-validation"),
    ],
)
def test_a_refused_reschedule_is_a_problem(staff, service, start, status, kind):
    booking = book(service)
    problem(staff.post(f"/{booking.pk}/reschedule", {"start": start}), kind, status)
    booking.refresh_from_db()
    assert booking.starts_at == TEN


@pytest.mark.parametrize(("action", "status"), [("complete", "completed"), ("no-show", "no_show")])
def test_a_booking_that_has_started_is_marked(staff, service, ann, make_booking, action, status):
    started = make_booking(service, [ann], NOW - timedelta(minutes=30))
    upcoming = book(service)

    marked = ok(staff.post(f"/{started.pk}/{action}"))

    assert marked["status"] == status
    assert marked["history"][-1]["action"] == f"booking.{status}"
    problem(staff.post(f"/{started.pk}/{action}"), "invalid-transition", 409)
    problem(staff.post(f"/{upcoming.pk}/{action}"), "invalid-transition", 409)


def test_a_retried_approve_gets_the_first_answer(staff, outsider, approval):
    booking = book(approval)

    first = staff.post(f"/{booking.pk}/approve", key=KEY)
    again = staff.post(f"/{booking.pk}/approve", key=KEY)

    assert ok(again) == ok(first)
    assert again["Idempotent-Replayed"] == "true"
    assert booking.events.filter(action="booking.approved").count() == 1
    # Without the key, approving twice is refused; another organization's key
    # never replays this organization's answer.
    problem(staff.post(f"/{booking.pk}/approve"), "invalid-transition", 409)
    problem(outsider.post(f"/{booking.pk}/approve", key=KEY), "not-found", 404)


# Tenancy: every route, with another organization's key


def staff_routes():
    return [
        (method, path)
        for path, view in router.path_operations.items()
        for operation in view.operations
        for method in operation.methods
    ]


ROUTES = staff_routes()
ROUTE_IDS = [f"{m} {p}" for m, p in ROUTES]

# A valid body for each POST, so that only the id can be refused.
BODIES = {
    "/{booking_id}/approve": {},
    "/{booking_id}/reject": {"reason": "No"},
    "/{booking_id}/cancel": {"reason": "No"},
    "/{booking_id}/reschedule": {"start": "2026-06-01T14:00:00+01:00"},
    "/{booking_id}/complete": {},
    "/{booking_id}/no-show": {},
}


@pytest.fixture
def owned(approval):
    return {"booking_id": book(approval).pk}


def call(staff, method, path, ids):
    url = path.format(**ids)
    if method == "GET":
        dates = {} if "{" in path else {"start": "2026-06-01", "end": "2026-06-01"}
        return staff.get(url, **dates)
    assert path in BODIES, f"give POST {path} a valid body in BODIES"
    return staff.post(url, BODIES[path])


def test_every_route_that_takes_a_body_has_one_here():
    assert ROUTES
    assert {p for m, p in ROUTES if m == "POST"} == set(BODIES)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=ROUTE_IDS)
def test_another_organizations_bookings_are_not_found(staff, outsider, owned, method, path):
    params = re.findall(r"{(\w+)}", path)
    assert set(params) <= set(owned), f"the test does not know {params}: add it to `owned`"
    if not params:
        assert call(outsider, method, path, {}).json()["bookings"] == []
        return
    detail = f"/{owned['booking_id']}"
    before = ok(staff.get(detail))
    events = BookingEvent.objects.count()

    foreign = problem(call(outsider, method, path, owned), "not-found", 404)
    missing_ids = {name: pk + 10**6 for name, pk in owned.items()}
    missing = problem(call(outsider, method, path, missing_ids), "not-found", 404)

    # Told apart by nothing but the id in the detail.
    for name in params:
        missing["detail"] = missing["detail"].replace(str(missing_ids[name]), str(owned[name]))
    assert foreign == missing
    assert ok(staff.get(detail)) == before
    assert BookingEvent.objects.count() == events


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=ROUTE_IDS)
def test_every_route_needs_a_valid_key(staff, owned, method, path):
    revoke_api_key(staff.organization, staff.api_key.prefix)
    for headers in ({}, staff.headers):
        staff.headers = headers
        response = call(staff, method, path, owned)
        assert response.status_code == 401
        assert response.json()["type"] == "urn:slotwise:problem:unauthorized"
    assert Booking.objects.get().status == BookingStatus.PENDING


def test_the_staff_routes_share_the_staff_prefix_with_the_catalog(staff, client):
    assert ok(staff.client.get("/api/v1/staff/resources", headers=staff.headers)) == []
    paths = ok(client.get("/api/v1/openapi.json"))["paths"]
    assert {"/api/v1/staff/bookings", "/api/v1/staff/bookings/{booking_id}/approve"} <= set(paths)
    assert "/api/v1/staff/services" in paths
