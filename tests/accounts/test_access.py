"""Who may call the staff API: API key scopes and expiry, member sessions by role,
two-factor for owners and admins, CSRF, and another organization's ids."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from slotwise.accounts.permissions import Role
from slotwise.organizations.services import issue_api_key, revoke_api_key

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
TEN = datetime(2026, 6, 1, 9, tzinfo=UTC)  # a Monday
RESOURCES = "/api/v1/staff/resources"
BOOKINGS = "/api/v1/staff/bookings"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def org(make_org):
    return make_org()


@pytest.fixture
def two_bookings(org, make_resource, make_service, make_booking, make_member):
    """Ann's and Bob's bookings; Ann is a staff member, Bob only a resource."""
    ann_user = make_member(org, Role.STAFF)
    ann = make_resource(org, name="Ann", user=ann_user)
    bob = make_resource(org, name="Bob")
    service = make_service(org)
    return (
        ann_user,
        make_booking(service, [ann], TEN),
        make_booking(service, [bob], TEN + timedelta(hours=2)),
    )


def bearer(key):
    return {"Authorization": f"Bearer {key}"}


def signed_in(user, *, csrf=False):
    client = Client(enforce_csrf_checks=csrf)
    client.force_login(user)
    return client


# API keys


def test_a_read_key_reads_but_may_not_write(org):
    _, key = issue_api_key(org, "Reports", scopes=["read"])
    assert Client().get(RESOURCES, headers=bearer(key)).status_code == 200
    response = Client().post(RESOURCES, {}, content_type="application/json", headers=bearer(key))
    assert response.status_code == 403
    assert response.json()["type"] == "urn:slotwise:problem:forbidden"
    assert "catalog:write" in response.json()["detail"]


def test_a_named_scope_grants_that_and_nothing_else(org):
    _, key = issue_api_key(org, "Bookings only", scopes=["bookings:read"])
    listed = Client().get(f"{BOOKINGS}?start=2026-06-01&end=2026-06-01", headers=bearer(key))
    assert listed.status_code == 200
    assert Client().get(RESOURCES, headers=bearer(key)).status_code == 403


def test_an_expired_key_is_refused_like_an_unknown_one(org):
    _, key = issue_api_key(org, "Short", expires_at=NOW + timedelta(days=1))
    assert Client().get(RESOURCES, headers=bearer(key)).status_code == 200
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        response = Client().get(RESOURCES, headers=bearer(key))
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_a_revoked_key_is_refused_at_once(org):
    api_key, key = issue_api_key(org, "Lost tablet")
    revoke_api_key(org, api_key.prefix)
    assert Client().get(RESOURCES, headers=bearer(key)).status_code == 401


def test_keys_expire_after_a_year_unless_told(org):
    api_key, _ = issue_api_key(org, "Default")
    assert api_key.expires_at == NOW + timedelta(days=365)
    assert issue_api_key(org, "Forever", expires_at=None)[0].expires_at is None


def test_a_key_cannot_be_issued_already_expired_or_with_unknown_scopes(org):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        issue_api_key(org, "Past", expires_at=NOW - timedelta(seconds=1))
    with pytest.raises(ValidationError, match="Unknown scope 'admin'"):
        issue_api_key(org, "Greedy", scopes=["admin"])
    with pytest.raises(ValidationError, match="scopes"):
        issue_api_key(org, "Empty", scopes=[])


# Member sessions


@pytest.mark.parametrize(
    ("role", "reads", "writes"),
    [
        (Role.OWNER, 200, 201),
        (Role.ADMIN, 200, 201),
        (Role.VIEWER, 200, 403),
        (Role.STAFF, 200, 403),
    ],
)
def test_a_members_role_decides_what_they_may_do(org, make_member, role, reads, writes):
    client = signed_in(make_member(org, role, mfa=True))
    assert client.get(RESOURCES).status_code == reads
    body = {"name": "Room 2", "kind": "room", "time_zone": "Europe/London"}
    assert client.post(RESOURCES, body, content_type="application/json").status_code == writes


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_must_set_up_two_factor_first(org, make_member, role):
    client = signed_in(make_member(org, role))
    response = client.get(RESOURCES)
    assert response.status_code == 403
    assert response.json()["type"] == "urn:slotwise:problem:mfa-required"
    page = client.get("/")
    assert page.status_code == 302
    assert page["Location"] == "/accounts/2fa/totp/activate/"


@pytest.mark.parametrize("role", [Role.STAFF, Role.VIEWER])
def test_staff_and_viewers_need_no_second_factor(org, make_member, role):
    client = signed_in(make_member(org, role))
    assert client.get(RESOURCES).status_code == 200
    assert client.get("/").status_code == 200


def test_a_staff_member_sees_and_changes_only_their_own_bookings(two_bookings):
    ann_user, anns, bobs = two_bookings
    client = signed_in(ann_user)
    listed = client.get(f"{BOOKINGS}?start=2026-06-01&end=2026-06-01").json()["bookings"]
    assert [b["id"] for b in listed] == [anns.pk]
    assert client.get(f"{BOOKINGS}/{anns.pk}").status_code == 200
    # Bob's booking answers exactly as a booking that does not exist.
    missing = client.get(f"{BOOKINGS}/999999")
    hidden = client.get(f"{BOOKINGS}/{bobs.pk}")
    assert (hidden.status_code, hidden.json()["type"]) == (404, missing.json()["type"])
    assert hidden.json()["detail"] == missing.json()["detail"].replace("999999", str(bobs.pk))
    cancel = client.post(f"{BOOKINGS}/{bobs.pk}/cancel", {}, content_type="application/json")
    assert cancel.status_code == 404
    bobs.refresh_from_db()
    assert bobs.status == "confirmed"
    own = client.post(f"{BOOKINGS}/{anns.pk}/cancel", {}, content_type="application/json")
    assert own.status_code == 200


def test_a_member_of_another_organization_gets_404_for_this_ones_ids(
    org, make_org, make_member, two_bookings
):
    _, anns, _ = two_bookings
    other = make_org()
    client = signed_in(make_member(other, Role.OWNER, mfa=True))
    assert client.get(f"{BOOKINGS}/{anns.pk}").status_code == 404
    cancel = client.post(f"{BOOKINGS}/{anns.pk}/cancel", {}, content_type="application/json")
    assert cancel.status_code == 404
    # Naming this organization does not help: they are not a member of it.
    response = client.get(f"{BOOKINGS}/{anns.pk}", headers={"Slotwise-Organization": org.slug})
    assert response.status_code == 401


def test_a_member_of_several_organizations_names_one(org, make_org, make_member):
    from slotwise.accounts.models import Membership

    user = make_member(org, Role.VIEWER)
    other = make_org()
    Membership.objects.create(organization=other, user=user, role=Role.VIEWER)
    client = signed_in(user)
    assert client.get(RESOURCES).status_code == 401
    named = client.get(RESOURCES, headers={"Slotwise-Organization": other.slug})
    assert named.status_code == 200


def test_a_session_must_send_the_csrf_token_to_change_anything(org, make_member):
    client = signed_in(make_member(org, Role.OWNER, mfa=True), csrf=True)
    assert client.get(RESOURCES).status_code == 200
    body = {"name": "Room 2", "kind": "room", "time_zone": "Europe/London"}
    refused = client.post(RESOURCES, body, content_type="application/json")
    assert refused.status_code == 403
    assert refused["Content-Type"] == "application/problem+json"
    token = client.get("/accounts/password/change/").cookies["csrftoken"].value
    accepted = client.post(
        RESOURCES, body, content_type="application/json", headers={"X-CSRFToken": token}
    )
    assert accepted.status_code == 201


def test_no_credentials_at_all_is_401_even_for_a_write():
    response = Client(enforce_csrf_checks=True).post(RESOURCES, {}, content_type="application/json")
    assert response.status_code == 401


def test_every_staff_operation_declares_its_permission():
    from django.core.exceptions import ImproperlyConfigured

    from slotwise.organizations.auth import StaffRouter

    router = StaffRouter()

    def undeclared(request):
        return {}

    with pytest.raises(ImproperlyConfigured, match="does not say"):
        router.get("/undeclared")(undeclared)


def test_a_staff_member_changes_their_own_hours_and_no_one_elses(
    org, make_member, make_resource, make_schedule
):
    from slotwise.catalog.models import Schedule

    user = make_member(org, Role.STAFF)
    ann = make_resource(org, name="Ann", user=user)
    bob = make_resource(org, name="Bob")
    shared = make_schedule(org)
    make_resource(org, name="Cy", user=user, schedule=shared)
    make_resource(org, name="Di", schedule=shared)
    client = signed_in(user)
    day_off = {"closures": [{"first": "2026-06-05", "last": "2026-06-05", "reason": "Day off"}]}

    def patch(schedule_id):
        return client.patch(
            f"/api/v1/staff/schedules/{schedule_id}", day_off, content_type="application/json"
        )

    assert patch(ann.schedule_id).status_code == 200
    assert Schedule.objects.get(pk=ann.schedule_id).closures.count() == 1
    # Bob's hours, and hours Ann shares with Di, answer as if missing.
    for other in (bob.schedule_id, shared.pk):
        response = patch(other)
        assert response.status_code == 404
        assert Schedule.objects.get(pk=other).closures.count() == 0
    # The rest of the catalog stays read-only to staff.
    assert (
        client.post(
            "/api/v1/staff/schedules", {"name": "Mine"}, content_type="application/json"
        ).status_code
        == 403
    )
