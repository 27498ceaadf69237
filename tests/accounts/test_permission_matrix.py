"""The permission matrix: every page and every API operation, called by every kind
of caller, gets the answer its rules promise. A URL or operation the matrix
does not cover fails the suite.

Callers: anonymous, a signed-in customer (no membership), each role of this
organization (session), an API key with ``read`` and one with ``write``
scopes, and an owner of another organization using this organization's ids.
"""

import json
import re
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.urls import URLResolver, get_resolver

from slotwise.accounts.permissions import ROLE_PERMISSIONS, Permission, Role, scope_permissions
from slotwise.api.v1 import api

pytestmark = pytest.mark.django_db

MARKER = "Zanzibar"  # in the names of this organization's objects; never shown to others


@dataclass
class Caller:
    name: str
    client: Client
    headers: dict[str, str]
    permissions: frozenset[Permission] | None  # None: not a member of this organization
    staff: bool = False
    foreign: bool = False


@pytest.fixture
def world(make_org, make_member, make_resource, make_service, make_booking):
    from datetime import UTC, datetime

    from slotwise.accounts.models import Invitation, Membership
    from slotwise.bookings.models import Booking
    from slotwise.calendars.models import CalendarConnection
    from slotwise.crypto import encrypt
    from slotwise.notifications.models import Message, MessageKind, MessageStatus
    from slotwise.organizations.services import issue_api_key
    from slotwise.payments.models import EntryKind, EntryStatus, LedgerEntry
    from slotwise.webhooks.services import create_endpoint

    home = make_org(name=f"{MARKER} Studio")
    users = {role: make_member(home, role, mfa=role in (Role.OWNER, Role.ADMIN)) for role in Role}
    ann = make_resource(home, name=f"{MARKER} Ann", user=users[Role.STAFF])
    bob = make_resource(home, name=f"{MARKER} Bob")
    service = make_service(home, name=f"{MARKER} Cut")
    booking = make_booking(service, [bob], datetime(2031, 6, 2, 9, tzinfo=UTC))
    token = "matrix-manage-token-0123456789abcdef"
    import hashlib

    Booking.objects.filter(pk=booking.pk).update(
        manage_token_hash=hashlib.sha256(token.encode()).hexdigest()
    )
    invitation = Invitation.objects.create(
        organization=home,
        email="invited@example.com",
        role=Role.VIEWER,
        token_hash="0" * 64,
        expires_at=datetime(2031, 1, 1, tzinfo=UTC),
    )
    ids = {
        "resource_id": ann.pk,
        "schedule_id": ann.schedule_id,
        "service_id": service.pk,
        "booking_id": booking.pk,
        "member_id": Membership.objects.get(user=users[Role.VIEWER]).pk,
        "invitation_id": invitation.pk,
        "token": token,
        "prefix": issue_api_key(home, f"{MARKER} target key")[0].prefix,
        "message_id": Message.objects.create(
            organization=home,
            booking=booking,
            kind=MessageKind.CONFIRMATION,
            recipient="zanzibar@example.com",
            status=MessageStatus.SENT,
            due_at=booking.created_at,
            next_attempt_at=booking.created_at,
        ).pk,
        "webhook_id": create_endpoint(
            home, url="https://hooks.example.com/zanzibar", description=f"{MARKER} hook"
        ).pk,
        # A refund that failed: in the list needing attention, and in the export.
        "entry_id": LedgerEntry.objects.create(
            organization=home,
            booking=booking,
            kind=EntryKind.REFUND,
            status=EntryStatus.FAILED,
            amount_minor=500,
            currency=home.currency,
            provider="venue",
            reason="cancellation",
            reference=f"{MARKER} refund",
            idempotency_key="matrix-failed-refund",
            created_at=datetime(2031, 6, 1, 9, tzinfo=UTC),
        ).pk,
        "provider": "stripe",
        # A feed that answers nothing at once: reading it fails fast, as recorded.
        "connection_id": CalendarConnection.objects.create(
            organization=home,
            resource=bob,
            kind="ics",
            name=f"{MARKER} calendar",
            url_encrypted=encrypt("http://127.0.0.1:9/basic.ics"),
        ).pk,
    }

    def session(user):
        client = Client()
        client.force_login(user)
        return client

    callers = [
        Caller("anonymous", Client(), {}, None),
        Caller("customer", session(make_member()), {}, None),
        *(
            Caller(role.value, session(user), {}, ROLE_PERMISSIONS[role], staff=role == Role.STAFF)
            for role, user in users.items()
        ),
    ]
    for scope in ("read", "write"):
        _, key = issue_api_key(home, f"{scope} key", scopes=[scope])
        callers.append(
            Caller(
                f"key:{scope}",
                Client(),
                {"Authorization": f"Bearer {key}"},
                scope_permissions([scope]),
            )
        )
    other = make_org()
    callers.append(
        Caller(
            "foreign owner",
            session(make_member(other, Role.OWNER, mfa=True)),
            {},
            ROLE_PERMISSIONS[Role.OWNER],
            foreign=True,
        )
    )
    return ids, callers


def operations() -> list[tuple[str, str, Any]]:
    """Every (method, path, view function) of the API."""
    found = []
    for prefix, router in api._routers:
        for path, path_view in router.path_operations.items():
            for operation in path_view.operations:
                for method in operation.methods:
                    full = "/api/v1" + re.sub(r"/+", "/", f"/{prefix}/{path}").rstrip("/")
                    found.append((method, full, operation))
    return found


OPERATIONS = operations()
# A valid body where one is required, so that the answer is about access, not input.
BODIES = {
    "/api/v1/staff/bookings/{booking_id}/reschedule": {"start": "2031-06-02T11:00:00+01:00"},
    "/api/v1/staff/members/{member_id}": {"role": "staff"},
    "/api/v1/staff/webhooks": {"url": "https://hooks.example.com/new"},
    "/api/v1/staff/bookings/{booking_id}/payments/received": {"amount_minor": 100},
}
# A valid query string where one is required, for the same reason.
QUERIES = {"/api/v1/staff/payments/export": "?start=2031-06-01&end=2031-06-30"}
# The operations anyone may call, without signing in: any other must declare
# the permission it needs (staff) or be under /me/ (a signed-in person).
PUBLIC_OPERATIONS = {
    ("GET", "/api/v1/services/{service_id}/slots"),
    ("POST", "/api/v1/bookings"),
    ("POST", "/api/v1/bookings/series"),
    ("GET", "/api/v1/bookings/series/{token}"),
    ("POST", "/api/v1/bookings/series/{token}/cancel"),
    ("GET", "/api/v1/bookings/manage/{token}"),
    ("POST", "/api/v1/bookings/manage/{token}/confirm"),
    ("GET", "/api/v1/bookings/manage/{token}/cancellation"),
    ("GET", "/api/v1/bookings/manage/{token}/calendar.ics"),
    ("POST", "/api/v1/bookings/manage/{token}/cancel"),
    ("POST", "/api/v1/bookings/manage/{token}/reschedule"),
    ("POST", "/api/v1/payments/webhooks/{provider}"),  # signed by the provider
    ("POST", "/api/v1/waitlist"),
    ("GET", "/api/v1/waitlist/{token}"),
    ("POST", "/api/v1/waitlist/{token}/leave"),
    ("GET", "/api/v1/waitlist/offers/{token}"),
    ("POST", "/api/v1/waitlist/offers/{token}/claim"),
}


def test_every_public_operation_is_listed_and_exists():
    public = {
        (method, path)
        for method, path, operation in OPERATIONS
        if not operation.auth_callbacks
        and getattr(operation.view_func, "slotwise_permissions", None) is None
    }
    assert public == PUBLIC_OPERATIONS


@pytest.mark.parametrize(
    ("method", "path", "operation"),
    OPERATIONS,
    ids=[f"{m} {p}" for m, p, _ in OPERATIONS],
)
def test_every_api_operation_answers_each_caller_as_promised(world, method, path, operation):
    ids, callers = world
    params = set(re.findall(r"\{(\w+)\}", path))
    missing = params - set(ids)
    assert not missing, f"The matrix has no value for {missing} in {path}: add one to `world`."
    url = re.sub(r"\{(\w+)\}", lambda m: str(ids[m[1]]), path) + QUERIES.get(path, "")
    permissions = getattr(operation.view_func, "slotwise_permissions", None)
    # Staff operations declare permissions (any one will do); /me ones need a signed-in person.
    account_operation = bool(operation.auth_callbacks) and permissions is None
    assert account_operation == path.startswith("/api/v1/me/"), path
    for caller in callers:
        with transaction.atomic():
            response = caller.client.generic(
                method,
                url,
                json.dumps(BODIES.get(path, {})),
                content_type="application/json",
                headers=caller.headers,
            )
            transaction.set_rollback(True)
        status = response.status_code
        who = f"{caller.name}: {method} {url} -> {status} {response.content[:200]!r}"
        assert status < 500, who
        body = response.content.decode()
        assert not any(secret in body for secret in secrets()), f"{who}: a hash in the answer"
        if account_operation:
            signed_in = caller.name != "anonymous" and not caller.name.startswith("key:")
            made = 201 if method == "POST" and not params else 200  # a feed address made
            assert status == (404 if signed_in and params else made if signed_in else 401), who
            assert MARKER not in body or caller.name == "customer", who
            continue
        if permissions is None:
            assert (method, path) in PUBLIC_OPERATIONS, f"{method} {path} needs no credentials"
            assert status not in (401, 403), who
            continue
        if caller.permissions is None:
            assert status == 401, who
        elif caller.permissions.isdisjoint(permissions):
            assert status == 403, who
        elif caller.foreign and params:
            assert status == 404, who
        elif caller.staff and params & {"booking_id", "message_id"}:
            assert status == 404, who  # Bob's booking, not theirs
        else:
            assert status not in (401, 403), who
            if params:
                assert status != 404, who
        if caller.foreign:
            assert MARKER not in body, who


def secrets() -> list[str]:
    """Every stored hash (passwords, API keys, manage tokens, invitations) and webhook
    signing secret, which are shown only in the answer that makes them."""
    from slotwise.accounts.models import Invitation, User
    from slotwise.bookings.models import Booking
    from slotwise.organizations.models import ApiKey
    from slotwise.webhooks.models import WebhookEndpoint

    found = [*User.objects.values_list("password", flat=True)]
    found += ApiKey.objects.values_list("secret_hash", flat=True)
    found += Booking.objects.exclude(manage_token_hash="").values_list(
        "manage_token_hash", flat=True
    )
    found += Invitation.objects.values_list("token_hash", flat=True)
    found += WebhookEndpoint.objects.values_list("secret", flat=True)
    return [secret for secret in found if secret]


# Pages

PUBLIC = 200
TO_SIGN_IN = "sign in"
PAGES = {
    "home": PUBLIC,
    "healthz": PUBLIC,
    "set_language": 302,  # back to where the picker was
    "account_login": PUBLIC,
    "account_signup": PUBLIC,
    "account_reset_password": PUBLIC,
    "account_reset_password_done": PUBLIC,
    "account_reset_password_from_key": 404,  # an unknown user or key
    "account_reset_password_from_key_done": PUBLIC,
    "account_confirm_email": 404,  # an invalid key
    "account_email_verification_sent": PUBLIC,
    "account_inactive": PUBLIC,
    "account_logout": 302,
    "account_confirm_login_code": 302,
    "mfa_authenticate": 302,
    "account_email": TO_SIGN_IN,
    "account_change_password": TO_SIGN_IN,
    "account_set_password": TO_SIGN_IN,
    "account_reauthenticate": TO_SIGN_IN,
    "account_request_reauthentication_code": TO_SIGN_IN,
    "account_confirm_reauthentication_code": TO_SIGN_IN,
    "mfa_index": TO_SIGN_IN,
    "mfa_reauthenticate": TO_SIGN_IN,
    "mfa_activate_totp": TO_SIGN_IN,
    "mfa_deactivate_totp": TO_SIGN_IN,
    "mfa_view_recovery_codes": TO_SIGN_IN,
    "mfa_generate_recovery_codes": TO_SIGN_IN,
    "mfa_download_recovery_codes": TO_SIGN_IN,
    "accept_invitation": TO_SIGN_IN,
    "manage_booking": 404,  # an unknown manage token
    "manage_reschedule": 404,
    "waitlist-join": 404,  # no service named
    "resource-feed": 404,  # an unknown feed token
    "customer-feed": 404,
    "waitlist-offer": 404,  # an unknown offer token
    "waitlist-leave": 404,
    "readyz": 503,  # no worker has been seen in the test database
    "metrics": PUBLIC,  # from this machine
    "web:embed-script": PUBLIC,
    "web:organization": 404,  # an unknown organization
    "web:service": 404,
    "web:details": 404,
    "web:confirmed": 404,  # an unknown booking token
    "payments:pay": 404,  # an unknown manage token
    "payments:paid": 404,
    "dashboard:home": TO_SIGN_IN,
    "dashboard:choose": TO_SIGN_IN,
}
SAMPLE_ARGUMENTS = {
    "token": "no-such-token",
    "key": "no-such-key",
    "uidb36": "zz",
    "org_slug": "no-such-organization",
    "service_slug": "no-such-service",
}


def sample_argument(name: str) -> str:
    """A value for a path parameter: a named sample, or an id nothing has."""
    if name in SAMPLE_ARGUMENTS:
        return SAMPLE_ARGUMENTS[name]
    if name.endswith("_id") or name == "pk":
        return "999999"
    raise AssertionError(f"no sample value for the path parameter {name}")


def pages() -> list[tuple[str, str]]:
    """(name, sample URL) of every page outside the API."""

    def walk(patterns, prefix="", namespace=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = pattern.namespace or namespace
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            else:
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield prefix + str(pattern.pattern), name

    found = []
    for route, name in walk(get_resolver().url_patterns):
        if route.startswith(("api/", "admin/")):  # the admin: tests/operations/test_admin.py
            continue
        url = "/" + route.replace("^", "").replace("$", "")
        url = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: sample_argument(m[1]), url)
        url = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: sample_argument(m[1]), url)
        found.append((name, url))
    return found


def expected_answer(name: str) -> int | str:
    """What an anonymous visitor gets: every dashboard page sends them to sign in."""
    if name in PAGES:
        return PAGES[name]
    if name.startswith("dashboard:"):
        return TO_SIGN_IN
    raise AssertionError(f"{name} is not in the page matrix")


def test_every_page_is_in_the_matrix():
    names = [name for name, _ in pages()]
    assert [n for n in names if n not in PAGES and not n.startswith("dashboard:")] == []
    assert sorted(name for name in PAGES if name in names) == sorted(PAGES)


@pytest.mark.parametrize(("name", "url"), pages(), ids=[name for name, _ in pages()])
def test_every_page_answers_anonymous_and_signed_in_callers_as_promised(name, url, make_member):
    expected = expected_answer(name)
    anonymous = Client().get(url)
    if expected == TO_SIGN_IN:
        assert anonymous.status_code == 302
        assert anonymous["Location"].startswith("/accounts/login/?next=")
    else:
        assert anonymous.status_code == expected, name
    signed_in = Client()
    signed_in.force_login(make_member())
    status = signed_in.get(url).status_code
    assert status < 500 or status == expected, name
