"""What the audit log records: booking changes with the right actor and address, API keys
without their secret, account events, and nothing for work that rolled back."""

import json
import re
from datetime import UTC, datetime

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.test import Client

from slotwise.accounts.permissions import Role
from slotwise.audit import context
from slotwise.audit.models import AppendOnly, AuditEntry
from slotwise.audit.services import log_action
from slotwise.bookings.models import Booking
from slotwise.catalog.models import Resource
from slotwise.organizations.services import issue_api_key, revoke_api_key
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
NEW_PASSWORD = "another quite long passphrase 9"
CUSTOMER_IP = "203.0.113.7"
STAFF_IP = "198.51.100.20"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def org(make_org):
    return make_org()


@pytest.fixture
def service(org, make_resource, make_service):
    make_resource(org, name="Ann")
    return make_service(org)


def book(service, start="2026-06-01T10:00:00+01:00", ip=CUSTOMER_IP):
    body = {
        "service_id": service.pk,
        "start": start,
        "customer": {"name": "Ada", "email": "ada@example.com", "time_zone": "Europe/London"},
    }
    return Client(REMOTE_ADDR=ip, HTTP_USER_AGENT="Booking page/1.0").post(
        "/api/v1/bookings", json.dumps(body), content_type="application/json"
    )


def booking_entries():
    return list(AuditEntry.objects.filter(action__startswith="booking.").order_by("pk"))


def account_entries(action):
    return list(AuditEntry.objects.filter(action=action).order_by("pk"))


# Bookings


def test_a_public_booking_cancelled_by_an_api_key_is_logged_with_both_actors(service, org):
    assert book(service).status_code == 201
    booking = Booking.objects.get()
    api_key, key = issue_api_key(org, "Front desk", scopes=["write"])
    staff = Client(REMOTE_ADDR=STAFF_IP)
    cancelled = staff.post(
        f"/api/v1/staff/bookings/{booking.pk}/cancel",
        {"reason": "Closed for a leak"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {key}"},
    )
    assert cancelled.status_code == 200

    created, cancel = booking_entries()
    assert (created.action, created.actor, created.user) == ("booking.created", "customer", None)
    assert (created.ip, created.user_agent) == (CUSTOMER_IP, "Booking page/1.0")
    assert created.organization == org
    assert (created.target_type, created.target_id) == ("booking", str(booking.pk))
    assert created.data == {"by": "customer", "status": "confirmed"}
    assert (cancel.action, cancel.actor, cancel.ip) == (
        "booking.cancelled",
        f"api-key:{api_key.prefix}",
        STAFF_IP,
    )
    held = list(Resource.objects.filter(organization=org).values_list("pk", flat=True))
    assert cancel.data == {"by": "staff", "reason": "Closed for a leak", "resources": held}


def test_a_member_acting_through_the_staff_api_is_the_actor(service, org, make_member):
    book(service)
    booking = Booking.objects.get()
    owner = make_member(org, Role.OWNER, mfa=True)
    client = Client(REMOTE_ADDR=STAFF_IP)
    client.force_login(owner)
    response = client.post(
        f"/api/v1/staff/bookings/{booking.pk}/cancel", {}, content_type="application/json"
    )
    assert response.status_code == 200
    cancel = booking_entries()[-1]
    assert (cancel.actor, cancel.user, cancel.ip) == (f"user:{owner.pk}", owner, STAFF_IP)


def test_the_context_is_forgotten_after_the_request(service, org):
    _, key = issue_api_key(org, "Reports", scopes=["read"])
    Client().get("/api/v1/staff/resources", headers={"Authorization": f"Bearer {key}"})
    assert context.current() == context.Origin()
    entry = log_action("booking.noted", organization=org)
    assert (entry.actor, entry.ip, entry.user_agent) == ("system", None, "")


def test_a_refused_booking_leaves_no_entry(service):
    assert book(service).status_code == 201
    assert book(service).status_code == 409
    assert [e.action for e in booking_entries()] == ["booking.created"]


def test_a_series_that_rolls_back_after_booking_some_dates_leaves_no_entry(service, make_booking):
    # The third Monday is taken: the first two are booked, then all is undone.
    ann = service.organization.resources.get()
    make_booking(service, [ann], datetime(2026, 6, 15, 13, tzinfo=UTC))
    body = {
        "service_id": service.pk,
        "start": "2026-06-01T14:00:00+01:00",
        "recurrence": {"rrule": "FREQ=WEEKLY;COUNT=4", "mode": "all-or-nothing"},
        "customer": {"name": "Ada", "email": "ada@example.com", "time_zone": "Europe/London"},
    }
    response = Client().post("/api/v1/bookings/series", body, content_type="application/json")
    assert response.status_code == 409, response.json()
    assert booking_entries() == []


def test_an_expired_hold_is_released_by_the_system_whoever_finds_it(service):
    from slotwise.bookings import services

    customer = services.Customer("Ada", "ada@example.com", "Europe/London")
    start = datetime(2026, 6, 1, 9, tzinfo=UTC)
    held, _ = services.book(service, start=start, customer=customer, now=NOW, hold=True)
    later = datetime(2026, 5, 1, 13, tzinfo=UTC)
    with context.acting("customer"):
        services.book(service, start=start, customer=customer, now=later)
    actions = [(e.action, e.actor, e.target_id) for e in booking_entries()]
    assert actions[1] == ("booking.hold_expired", "system", str(held.pk))
    assert actions[2][:2] == ("booking.created", "customer")


# API keys


def test_issuing_and_revoking_a_key_is_logged_without_the_secret(org):
    api_key, key = issue_api_key(org, "Widget", scopes=["bookings:write"])
    revoke_api_key(org, api_key.prefix)
    revoke_api_key(org, api_key.prefix)  # again: nothing happens, nothing is logged
    issued, revoked = AuditEntry.objects.filter(action__startswith="api_key.").order_by("pk")
    assert (issued.action, revoked.action) == ("api_key.issued", "api_key.revoked")
    assert issued.data == {
        "prefix": api_key.prefix,
        "name": "Widget",
        "scopes": ["bookings:write"],
        "expires_at": "2027-05-01T12:00:00Z",
    }
    assert (issued.organization, issued.actor) == (org, "system")
    assert (issued.target_type, issued.target_id) == ("apikey", str(api_key.pk))
    stored = json.dumps([issued.data, revoked.data])
    assert key not in stored
    assert key.rsplit("_", 1)[1] not in stored
    assert api_key.secret_hash not in stored


# Accounts


def sign_in(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def test_signing_in_and_out_is_logged_with_the_address(make_member):
    member = make_member()
    client = Client(REMOTE_ADDR=CUSTOMER_IP, HTTP_USER_AGENT="Firefox")
    assert sign_in(client, member.email).status_code == 302
    client.post("/accounts/logout/")
    signed_in = account_entries("account.signed_in")[-1]
    signed_out = account_entries("account.signed_out")[-1]
    for entry in (signed_in, signed_out):
        assert (entry.actor, entry.user, entry.organization) == (f"user:{member.pk}", member, None)
        assert (entry.ip, entry.user_agent) == (CUSTOMER_IP, "Firefox")
        assert (entry.target_type, entry.target_id) == ("user", str(member.pk))


def test_a_failed_sign_in_keeps_the_email_tried_but_never_the_password(make_member):
    member = make_member()
    response = sign_in(Client(REMOTE_ADDR=CUSTOMER_IP), member.email, "guessed passphrase 1")
    assert response.status_code == 200
    [failed] = account_entries("account.sign_in_failed")
    assert failed.data == {"email": member.email}
    assert (failed.actor, failed.user, failed.ip) == ("anonymous", None, CUSTOMER_IP)
    assert "guessed" not in json.dumps(failed.data)


def test_a_wrong_second_factor_is_logged(make_org, make_member):
    owner = make_member(make_org(), Role.OWNER, mfa=True)
    client = Client()
    sign_in(client, owner.email)
    assert client.post("/accounts/2fa/authenticate/", {"code": "000000"}).status_code == 200
    [failed] = account_entries("account.mfa_failed")
    assert (failed.actor, failed.target_id, failed.data) == ("anonymous", str(owner.pk),
                                                            {"type": "totp"})  # fmt: skip
    assert account_entries("account.signed_in") == []


def test_a_password_change_is_logged(make_member):
    member = make_member()
    client = Client()
    client.force_login(member)
    response = client.post(
        "/accounts/password/change/",
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    [changed] = account_entries("account.password_changed")
    assert (changed.actor, changed.user, changed.data) == (f"user:{member.pk}", member, {})


def test_a_password_reset_is_logged(make_member):
    member = make_member()
    client = Client()
    client.post("/accounts/password/reset/", {"email": member.email})
    link = re.search(r"https?://testserver(/\S+)", mail.outbox[-1].body)[1]
    form = client.get(link, follow=True)
    target = form.redirect_chain[-1][0] if form.redirect_chain else link
    done = client.post(target, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert done.status_code == 302
    [reset] = account_entries("account.password_reset")
    assert (reset.actor, reset.target_id, reset.organization) == ("anonymous", str(member.pk), None)


def test_receivers_log_authenticator_changes(make_member):
    from allauth.mfa import signals
    from allauth.mfa.models import Authenticator

    member = make_member(mfa=True)
    totp = Authenticator.objects.get(user=member)
    for signal in (signals.authenticator_added, signals.authenticator_removed):
        signal.send(sender=Authenticator, request=None, user=member, authenticator=totp)
    actions = [(e.action, e.data) for e in AuditEntry.objects.order_by("pk")]
    assert actions[-2:] == [
        ("account.mfa_activated", {"type": "totp"}),
        ("account.mfa_deactivated", {"type": "totp"}),
    ]


# The log itself


def test_an_entry_rolls_back_with_its_transaction(org):
    with transaction.atomic():
        log_action("member.role_changed", organization=org, data={"new": "admin"})
        transaction.set_rollback(True)
    assert not AuditEntry.objects.exists()


def test_entries_are_never_changed(org):
    entry = log_action("member.role_changed", organization=org)
    entry.action = "member.removed"
    with pytest.raises(AppendOnly):
        entry.save()
    with pytest.raises(AppendOnly):
        AuditEntry.objects.filter(pk=entry.pk).update(action="member.removed")


@pytest.mark.parametrize(
    "data",
    [{"password": "x"}, {"Manage_Token": "x"}, {"key": {"secret_hash": "x"}}],
    ids=["password", "token", "nested-hash"],
)
def test_credentials_are_refused(org, data):
    with pytest.raises(ValueError, match="may not hold"):
        log_action("api_key.issued", organization=org, data=data)


def test_outside_a_request_the_system_acts_unless_told(org, make_member):
    assert log_action("booking.noted").actor == "system"
    member = make_member()
    with context.acting(f"user:{member.pk}", member):
        entry = log_action("booking.noted")
    assert (entry.actor, entry.user, entry.ip) == (f"user:{member.pk}", member, None)
    assert log_action("booking.noted", user=member).actor == f"user:{member.pk}"
    assert log_action("booking.noted").actor == "system"


def test_a_deleted_user_leaves_their_entries(org, make_member):
    member = make_member()
    entry = log_action("member.removed", organization=org, user=member)
    actor = f"user:{member.pk}"
    member.delete()
    entry.refresh_from_db()
    assert (entry.user, entry.actor) == (None, actor)


@pytest.mark.parametrize(
    ("proxies", "forwarded", "ip"),
    [(0, "192.0.2.1", "10.0.0.9"), (1, "192.0.2.1", "192.0.2.1"), (1, "unknown", None)],
    ids=["untrusted", "one-proxy", "garbage"],
)
def test_the_address_is_the_clients_as_the_rate_limits_see_it(
    service, settings, proxies, forwarded, ip
):
    settings.SLOTWISE_TRUSTED_PROXIES = proxies
    client = Client(REMOTE_ADDR="10.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    body = {
        "service_id": service.pk,
        "start": "2026-06-01T10:00:00+01:00",
        "customer": {"name": "Ada", "email": "ada@example.com", "time_zone": "Europe/London"},
    }
    assert client.post("/api/v1/bookings", body, content_type="application/json").status_code == 201
    assert booking_entries()[0].ip == ip
