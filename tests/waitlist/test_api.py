"""Joining and leaving the waitlist through the public API and the emailed link, what
can be waited for, when entries expire, and what staff see of it."""

import json
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client

from slotwise.accounts.permissions import Role
from slotwise.catalog.models import Resource, ResourceKind
from slotwise.organizations.services import issue_api_key
from slotwise.waitlist import services as waitlist
from slotwise.waitlist import tasks
from slotwise.waitlist.models import Offer, WaitlistEntry
from tests.waitlist.conftest import (
    ELEVEN,
    TEN,
    book,
    cancel,
    claim,
    csrf_post,
    entry,
    join,
    link,
    mails,
    offer_token,
    offers_to,
    post,
    subject,
    text,
    try_join,
    utc,
)

pytestmark = pytest.mark.django_db

SIXTEEN = datetime(2026, 6, 1, 15, tzinfo=UTC)  # Monday 16:00 in London, Tuesday 00:00 in Tokyo
TUESDAY_MIDNIGHT_IN_TOKYO = {
    "first_day": "2026-06-02",
    "last_day": "2026-06-02",
    "weekdays": [1],
    "earliest": "00:00",
    "latest": "00:30",
}


@pytest.fixture(autouse=True)
def _stopped(clock):
    return clock


# Joining and leaving


@pytest.mark.django_db(transaction=True)
def test_joining_emails_a_link_that_leaves_the_list(client, service, inbox):
    ada = book(client, service, TEN, "Ada")
    window = {"first_day": "2026-06-01", "last_day": "2026-06-01", "earliest": "10:00",
              "latest": "10:30"}  # fmt: skip

    bob = join(client, service, "Bob", window=window)

    assert len(bob["token"]) >= 40
    assert bob["status"] == "waiting"
    assert bob["window"] == {**window, "weekdays": [], "earliest": "10:00:00",
                             "latest": "10:30:00"}  # fmt: skip
    assert bob["expires_at"] == "2026-06-01T23:00:00Z"  # midnight in London
    [joined] = mails(inbox, "Bob")
    assert subject(joined) == "You are on the waitlist for Portrait session"
    assert "01 Jun 2026 – 01 Jun 2026, 10:00–10:30" in text(joined)  # noqa: RUF001
    leave_page = link(joined)
    assert leave_page.startswith("/waitlist/leave/")

    browser = Client(enforce_csrf_checks=True)
    assert browser.post(leave_page).status_code == 403  # no CSRF token: nothing happens
    assert entry(client, bob)["status"] == "waiting"
    left = csrf_post(browser, leave_page)

    assert left.status_code == 200
    assert "You are no longer on this waitlist." in left.content.decode()
    assert entry(client, bob)["status"] == "left"
    assert "Leave the waitlist" not in browser.get(leave_page).content.decode()
    cancel(client, ada)
    assert offers_to(inbox, "Bob") == []


@pytest.mark.django_db(transaction=True)
def test_a_window_is_matched_in_the_customers_own_zone(client, service, inbox):
    ada = book(client, service, SIXTEEN, "Ada")
    # Tuesday just after midnight: in Tokyo, the last slot of Monday in London.
    kei = join(client, service, "Kei", window=TUESDAY_MIDNIGHT_IN_TOKYO, zone="Asia/Tokyo")
    lee = join(client, service, "Lee", window=TUESDAY_MIDNIGHT_IN_TOKYO)  # in London
    assert kei["expires_at"] == "2026-06-02T15:00:00Z"  # Wednesday 00:00 in Tokyo
    assert entry(client, kei)["offer"] is None  # dozens of free slots, none at that hour

    cancel(client, ada)

    [offer] = offers_to(inbox, "Kei")
    assert "Tuesday 2 June 2026, 00:00–01:00 (Asia/Tokyo" in text(offer)  # noqa: RUF001
    read = client.get(f"/api/v1/waitlist/offers/{offer_token(offer)}").json()
    assert (read["start"], read["start_utc"]) == ("2026-06-02T00:00:00+09:00", utc(SIXTEEN))
    assert entry(client, lee)["offer"] is None
    assert offers_to(inbox, "Lee") == []


def test_weekdays_and_times_of_day_narrow_a_window(client, service):
    for hour in range(9, 17):
        if hour != 12:  # lunch
            book(client, service, datetime(2026, 6, 3, hour - 1, tzinfo=UTC), "Ada")
    # Wednesday 3 June is full; Monday to Friday otherwise free.
    window = {"first_day": "2026-06-01", "last_day": "2026-06-05", "weekdays": [2],
              "earliest": "14:00", "latest": "15:00"}  # fmt: skip
    bob = join(client, service, "Bob", window=window)

    assert tasks.backfill_service.call(service.pk) == 0
    WaitlistEntry.objects.filter(pk=bob["id"]).update(weekdays=[2, 3])
    assert tasks.backfill_service.call(service.pk) == 1

    assert entry(client, bob)["offer"]["start"] == "2026-06-04T14:00:00+01:00"  # Thursday


def test_an_address_waits_at_most_three_times_for_one_service(client, service, make_service):
    for hour in (10, 11, 14):
        join(client, service, "Bob", slot_start=f"2026-06-01T{hour}:00:00+01:00")

    shouting = {"service_id": service.pk, "slot_start": "2026-06-01T15:00:00+01:00",
                "customer": {"name": "Bob", "email": "BOB@example.com",
                             "time_zone": "Europe/London"}}  # fmt: skip
    fourth = post(client, "/api/v1/waitlist", shouting)

    assert fourth.status_code == 400
    problem = fourth.json()
    assert (problem["type"], problem["field"]) == (
        "urn:slotwise:problem:invalid-waitlist-entry",
        "customer",
    )
    other = make_service(service.organization, name="Headshots")
    assert try_join(client, other, "Bob", slot_start=TEN).status_code == 201
    assert try_join(client, service, "Cy", slot_start=TEN).status_code == 201
    first = WaitlistEntry.objects.filter(customer_email="bob@example.com", service=service).first()
    first.status = "left"
    first.save()
    assert post(client, "/api/v1/waitlist", shouting).status_code == 201


@pytest.mark.parametrize(
    ("want", "field"),
    [
        ({"slot_start": "2026-05-01T11:00:00+00:00"}, "slot_start"),
        ({"window": {"first_day": "2026-04-20", "last_day": "2026-04-30"}}, "window"),
        ({"window": {"first_day": "2026-06-05", "last_day": "2026-06-01"}}, "window"),
        ({"window": {"first_day": "2026-06-01", "last_day": "2027-06-01"}}, "window"),
        (
            {"window": {"first_day": "2026-06-01", "last_day": "2026-06-05", "weekdays": [7]}},
            "weekdays",
        ),
        (
            {
                "window": {
                    "first_day": "2026-06-01",
                    "last_day": "2026-06-05",
                    "earliest": "15:00",
                    "latest": "09:00",
                }
            },
            "latest",
        ),
        ({}, "window"),
        ({"slot_start": TEN.isoformat(), "resource_id": 999_999}, "resource_id"),
        ({"slot_start": TEN.isoformat(), "zone": "Mars/Olympus"}, "customer"),
    ],
    ids=[
        "slot-passed",
        "window-passed",
        "last-before-first",
        "too-long",
        "weekday-7",
        "latest-before-earliest",
        "nothing-wanted",
        "foreign-resource",
        "bad-zone",
    ],
)
def test_a_wish_that_cannot_be_met_is_refused(client, service, want, field):
    refused = try_join(client, service, "Bob", **want)

    assert refused.status_code == 400, refused.content
    problem = refused.json()
    assert problem["type"] == "urn:slotwise:problem:invalid-waitlist-entry"
    assert problem["field"] == field
    assert not WaitlistEntry.objects.exists()


def test_a_window_ending_today_is_still_open(client, service):
    today = {"first_day": "2026-05-01", "last_day": "2026-05-01"}
    assert try_join(client, service, "Bob", window=today).status_code == 201


def test_a_service_without_a_waitlist_refuses_entries(client, service):
    service.waitlist_mode = "off"
    service.save()

    refused = try_join(client, service, "Bob", slot_start=TEN)

    assert refused.status_code == 400
    assert refused.json()["field"] == "service_id"
    service.pk = 999_999
    assert try_join(client, service, "Bob", slot_start=TEN).status_code == 404


def test_entries_expire_once_their_wish_has_passed(client, clock, service):
    book(client, service, TEN, "Ada")
    book(client, service, SIXTEEN, "Ada")
    bob = join(client, service, "Bob", slot_start=TEN)
    kei = join(client, service, "Kei", window=TUESDAY_MIDNIGHT_IN_TOKYO, zone="Asia/Tokyo")

    clock.move_to(TEN - timedelta(seconds=1))
    tasks.sweep.call()
    assert (entry(client, bob)["status"], entry(client, kei)["status"]) == ("waiting", "waiting")
    clock.move_to(TEN)
    tasks.sweep.call()
    assert (entry(client, bob)["status"], entry(client, kei)["status"]) == ("expired", "waiting")
    clock.move_to(datetime(2026, 6, 2, 15, tzinfo=UTC))  # Wednesday in Tokyo
    tasks.sweep.call()
    assert entry(client, kei)["status"] == "expired"

    left = post(client, f"/api/v1/waitlist/{kei['token']}/leave")
    assert left.json()["status"] == "expired"  # leaving an ended entry changes nothing


def test_tokens_that_name_nothing_are_not_found(client, service):
    bob = join(client, service, "Bob", slot_start=TEN)
    forged = f"e{bob['id']}-" + "A" * 32
    for token in ("x" * 43, forged, "w1-" + "A" * 32):
        assert client.get(f"/api/v1/waitlist/{token}").status_code == 404
        assert post(client, f"/api/v1/waitlist/{token}/leave").status_code == 404
        assert client.get(f"/api/v1/waitlist/offers/{token}").status_code == 404
        assert claim(client, token).status_code == 404
        assert client.get(f"/waitlist/leave/{token}").status_code == 404
        assert client.get(f"/waitlist/offer/{token}").status_code == 404
    assert entry(client, bob)["status"] == "waiting"


def test_the_public_operations_are_rate_limited(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    public = {
        f"{method.upper()} {path}": "429" in operation["responses"]
        for path, operations in paths.items()
        for method, operation in operations.items()
        if path.startswith("/api/v1/waitlist")
    }

    assert len(public) == 5
    assert all(public.values()), public


# Staff


@pytest.fixture
def viewer(org, make_member):
    client = Client()
    client.force_login(make_member(org, Role.VIEWER))
    return client


def staff_get(client, path, **headers):
    return client.get(f"/api/v1/staff/waitlist{path}", headers=headers)


def test_staff_see_who_waits_for_a_service_on_a_day_in_queue_order(
    client, clock, viewer, service, make_service
):
    other = make_service(service.organization, name="Headshots")
    for start in (TEN, datetime(2026, 6, 4, 9, tzinfo=UTC)):
        book(client, service, start, "Ada")
    bob = join(client, service, "Bob", slot_start=TEN)
    clock.shift(60)
    cy = join(client, service, "Cy", window={"first_day": "2026-05-31", "last_day": "2026-06-02"})
    dee = join(client, service, "Dee", slot_start="2026-06-04T10:00:00+01:00")
    eve = join(client, other, "Eve", slot_start=TEN)
    gone = join(client, service, "Gus", slot_start=TEN)
    post(client, f"/api/v1/waitlist/{gone['token']}/leave")
    WaitlistEntry.objects.filter(pk=cy["id"]).update(priority=1)

    def ids(**query):
        path = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
        response = staff_get(viewer, path)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()]

    assert ids(service_id=service.pk, day="2026-06-01") == [cy["id"], bob["id"]]
    assert ids(service_id=service.pk, day="2026-06-04") == [dee["id"]]
    assert ids(service_id=service.pk) == [cy["id"], bob["id"], dee["id"]]
    assert ids(day="2026-06-01") == [cy["id"], bob["id"], eve["id"]]
    [row] = staff_get(viewer, f"?service_id={other.pk}").json()
    assert row["customer"] == {"name": "Eve", "email": "eve@example.com"}
    assert "token" not in row


def test_staff_see_the_offers_outstanding(client, viewer, service):
    book(client, service, TEN, "Ada")
    join(client, service, "Bob", slot_start=TEN)
    cy = join(client, service, "Cy", slot_start=ELEVEN)
    assert tasks.backfill_service.call(service.pk) == 1

    offers = staff_get(viewer, "/offers")

    assert offers.status_code == 200
    [offer] = offers.json()
    assert (offer["entry"], offer["customer"], offer["status"]) == (
        cy["id"],
        "cy@example.com",
        "open",
    )
    assert (offer["start_utc"], offer["expires_at"]) == (utc(ELEVEN), "2026-05-01T12:30:00Z")


def test_staff_see_what_the_waitlist_recovered_per_currency(
    client, clock, viewer, org, make_resource, make_service
):
    ann, ben = Resource.objects.get(name="Ann"), make_resource(org, name="Ben")
    pounds = make_service(org, name="Portraits", needs=[(ResourceKind.PERSON, [ann])])
    euros = make_service(org, name="Retouching", needs=[(ResourceKind.PERSON, [ben])],
                         currency="EUR", price_minor=7000)  # fmt: skip
    bookings = [book(client, s, TEN, "Ada") for s in (pounds, euros)]
    eleven = book(client, pounds, ELEVEN, "Abe")
    for name, wanted, start in (("Bob", pounds, TEN), ("Cy", euros, TEN),
                                ("Dee", pounds, ELEVEN), ("Eve", euros, ELEVEN)):  # fmt: skip
        join(client, wanted, name, slot_start=start)
    for booked in (*bookings, eleven):
        cancel(client, booked)
    for wanted in (pounds, euros):
        tasks.backfill_service.call(wanted.pk)
    offers = {o.entry.customer_name: o for o in Offer.objects.select_related("entry")}
    assert sorted(offers) == ["Bob", "Cy", "Dee", "Eve"]

    claimed = {
        name: claim(client, waitlist.offer_token(offers[name])).json()
        for name in ("Bob", "Cy", "Dee")
    }
    cancel(client, claimed["Dee"])
    clock.shift(timedelta(minutes=31))
    tasks.sweep.call()
    assert Offer.objects.get(pk=offers["Eve"].pk).status == "expired"
    recovered = staff_get(viewer, "/recovered?start=2026-05-01&end=2026-05-01")

    assert recovered.status_code == 200, recovered.content
    assert recovered.json() == {
        "start": "2026-05-01",
        "end": "2026-05-01",
        "offers_claimed": 3,
        "bookings_kept": 2,
        "revenue_minor": {"GBP": 5000, "EUR": 7000},
        "offers_made": 4,
    }
    later = staff_get(viewer, "/recovered?start=2026-05-02&end=2026-05-31").json()
    assert (later["offers_claimed"], later["offers_made"], later["revenue_minor"]) == (0, 0, {})
    backwards = staff_get(viewer, "/recovered?start=2026-05-02&end=2026-05-01")
    assert backwards.status_code == 400


def test_the_staff_waitlist_is_for_members_and_keys_of_the_organization(
    client, org, service, make_org, make_member
):
    join(client, service, "Bob", slot_start=TEN)
    _, read_key = issue_api_key(org, "reports", scopes=["read"])
    outsider = Client()
    outsider.force_login(make_member(make_org(), Role.OWNER, mfa=True))

    for path in ("", "/offers", "/recovered?start=2026-05-01&end=2026-05-31"):
        anonymous = staff_get(Client(), path)
        assert anonymous.status_code == 401
        assert anonymous.json()["type"] == "urn:slotwise:problem:unauthorized"
        assert staff_get(client, path, Authorization=f"Bearer {read_key}").status_code == 200
        foreign = staff_get(outsider, path)
        assert foreign.status_code == 200
        assert "bob@example.com" not in foreign.content.decode()
    assert json.loads(staff_get(outsider, "").content) == []
