"""/api/v1/staff/webhooks: owners and admins manage endpoints; a secret is shown once."""

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from slotwise.accounts.permissions import Role
from slotwise.audit.models import AuditEntry
from slotwise.bookings import services
from slotwise.organizations.services import issue_api_key
from slotwise.webhooks import services as webhooks
from slotwise.webhooks.models import WebhookEndpoint

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
HOOKS = "/api/v1/staff/webhooks"
URL = "https://hooks.example.com/slotwise"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def org(make_org):
    return make_org()


@pytest.fixture
def owner(org, make_member):
    return signed_in(make_member(org, Role.OWNER, mfa=True))


def signed_in(user):
    client = Client()
    client.force_login(user)
    return client


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_owners_and_admins_add_an_endpoint_whose_secret_is_shown_once(org, make_member, role):
    client = signed_in(make_member(org, role, mfa=True))
    body = {"url": URL, "events": ["booking.created"], "description": "CRM"}
    created = client.post(HOOKS, body, content_type="application/json")
    assert created.status_code == 201
    answer = created.json()
    stored = WebhookEndpoint.objects.get()
    assert answer["secret"] == stored.secret
    assert len(stored.secret) == 43  # 32 random bytes, URL-safe base64
    assert answer == {
        "id": stored.pk,
        "url": URL,
        "description": "CRM",
        "events": ["booking.created"],
        "active": True,
        "secret_hint": stored.secret[:6],
        "secret": stored.secret,
        "created_at": "2026-05-01T12:00:00Z",
    }
    for later in (client.get(HOOKS), client.get(f"{HOOKS}/{stored.pk}")):
        assert later.status_code == 200
        assert stored.secret not in later.content.decode()
        assert "secret" not in (later.json()[0] if isinstance(later.json(), list) else later.json())
    [entry] = AuditEntry.objects.filter(action="webhook.created")
    assert stored.secret not in str(entry.data)


def test_rotating_shows_the_new_secret_once_and_voids_the_old(org, owner):
    endpoint = webhooks.create_endpoint(org, url=URL)
    rotated = owner.post(f"{HOOKS}/{endpoint.pk}/rotate-secret")
    assert rotated.status_code == 200
    new = rotated.json()["secret"]
    assert new != endpoint.secret
    assert WebhookEndpoint.objects.get().secret == new
    assert rotated.json()["secret_hint"] == new[:6]
    listed = owner.get(HOOKS).content.decode()
    assert new not in listed
    assert endpoint.secret not in listed
    assert AuditEntry.objects.filter(action="webhook.secret_rotated").count() == 1


def test_an_endpoint_is_changed_and_removed(org, owner):
    endpoint = webhooks.create_endpoint(org, url=URL, events=["booking.created"])
    changed = owner.patch(
        f"{HOOKS}/{endpoint.pk}",
        {"url": "https://other.example.com/in", "events": [], "active": False},
        content_type="application/json",
    )
    assert changed.status_code == 200
    assert changed.json()["url"] == "https://other.example.com/in"
    assert (changed.json()["events"], changed.json()["active"]) == ([], False)
    assert changed.json()["description"] == ""
    unchanged = owner.patch(f"{HOOKS}/{endpoint.pk}", {}, content_type="application/json")
    assert unchanged.json() == changed.json()
    assert owner.delete(f"{HOOKS}/{endpoint.pk}").status_code == 204
    assert owner.get(f"{HOOKS}/{endpoint.pk}").status_code == 404
    assert owner.get(HOOKS).json() == []
    actions = AuditEntry.objects.filter(action__startswith="webhook.").values_list(
        "action", flat=True
    )
    assert sorted(actions) == ["webhook.created", "webhook.deleted", "webhook.updated"]


@pytest.mark.parametrize(
    ("body", "because"),
    [
        ({"url": "https://user:pw@hooks.example.com/"}, "user name or password"),
        ({"url": "ftp://hooks.example.com/"}, "https://"),
        ({"url": "http://hooks.example.com/"}, "only for localhost"),
        ({"url": URL, "events": ["booking.deleted"]}, "Unknown event type"),
    ],
)
def test_unfit_endpoints_are_refused(org, owner, body, because):
    refused = owner.post(HOOKS, body, content_type="application/json")
    assert refused.status_code == 400
    assert refused.json()["type"] == "urn:slotwise:problem:invalid-webhook"
    assert because in refused.json()["detail"]
    endpoint = webhooks.create_endpoint(org, url=URL)
    changed = owner.patch(f"{HOOKS}/{endpoint.pk}", body, content_type="application/json")
    assert changed.status_code == 400
    assert WebhookEndpoint.objects.get(pk=endpoint.pk).url == URL


def test_staff_viewers_and_api_keys_are_refused(org, make_member):
    endpoint = webhooks.create_endpoint(org, url=URL)
    clients = [signed_in(make_member(org, role)) for role in (Role.STAFF, Role.VIEWER)]
    headers = [{}, {}]
    for scope in ("read", "write"):
        _, key = issue_api_key(org, f"{scope} key", scopes=[scope])
        clients.append(Client())
        headers.append({"Authorization": f"Bearer {key}"})
    for client, extra in zip(clients, headers, strict=True):
        for method, path in (
            ("get", HOOKS),
            ("post", HOOKS),
            ("get", f"{HOOKS}/{endpoint.pk}"),
            ("post", f"{HOOKS}/{endpoint.pk}/rotate-secret"),
            ("get", f"{HOOKS}/{endpoint.pk}/deliveries"),
            ("delete", f"{HOOKS}/{endpoint.pk}"),
        ):
            answer = getattr(client, method)(
                path, {"url": URL}, content_type="application/json", headers=extra
            )
            assert answer.status_code == 403, (method, path)
            assert endpoint.secret not in answer.content.decode()
    assert WebhookEndpoint.objects.get().secret == endpoint.secret


def test_another_organizations_endpoints_are_not_found(org, owner, make_org):
    foreign = webhooks.create_endpoint(make_org(), url=URL)
    for method, path in (
        ("get", f"{HOOKS}/{foreign.pk}"),
        ("patch", f"{HOOKS}/{foreign.pk}"),
        ("delete", f"{HOOKS}/{foreign.pk}"),
        ("post", f"{HOOKS}/{foreign.pk}/rotate-secret"),
        ("get", f"{HOOKS}/{foreign.pk}/deliveries"),
    ):
        answer = getattr(owner, method)(path, {}, content_type="application/json")
        assert answer.status_code == 404, (method, path)
        assert answer.json()["type"] == "urn:slotwise:problem:not-found"
        assert foreign.secret not in answer.content.decode()
    assert owner.get(HOOKS).json() == []
    assert WebhookEndpoint.objects.get().secret == foreign.secret


def test_the_delivery_log_is_newest_first_a_page_at_a_time(org, owner, make_resource, make_service):
    make_resource(org)
    service = make_service(org, reminder_minutes=[])
    endpoint = webhooks.create_endpoint(org, url=URL)
    other = webhooks.create_endpoint(org, url="https://other.example.com/in")
    customer = services.Customer(name="Ada", email="ada@example.com", time_zone="Europe/London")
    start = datetime(2026, 6, 1, 9, tzinfo=UTC)
    bookings = [
        services.book(service, start=start + timedelta(hours=h), customer=customer, now=NOW)[0]
        for h in (0, 1, 4)
    ]
    first = owner.get(f"{HOOKS}/{endpoint.pk}/deliveries?limit=2").json()
    assert [d["booking_id"] for d in first["deliveries"]] == [b.pk for b in bookings[:0:-1]]
    assert {d["status"] for d in first["deliveries"]} == {"pending"}
    assert {d["type"] for d in first["deliveries"]} == {"booking.created"}
    rest = owner.get(f"{HOOKS}/{endpoint.pk}/deliveries?limit=2&cursor={first['next']}").json()
    assert [d["booking_id"] for d in rest["deliveries"]] == [bookings[0].pk]
    assert rest["next"] is None
    assert len(owner.get(f"{HOOKS}/{other.pk}/deliveries").json()["deliveries"]) == 3
    refused = owner.get(f"{HOOKS}/{endpoint.pk}/deliveries?cursor=abc")
    assert refused.status_code == 422
