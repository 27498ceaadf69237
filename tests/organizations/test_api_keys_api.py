"""/api/v1/staff/api-keys: owners and admins issue, list and revoke keys."""

from datetime import UTC, datetime

import pytest
import time_machine
from django.test import Client

from slotwise.accounts.permissions import Role
from slotwise.organizations.models import ApiKey
from slotwise.organizations.services import issue_api_key

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
KEYS = "/api/v1/staff/api-keys"


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


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_issue_a_key_shown_once(org, make_member, role):
    client = signed_in(make_member(org, role, mfa=True))
    body = {"name": "Widget", "scopes": ["bookings:read", "bookings:write"]}
    issued = client.post(KEYS, body, content_type="application/json")
    assert issued.status_code == 201
    key = issued.json()["key"]
    assert key.startswith(f"sw_{issued.json()['prefix']}_")
    assert issued.json()["expires_at"] == "2027-05-01T12:00:00Z"
    listed = client.get(KEYS)
    assert [k["name"] for k in listed.json()] == ["Widget"]
    stored = ApiKey.objects.get()
    for secret in (key, stored.secret_hash):
        assert secret not in listed.content.decode()
    headers = {"Authorization": f"Bearer {key}"}
    assert Client().get("/api/v1/staff/resources", headers=headers).status_code == 403
    assert (
        Client()
        .get("/api/v1/staff/bookings?start=2026-06-01&end=2026-06-01", headers=headers)
        .status_code
        == 200
    )


def test_a_revoked_key_is_refused_and_stays_listed(org, make_member):
    client = signed_in(make_member(org, Role.OWNER, mfa=True))
    api_key, key = issue_api_key(org, "Tablet", scopes=["write"])
    revoked = client.delete(f"{KEYS}/{api_key.prefix}")
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] == "2026-05-01T12:00:00Z"
    headers = {"Authorization": f"Bearer {key}"}
    assert Client().get("/api/v1/staff/resources", headers=headers).status_code == 401
    assert [k["revoked_at"] for k in client.get(KEYS).json()] == ["2026-05-01T12:00:00Z"]


def test_bad_scopes_and_past_expiry_are_refused(org, make_member):
    client = signed_in(make_member(org, Role.OWNER, mfa=True))
    for body in (
        {"name": "Greedy", "scopes": ["members:manage"]},
        {"name": "Late", "expires_at": "2026-04-30T12:00:00+00:00"},
        {"name": "", "scopes": ["read"]},
    ):
        response = client.post(KEYS, body, content_type="application/json")
        assert response.status_code == 400, body
        assert response.json()["type"] == "urn:slotwise:problem:invalid-api-key"
    assert not ApiKey.objects.exists()


def test_keys_and_lower_roles_cannot_manage_keys(org, make_member):
    _, key = issue_api_key(org, "Everything", scopes=["write"])
    assert Client().get(KEYS, headers={"Authorization": f"Bearer {key}"}).status_code == 403
    for role in (Role.STAFF, Role.VIEWER):
        assert signed_in(make_member(org, role)).get(KEYS).status_code == 403


def test_another_organizations_key_cannot_be_revoked(org, make_org, make_member):
    theirs, _ = issue_api_key(make_org(), "Theirs")
    client = signed_in(make_member(org, Role.OWNER, mfa=True))
    assert client.delete(f"{KEYS}/{theirs.prefix}").status_code == 404
    assert client.get(KEYS).json() == []
    theirs.refresh_from_db()
    assert theirs.revoked_at is None
