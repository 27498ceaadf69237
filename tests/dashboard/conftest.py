"""An organization with hours, two people, a room and two services, and signed-in
clients for each role. Dashboard tests of every section share these."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client

if TYPE_CHECKING:
    from slotwise.organizations.models import Organization


@pytest.fixture
def org(make_org) -> Organization:
    return make_org(name="Harbour Studio", slug="harbour", time_zone="Europe/London")


@pytest.fixture
def resources(org, make_resource) -> dict[str, Any]:
    return {
        "amara": make_resource(org, name="Amara", kind="person"),
        "ben": make_resource(org, name="Ben", kind="person"),
        "room": make_resource(org, name="Pine Room", kind="room"),
    }


@pytest.fixture
def services(org, resources, make_service) -> dict[str, Any]:
    return {
        "consultation": make_service(org, name="Consultation", slug="consultation"),
        "portrait": make_service(org, name="Portrait", slug="portrait", price_minor=9500),
    }


def _signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def owner(org, make_member):
    return make_member(org, "owner", mfa=True, email="owner@example.com")


@pytest.fixture
def owner_client(owner) -> Client:
    return _signed_in(owner)


@pytest.fixture
def admin_client(org, make_member) -> Client:
    return _signed_in(make_member(org, "admin", mfa=True, email="admin@example.com"))


@pytest.fixture
def staff_member(org, resources, make_member):
    """A staff member who is the resource Amara."""
    user = make_member(org, "staff", email="amara@example.com")
    amara = resources["amara"]
    amara.user = user
    amara.save(update_fields=["user"])
    return user


@pytest.fixture
def staff_client(staff_member) -> Client:
    return _signed_in(staff_member)


@pytest.fixture
def viewer_client(org, make_member) -> Client:
    return _signed_in(make_member(org, "viewer", email="viewer@example.com"))
