"""Members and invitations: who may invite, change and remove whom, and accepting."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.test import Client

from slotwise.accounts.models import Membership
from slotwise.accounts.permissions import Role

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
MEMBERS = "/api/v1/staff/members"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def org(make_org):
    return make_org()


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def post(client, path, body):
    return client.post(path, body, content_type="application/json")


def patch(client, path, body):
    return client.patch(path, body, content_type="application/json")


def membership(user):
    return Membership.objects.get(user=user)


def test_an_invitation_by_email_makes_a_member_once_accepted(
    org, make_member, django_capture_on_commit_callbacks
):
    owner = make_member(org, Role.OWNER, mfa=True)
    body = {"email": "Sam@Example.com", "role": "staff"}
    with django_capture_on_commit_callbacks(execute=True):
        response = post(signed_in(owner), f"{MEMBERS}/invitations", body)
    assert response.status_code == 201
    assert response.json()["email"] == "sam@example.com"
    [message] = mail.outbox
    assert message.to == ["sam@example.com"]
    link = re.search(r"http://testserver(/invitations/\S+)", message.body)[1]
    # Someone else, signed in, cannot use it.
    stranger = signed_in(make_member(email="eve@example.com"))
    assert stranger.post(link).status_code == 400
    sam = make_member(email="sam@example.com")
    client = signed_in(sam)
    assert "join as staff" in client.get(link).content.decode()
    assert client.post(link).status_code == 302
    assert membership(sam).role == Role.STAFF
    # An invitation works once.
    assert client.post(link).status_code == 400


def test_an_invitation_expires_after_a_week(
    org, make_member, frozen_clock, django_capture_on_commit_callbacks
):
    owner = make_member(org, Role.OWNER, mfa=True)
    body = {"email": "sam@example.com", "role": "viewer"}
    with django_capture_on_commit_callbacks(execute=True):
        post(signed_in(owner), f"{MEMBERS}/invitations", body)
    link = re.search(r"http://testserver(/invitations/\S+)", mail.outbox[0].body)[1]
    frozen_clock.shift(timedelta(days=7, seconds=1))
    sam = make_member(email="sam@example.com")
    assert signed_in(sam).post(link).status_code == 400
    assert not Membership.objects.filter(user=sam).exists()


def test_opening_an_invitation_signed_out_asks_to_sign_in_first():
    response = Client().get("/invitations/some-token")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


def test_admins_manage_everyone_but_owners(org, make_member):
    owner = make_member(org, Role.OWNER, mfa=True)
    admin = signed_in(make_member(org, Role.ADMIN, mfa=True))
    viewer = make_member(org, Role.VIEWER)
    assert patch(admin, f"{MEMBERS}/{membership(viewer).pk}", {"role": "staff"}).status_code == 200
    assert membership(viewer).role == Role.STAFF
    for attempt in (
        patch(admin, f"{MEMBERS}/{membership(viewer).pk}", {"role": "owner"}),
        patch(admin, f"{MEMBERS}/{membership(owner).pk}", {"role": "viewer"}),
        admin.delete(f"{MEMBERS}/{membership(owner).pk}"),
        post(admin, f"{MEMBERS}/invitations", {"email": "x@example.com", "role": "owner"}),
    ):
        assert attempt.status_code == 403
    assert membership(owner).role == Role.OWNER


def test_the_last_owner_cannot_leave_or_be_demoted(org, make_member):
    owner = make_member(org, Role.OWNER, mfa=True)
    client = signed_in(owner)
    demote = patch(client, f"{MEMBERS}/{membership(owner).pk}", {"role": "admin"})
    assert (demote.status_code, demote.json()["type"]) == (409, "urn:slotwise:problem:last-owner")
    assert client.delete(f"{MEMBERS}/{membership(owner).pk}").status_code == 409
    second = make_member(org, Role.ADMIN, mfa=True)
    assert patch(client, f"{MEMBERS}/{membership(second).pk}", {"role": "owner"}).status_code == 200
    assert client.delete(f"{MEMBERS}/{membership(owner).pk}").status_code == 204


@pytest.mark.parametrize("role", [Role.STAFF, Role.VIEWER])
def test_staff_and_viewers_cannot_see_or_manage_members(org, make_member, role):
    client = signed_in(make_member(org, role))
    assert client.get(MEMBERS).status_code == 403
    body = {"email": "x@example.com", "role": "viewer"}
    assert post(client, f"{MEMBERS}/invitations", body).status_code == 403


def test_another_organizations_members_are_not_found(org, make_org, make_member):
    other_member = make_member(make_org(), Role.VIEWER)
    client = signed_in(make_member(org, Role.OWNER, mfa=True))
    target = f"{MEMBERS}/{membership(other_member).pk}"
    assert patch(client, target, {"role": "staff"}).status_code == 404
    assert client.delete(target).status_code == 404
    assert [m["email"] for m in client.get(MEMBERS).json()] != [other_member.email]
