"""Owners and admins choose how their organization takes payment."""

import json

import pytest
from django.test import Client

from slotwise.accounts.permissions import Role
from slotwise.audit.models import AuditEntry

pytestmark = pytest.mark.django_db

URL = "/api/v1/staff/payments/settings"


@pytest.fixture
def org(make_org):
    return make_org()


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


def patch(client, data):
    return client.patch(URL, json.dumps(data), content_type="application/json")


def test_an_owner_switches_to_stripe_once_it_is_set_up(org, make_member, localstripe):
    owner = signed_in(make_member(org, Role.OWNER, mfa=True))
    before = owner.get(URL).json()
    assert before["provider"] == "venue"
    assert {p["name"]: p["configured"] for p in before["providers"]} == {
        "stripe": True,
        "venue": True,
    }

    answer = patch(owner, {"provider": "stripe"})

    assert answer.status_code == 200, answer.content
    org.refresh_from_db()
    assert org.payment_provider == "stripe"
    entry = AuditEntry.objects.get(action="organization.payment_provider_changed")
    assert entry.data == {"old": "venue", "new": "stripe"}


def test_an_online_provider_this_deployment_lacks_is_refused(org, make_member, settings):
    settings.SLOTWISE_STRIPE = None
    owner = signed_in(make_member(org, Role.OWNER, mfa=True))

    answer = patch(owner, {"provider": "stripe"})

    assert answer.status_code == 400
    assert answer.json()["type"] == "urn:slotwise:problem:provider-not-configured"
    assert patch(owner, {"provider": "paypal"}).json()["type"] == (
        "urn:slotwise:problem:invalid-provider"
    )
    org.refresh_from_db()
    assert org.payment_provider == "venue"


@pytest.mark.parametrize("role", [Role.STAFF, Role.VIEWER])
def test_staff_and_viewers_cannot_change_it(org, make_member, role):
    client = signed_in(make_member(org, role))
    assert client.get(URL).status_code == 403
    assert patch(client, {"provider": "venue"}).status_code == 403
