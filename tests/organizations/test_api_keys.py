"""Organization API keys: issuing, revoking, recognising them, and the 401 without one."""

import hashlib
import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.exceptions import ValidationError

from slotwise.organizations import services
from slotwise.organizations.models import ApiKey
from slotwise.organizations.services import (
    ApiKeyNotFound,
    issue_api_key,
    organization_for_api_key,
    revoke_api_key,
)

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
STAFF_URL = "/api/v1/staff/resources"
PROBLEM = "application/problem+json"


@pytest.fixture
def org(make_org):
    return make_org()


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def test_a_key_is_shown_once_and_only_its_hash_is_kept(org):
    api_key, key = issue_api_key(org, "Front desk")

    match = re.fullmatch(r"sw_([0-9a-f]{12})_([A-Za-z0-9_-]{43})", key)
    assert match is not None  # 32 random bytes: 256 bits of secret
    assert match[1] == api_key.prefix
    row = ApiKey.objects.get()
    assert row.secret_hash == hashlib.sha256(key.encode()).hexdigest()
    stored = [str(getattr(row, field.attname)) for field in ApiKey._meta.fields]
    assert not any(match[2] in value for value in stored)
    assert (row.organization, row.name, row.revoked_at, row.last_used_at) == (
        org,
        "Front desk",
        None,
        None,
    )


def test_each_key_is_new(org):
    keys = [issue_api_key(org, f"Key {n}")[1] for n in range(3)]
    assert len(set(keys)) == 3
    assert ApiKey.objects.values("prefix").distinct().count() == 3


def test_a_prefix_already_taken_is_drawn_again(org, monkeypatch):
    issued, _ = issue_api_key(org, "First")
    draws = iter([issued.prefix, "0123456789ab"])
    monkeypatch.setattr(services.secrets, "token_hex", lambda nbytes: next(draws))

    second, key = issue_api_key(org, "Second")

    assert second.prefix == "0123456789ab"
    assert organization_for_api_key(key) == org


def test_a_key_needs_a_name(org):
    with pytest.raises(ValidationError) as caught:
        issue_api_key(org, "")
    assert "name" in caught.value.message_dict
    assert not ApiKey.objects.exists()


def test_a_key_finds_its_organization(org, make_org):
    make_org()
    _, key = issue_api_key(org, "Widget")
    assert organization_for_api_key(key) == org


@pytest.mark.parametrize(
    "spoil",
    [
        lambda key: key[:-1] + ("A" if key[-1] != "A" else "B"),
        lambda key: key[:-1],
        lambda key: key.replace("sw_", "xx_", 1),
        lambda key: key.upper(),
        lambda key: key + " ",
        lambda key: "sw_0123456789ab_" + key.rsplit("_", 1)[-1],
        lambda key: "",
        lambda key: "sw_" + "a" * 10_000,
    ],
    ids=[
        "other-secret",
        "shortened",
        "wrong-scheme",
        "upper-case",
        "trailing-space",
        "unknown-prefix",
        "empty",
        "huge",
    ],
)
def test_anything_but_the_exact_key_is_refused(org, spoil):
    _, key = issue_api_key(org, "Widget")
    assert organization_for_api_key(spoil(key)) is None


def test_a_revoked_key_is_refused(org):
    api_key, key = issue_api_key(org, "Widget")

    revoked = revoke_api_key(org, api_key.prefix, now=NOW)

    assert revoked.revoked_at == NOW
    assert organization_for_api_key(key) is None


def test_revoking_twice_keeps_the_first_time(org):
    api_key, _ = issue_api_key(org, "Widget")
    revoke_api_key(org, api_key.prefix, now=NOW)

    again = revoke_api_key(org, api_key.prefix, now=NOW + timedelta(days=1))

    assert again.revoked_at == NOW


def test_an_organization_cannot_revoke_another_ones_key(org, make_org):
    api_key, key = issue_api_key(org, "Widget")
    with pytest.raises(ApiKeyNotFound):
        revoke_api_key(make_org(), api_key.prefix)
    assert organization_for_api_key(key) == org


def test_last_used_is_written_at_most_hourly(org, django_assert_num_queries):
    api_key, key = issue_api_key(org, "Widget")

    with django_assert_num_queries(2):  # find the key, note its use
        organization_for_api_key(key, now=NOW)
    with django_assert_num_queries(1):
        organization_for_api_key(key, now=NOW + timedelta(minutes=59))
    organization_for_api_key(key, now=NOW + timedelta(minutes=61))

    api_key.refresh_from_db()
    assert api_key.last_used_at == NOW + timedelta(minutes=61)


# Over HTTP


def assert_unauthorized(response, challenge="Bearer"):
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response["WWW-Authenticate"] == challenge
    body = response.json()
    assert body["type"] == "urn:slotwise:problem:unauthorized"
    assert body["status"] == 401
    assert body["title"] == "Unauthorized"
    assert set(body) == {"type", "title", "status", "detail"}


def test_no_key_is_a_401_problem(client):
    response = client.get(STAFF_URL)
    assert_unauthorized(response)
    assert "Authorization: Bearer" in response.json()["detail"]


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Token sw_0123456789ab_x", "Bearer", "sw_0123456789ab_x"],
    ids=["basic", "other-scheme", "bearer-without-key", "key-without-scheme"],
)
def test_other_credentials_are_a_401_problem(client, header):
    assert_unauthorized(client.get(STAFF_URL, headers={"Authorization": header}))


def test_a_bad_key_is_a_401_problem(client, org):
    _, key = issue_api_key(org, "Widget")
    response = client.get(STAFF_URL, headers=bearer(key[:-2]))
    assert_unauthorized(response, 'Bearer error="invalid_token"')
    assert "not valid" in response.json()["detail"]


def test_a_revoked_key_is_a_401_problem(client, org):
    api_key, key = issue_api_key(org, "Widget")
    assert client.get(STAFF_URL, headers=bearer(key)).status_code == 200
    revoke_api_key(org, api_key.prefix)

    assert_unauthorized(client.get(STAFF_URL, headers=bearer(key)), 'Bearer error="invalid_token"')


def test_the_key_is_the_organization_the_request_acts_for(client, org, make_org, make_resource):
    mine = make_resource(org, name="Mine")
    make_resource(make_org(), name="Theirs")
    _, key = issue_api_key(org, "Widget")

    with time_machine.travel(NOW, tick=False):
        response = client.get(STAFF_URL, headers=bearer(key))

    assert response.status_code == 200
    assert [r["id"] for r in response.json()] == [mine.pk]
    assert ApiKey.objects.get().last_used_at == NOW


def test_the_scheme_name_is_case_insensitive(client, org):
    _, key = issue_api_key(org, "Widget")
    assert client.get(STAFF_URL, headers={"Authorization": f"bearer {key}"}).status_code == 200


def test_openapi_describes_the_bearer_scheme(client):
    openapi = client.get("/api/v1/openapi.json").json()

    scheme = openapi["components"]["securitySchemes"]["ApiKeyAuth"]
    assert scheme["type"] == "http"
    assert scheme["scheme"] == "bearer"
    assert scheme["bearerFormat"] == "sw_<prefix>_<secret>"
    operation = openapi["paths"][STAFF_URL]["get"]
    assert operation["security"] == [{"ApiKeyAuth": []}, {"MemberSessionAuth": []}]
    assert list(operation["responses"]["401"]["content"]) == [PROBLEM]
