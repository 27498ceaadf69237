"""Reading the audit log: /api/v1/staff/audit, for owners only, newest first, a page at a time."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from slotwise.accounts.permissions import Role
from slotwise.audit import context
from slotwise.audit.services import log_action
from slotwise.organizations.services import issue_api_key

pytestmark = pytest.mark.django_db

API = "/api/v1/staff/audit"
NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def org(make_org):
    return make_org()


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner(org, make_member):
    return signed_in(make_member(org, Role.OWNER, mfa=True))


def entry(org, action, minutes=0, **fields):
    return log_action(action, organization=org, now=NOW + timedelta(minutes=minutes), **fields)


def listed(client, **query):
    response = client.get(API, query)
    assert response.status_code == 200, response.content
    return response.json()


def test_the_owner_reads_the_log_newest_first(org, owner, make_member):
    viewer = make_member(org, Role.VIEWER)
    with context.acting(f"user:{viewer.pk}", viewer):
        entry(org, "member.role_changed", 1, target=viewer, data={"old": "viewer", "new": "staff"})
    api_key, _ = issue_api_key(org, "Widget")
    answer = listed(owner)
    assert answer["next"] is None
    assert answer["entries"] == [
        {
            "at": "2026-05-01T12:01:00.000000Z",
            "actor": f"user:{viewer.pk}",
            "action": "member.role_changed",
            "target_type": "user",
            "target_id": str(viewer.pk),
            "data": {"old": "viewer", "new": "staff"},
            "ip": None,
            "user_agent": "",
        },
        {
            "at": "2026-05-01T12:00:00.000000Z",
            "actor": "system",
            "action": "api_key.issued",
            "target_type": "apikey",
            "target_id": str(api_key.pk),
            "data": {
                "prefix": api_key.prefix,
                "name": "Widget",
                "scopes": ["read"],
                "expires_at": "2027-05-01T12:00:00Z",
            },
            "ip": None,
            "user_agent": "",
        },
    ]


def test_account_level_entries_are_not_listed(org, owner, make_member):
    member = make_member(org, Role.STAFF)
    log_action("account.signed_in", user=member)
    assert listed(owner)["entries"] == []


def test_filters_by_action_prefix_and_time(org, owner):
    entry(org, "booking.created", 0)
    entry(org, "booking.cancelled", 10)
    entry(org, "api_key.issued", 20)
    entry(org, "bookingish.other", 30)

    def actions(**query):
        return [e["action"] for e in listed(owner, **query)["entries"]]

    assert actions(action="booking.") == ["booking.cancelled", "booking.created"]
    assert actions(action="booking.cancelled") == ["booking.cancelled"]
    assert actions(since="2026-05-01T13:10:00+01:00") == [
        "bookingish.other",
        "api_key.issued",
        "booking.cancelled",
    ]
    assert actions(since="2026-05-01T12:10:00Z", until="2026-05-01T12:30:00Z") == [
        "api_key.issued",
        "booking.cancelled",
    ]
    assert actions(action="booking.", until="2026-05-01T12:10:00Z") == ["booking.created"]


def test_instants_need_an_offset(owner):
    response = owner.get(API, {"since": "2026-05-01T12:00:00"})
    assert response.status_code == 400
    assert response.json()["type"] == "urn:slotwise:problem:naive-time"


def test_pages_follow_time_then_id(org, owner):
    # Three entries at the same instant, where a page ends: the id breaks the tie.
    for n, minutes in enumerate((0, 5, 5, 5, 9)):
        entry(org, "booking.created", minutes, data={"n": n})
    seen, cursor, pages = [], None, 0
    while True:
        page = listed(owner, limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [e["data"]["n"] for e in page["entries"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert (pages, seen) == (3, [4, 3, 2, 1, 0])


def test_a_cursor_no_page_gave_is_refused(owner):
    response = owner.get(API, {"cursor": "not-a-cursor"})
    assert response.status_code == 400
    assert response.json()["type"] == "urn:slotwise:problem:invalid-cursor"


@pytest.mark.parametrize("role", [Role.ADMIN, Role.STAFF, Role.VIEWER])
def test_only_owners_read_the_log(org, make_member, role):
    entry(org, "booking.created")
    response = signed_in(make_member(org, role, mfa=True)).get(API)
    assert response.status_code == 403
    assert response.json()["type"] == "urn:slotwise:problem:forbidden"


@pytest.mark.parametrize("scopes", [["read"], ["write"]])
def test_api_keys_never_read_the_log(org, scopes):
    _, key = issue_api_key(org, "Reports", scopes=scopes)
    response = Client().get(API, headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 403


def test_without_credentials_the_answer_is_401():
    response = Client().get(API)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_another_organizations_owner_sees_none_of_this_log(org, make_org, make_member):
    entry(org, "booking.created", data={"reason": "Zanzibar"})
    issue_api_key(org, "Zanzibar desk")
    other = make_org()
    foreign = signed_in(make_member(other, Role.OWNER, mfa=True))
    response = foreign.get(API)
    assert response.status_code == 200
    assert response.json() == {"entries": [], "next": None}
    assert listed(foreign, action="api_key.")["entries"] == []
