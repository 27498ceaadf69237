"""The team page: invitations, roles and removals through the member services."""

from __future__ import annotations

import pytest
from django.core import mail

from slotwise.accounts.models import Invitation, Membership

pytestmark = pytest.mark.django_db


def test_the_team_page_lists_members_with_roles(owner_client, admin_client):
    response = owner_client.get("/dashboard/team")
    assert response.status_code == 200
    text = response.content.decode()
    assert "owner@example.com" in text
    assert "admin@example.com" in text
    assert "no-store" in response["Cache-Control"]


def test_inviting_stores_the_invitation_and_emails_it(
    org, owner_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post(
            "/dashboard/team/invite", {"email": "Sam@Example.com", "role": "staff"}
        )
    assert response.status_code == 302
    invitation = Invitation.objects.get(organization=org)
    assert (invitation.email, invitation.role) == ("sam@example.com", "staff")
    assert mail.outbox[-1].to == ["sam@example.com"]
    assert "sam@example.com" in owner_client.get("/dashboard/team").content.decode()


def test_a_bad_address_is_a_400_with_the_error_and_nothing_sent(org, owner_client):
    response = owner_client.post(
        "/dashboard/team/invite", {"email": "not-an-address", "role": "staff"}
    )
    assert response.status_code == 400
    assert 'class="errorlist' in response.content.decode()
    assert not Invitation.objects.filter(organization=org).exists()
    assert not mail.outbox


def test_an_admin_may_not_invite_an_owner(org, admin_client):
    response = admin_client.post(
        "/dashboard/team/invite", {"email": "x@example.com", "role": "owner"}
    )
    assert response.status_code == 403
    assert "Only an owner may" in response.content.decode()
    assert not Invitation.objects.filter(organization=org).exists()


def test_withdrawing_an_invitation(org, owner_client):
    owner_client.post("/dashboard/team/invite", {"email": "sam@example.com", "role": "viewer"})
    invitation = Invitation.objects.get(organization=org)
    response = owner_client.post(f"/dashboard/team/invitations/{invitation.pk}/revoke")
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    owner_client.get("/dashboard/team")  # the flash messages, once
    assert "sam@example.com" not in owner_client.get("/dashboard/team").content.decode()


def test_changing_a_role_and_keeping_an_owner(org, owner, owner_client, make_member):
    viewer = make_member(org, "viewer", email="vic@example.com")
    membership = Membership.objects.get(user=viewer)
    response = owner_client.post(f"/dashboard/team/members/{membership.pk}/role", {"role": "admin"})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert membership.role == "admin"

    mine = Membership.objects.get(user=owner)
    refused = owner_client.post(f"/dashboard/team/members/{mine.pk}/role", {"role": "viewer"})
    assert refused.status_code == 409
    assert "needs another owner" in refused.content.decode()
    mine.refresh_from_db()
    assert mine.role == "owner"
    assert owner_client.post(f"/dashboard/team/members/{mine.pk}/remove").status_code == 409
    assert Membership.objects.filter(pk=mine.pk).exists()


def test_removing_a_member(org, owner_client, make_member):
    membership = Membership.objects.get(user=make_member(org, "staff", email="sid@example.com"))
    assert owner_client.post(f"/dashboard/team/members/{membership.pk}/remove").status_code == 302
    assert not Membership.objects.filter(pk=membership.pk).exists()


def test_unknown_ids_are_404_and_other_roles_403(org, owner_client, staff_client, viewer_client):
    assert owner_client.post("/dashboard/team/members/999999/remove").status_code == 404
    assert owner_client.post("/dashboard/team/invitations/999999/revoke").status_code == 404
    assert viewer_client.get("/dashboard/team").status_code == 403
    refused = staff_client.post(
        "/dashboard/team/invite", {"email": "x@example.com", "role": "staff"}
    )
    assert refused.status_code == 403
    assert not Invitation.objects.filter(organization=org).exists()


# API keys


def _issue(client, **fields):
    data = {"name": "Front desk", "scopes": ["read"], **fields}
    return client.post("/dashboard/api-keys", data)


def test_an_issued_key_is_shown_once_and_authenticates_until_revoked(org, owner_client, resources):
    from slotwise.organizations.models import ApiKey

    response = _issue(owner_client)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    api_key = ApiKey.objects.get(organization=org)
    text = response.content.decode()
    key = text.split("<code>sw_", 1)[1].split("</code>", 1)[0]
    key = "sw_" + key
    assert key.startswith(f"sw_{api_key.prefix}_")
    assert api_key.name == "Front desk"
    assert api_key.scopes == ["read"]
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {key}"}
    from django.test import Client

    assert Client().get("/api/v1/staff/resources", **bearer).status_code == 200
    listing = owner_client.get("/dashboard/api-keys").content.decode()
    assert api_key.prefix in listing
    assert key not in listing

    revoked = owner_client.post(f"/dashboard/api-keys/{api_key.pk}/revoke")
    assert revoked.status_code == 302
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert Client().get("/api/v1/staff/resources", **bearer).status_code == 401
    assert key not in owner_client.get("/dashboard/api-keys").content.decode()


def test_a_key_without_a_name_or_scope_or_with_a_past_expiry_is_refused(org, owner_client):
    from slotwise.organizations.models import ApiKey

    for fields in ({"name": ""}, {"scopes": []}, {"expires_on": "2001-01-01"}):
        response = _issue(owner_client, **fields)
        assert response.status_code == 400, fields
        assert 'class="errorlist' in response.content.decode()
    assert not ApiKey.objects.filter(organization=org).exists()


def test_keys_are_for_owners_and_admins_only(org, staff_client, viewer_client, owner_client):
    from slotwise.organizations.models import ApiKey

    assert viewer_client.get("/dashboard/api-keys").status_code == 403
    assert _issue(staff_client).status_code == 403
    assert not ApiKey.objects.filter(organization=org).exists()
    assert owner_client.post("/dashboard/api-keys/999999/revoke").status_code == 404


# Webhooks

HOOK = "https://hooks.example.com/slotwise"


def test_an_endpoint_is_added_with_its_secret_shown_once(org, owner_client):
    from slotwise.webhooks.models import WebhookEndpoint

    response = owner_client.post(
        "/dashboard/webhooks", {"url": HOOK, "events": ["booking.created"], "active": "on"}
    )
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    endpoint = WebhookEndpoint.objects.get(organization=org)
    assert endpoint.url == HOOK
    assert endpoint.events == ["booking.created"]
    assert endpoint.active
    assert endpoint.secret in response.content.decode()
    assert endpoint.secret not in owner_client.get("/dashboard/webhooks").content.decode()
    detail = owner_client.get(f"/dashboard/webhooks/{endpoint.pk}").content.decode()
    assert endpoint.secret not in detail
    assert endpoint.secret_hint in detail


def test_an_endpoint_is_changed_rotated_and_removed(org, owner_client):
    from slotwise.webhooks.models import WebhookEndpoint
    from slotwise.webhooks.services import create_endpoint

    endpoint = create_endpoint(org, url=HOOK)
    old = endpoint.secret
    saved = owner_client.post(
        f"/dashboard/webhooks/{endpoint.pk}",
        {"url": HOOK + "/v2", "description": "CRM", "events": ["booking.cancelled"]},
    )
    assert saved.status_code == 302
    endpoint.refresh_from_db()
    assert (endpoint.url, endpoint.description) == (HOOK + "/v2", "CRM")
    assert endpoint.events == ["booking.cancelled"]
    assert not endpoint.active

    rotated = owner_client.post(f"/dashboard/webhooks/{endpoint.pk}/rotate")
    endpoint.refresh_from_db()
    assert endpoint.secret != old
    assert endpoint.secret in rotated.content.decode()
    assert "no-store" in rotated["Cache-Control"]
    assert (
        endpoint.secret
        not in owner_client.get(f"/dashboard/webhooks/{endpoint.pk}").content.decode()
    )

    assert owner_client.post(f"/dashboard/webhooks/{endpoint.pk}/delete").status_code == 302
    assert not WebhookEndpoint.objects.filter(pk=endpoint.pk).exists()


def test_an_unfit_url_is_a_400_and_nothing_changes(org, owner_client):
    from slotwise.webhooks.models import WebhookEndpoint
    from slotwise.webhooks.services import create_endpoint

    refused = owner_client.post("/dashboard/webhooks", {"url": "http://example.com/hook"})
    assert refused.status_code == 400
    assert "https://" in refused.content.decode()
    assert 'class="errorlist' in refused.content.decode()
    assert not WebhookEndpoint.objects.exists()
    endpoint = create_endpoint(org, url=HOOK)
    bad = owner_client.post(f"/dashboard/webhooks/{endpoint.pk}", {"url": "ftp://x"})
    assert bad.status_code == 400
    endpoint.refresh_from_db()
    assert endpoint.url == HOOK


def test_webhooks_are_for_owners_and_admins_only(org, owner_client, staff_client, viewer_client):
    from slotwise.webhooks.models import WebhookEndpoint
    from slotwise.webhooks.services import create_endpoint

    endpoint = create_endpoint(org, url=HOOK)
    secret = endpoint.secret
    assert viewer_client.get("/dashboard/webhooks").status_code == 403
    assert staff_client.post(f"/dashboard/webhooks/{endpoint.pk}/rotate").status_code == 403
    assert staff_client.post("/dashboard/webhooks", {"url": HOOK}).status_code == 403
    endpoint.refresh_from_db()
    assert endpoint.secret == secret
    assert WebhookEndpoint.objects.count() == 1
    assert owner_client.get("/dashboard/webhooks/999999").status_code == 404
    assert owner_client.post("/dashboard/webhooks/999999/rotate").status_code == 404


# Payments


def test_the_payments_page_shows_the_provider_failures_and_the_export(org, owner_client):
    response = owner_client.get("/dashboard/payments")
    assert response.status_code == 200
    text = response.content.decode()
    assert "(venue)" in text
    assert "in use" in text
    assert 'action="/api/v1/staff/payments/export"' in text
    start = text.split('name="start" value="', 1)[1].split('"', 1)[0]
    end = text.split('name="end" value="', 1)[1].split('"', 1)[0]
    export = owner_client.get("/api/v1/staff/payments/export", {"start": start, "end": end})
    assert export.status_code == 200
    assert export["Content-Type"].startswith("text/csv")


def test_payments_are_for_owners_and_admins_only(staff_client, viewer_client):
    assert staff_client.get("/dashboard/payments").status_code == 403
    assert viewer_client.get("/dashboard/payments").status_code == 403
