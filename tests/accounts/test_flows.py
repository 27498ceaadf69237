"""Signing up, verifying, signing in with two factors, resetting a password,
throttling, and session timeouts, end to end through the pages."""

import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value
from django.contrib.auth import SESSION_KEY
from django.core import mail
from django.test import Client

from slotwise.accounts.models import User
from slotwise.accounts.permissions import Role
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
NEW_PASSWORD = "another quite long passphrase 9"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


def link_in(message):
    return re.search(r"https?://testserver(/\S+)", message.body)[1]


def sign_in(client, email, password=PASSWORD):
    return client.post("/accounts/login/", {"login": email, "password": password})


def totp_code(secret, at=NOW):
    return format_hotp_value(hotp_value(secret, int(at.timestamp()) // 30))


def test_sign_up_verify_then_sign_in():
    client = Client()
    response = client.post(
        "/accounts/signup/",
        {"email": "Ada@Example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    assert response.status_code == 302
    user = User.objects.get()
    assert user.email == "ada@example.com"
    assert user.password.startswith("argon2$")
    # Not signed in until the address is verified.
    assert SESSION_KEY not in client.session
    [message] = mail.outbox
    confirm = link_in(message)
    assert client.post(confirm).status_code == 302
    assert sign_in(client, "ada@example.com").status_code == 302
    assert client.session[SESSION_KEY] == str(user.pk)


@pytest.mark.parametrize(
    "password",
    ["password123", "1234567890123", "short"],
    ids=["common", "numeric", "too-short"],
)
def test_weak_passwords_are_refused(password):
    response = Client().post(
        "/accounts/signup/",
        {"email": "ada@example.com", "password1": password, "password2": password},
    )
    assert response.status_code == 200
    assert not User.objects.exists()


def test_signing_up_with_a_taken_email_looks_the_same_and_tells_the_owner(make_member):
    member = make_member()
    fresh = Client().post(
        "/accounts/signup/",
        {"email": "new@example.com", "password1": PASSWORD, "password2": PASSWORD},
    )
    taken = Client().post(
        "/accounts/signup/",
        {"email": member.email, "password1": PASSWORD, "password2": PASSWORD},
    )
    assert (taken.status_code, taken["Location"]) == (fresh.status_code, fresh["Location"])
    assert User.objects.filter(email=member.email).count() == 1
    assert [m.to for m in mail.outbox] == [["new@example.com"], [member.email]]


def test_a_password_reset_answers_alike_for_unknown_addresses(make_member):
    member = make_member()
    known = Client().post("/accounts/password/reset/", {"email": member.email})
    unknown = Client().post("/accounts/password/reset/", {"email": "nobody@example.com"})
    assert (known.status_code, known["Location"]) == (unknown.status_code, unknown["Location"])
    reset = next(m for m in mail.outbox if m.to == [member.email])
    client = Client()
    form = client.get(link_in(reset), follow=True)
    assert form.status_code == 200
    done = client.post(
        form.redirect_chain[-1][0] if form.redirect_chain else link_in(reset),
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert done.status_code == 302
    assert sign_in(Client(), member.email).status_code == 200  # the old one no longer works
    assert sign_in(Client(), member.email, NEW_PASSWORD).status_code == 302


def test_an_owner_signs_in_with_a_code_from_their_authenticator(org_owner):
    client = Client()
    response = sign_in(client, org_owner.email)
    assert response["Location"] == "/accounts/2fa/authenticate/"
    assert SESSION_KEY not in client.session
    wrong = client.post("/accounts/2fa/authenticate/", {"code": "000000"})
    assert wrong.status_code == 200
    assert SESSION_KEY not in client.session
    right = client.post("/accounts/2fa/authenticate/", {"code": totp_code(org_owner.totp_secret)})
    assert right.status_code == 302
    assert client.session[SESSION_KEY] == str(org_owner.pk)


def test_a_recovery_code_stands_in_for_the_authenticator_once(org_owner):
    from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes

    code = RecoveryCodes.activate(org_owner).get_unused_codes()[0]
    first = Client()
    sign_in(first, org_owner.email)
    assert first.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 302
    second = Client()
    sign_in(second, org_owner.email)
    assert second.post("/accounts/2fa/authenticate/", {"code": code}).status_code == 200
    assert SESSION_KEY not in second.session


@pytest.fixture
def org_owner(make_org, make_member):
    return make_member(make_org(), Role.OWNER, mfa=True)


def test_signing_in_starts_a_new_session(make_member):
    member = make_member()
    client = Client()
    client.get("/accounts/login/")
    client.session.save()
    before = client.session.session_key
    sign_in(client, member.email)
    assert client.session.session_key != before


def test_failed_sign_ins_are_throttled_per_account(make_member, frozen_clock):
    member = make_member()
    for _ in range(5):
        wrong = sign_in(Client(), member.email, "wrong password!")
        assert "Too many failed" not in wrong.content.decode()
    # Even the right password is refused until the window passes, from anywhere.
    client = Client()
    throttled = sign_in(client, member.email)
    assert throttled.status_code == 200
    assert "Too many failed login attempts" in throttled.content.decode()
    assert SESSION_KEY not in client.session
    frozen_clock.shift(timedelta(minutes=5, seconds=1))
    assert sign_in(client, member.email).status_code == 302


def test_password_resets_are_limited_with_retry_after(make_member):
    member = make_member()
    client = Client()
    for _ in range(5):
        assert client.post("/accounts/password/reset/", {"email": member.email}).status_code == 302
    refused = client.post("/accounts/password/reset/", {"email": member.email})
    assert refused.status_code == 429
    assert refused["Retry-After"] == "300"
    assert "Too many attempts" in refused.content.decode()


def test_the_longest_window_of_the_limits_is_the_wait():
    from slotwise.accounts.throttling import longest_window

    assert longest_window({"a": "10/m/ip,5/5m/key", "b": "1/3m/key"}) == 300
    assert longest_window({"a": "20/h"}) == 3600
    assert longest_window({}) == 60


@pytest.mark.parametrize(
    ("pause", "still_signed_in"),
    [(timedelta(minutes=119), True), (timedelta(minutes=121), False)],
    ids=["active", "idle-too-long"],
)
def test_an_idle_session_ends(make_member, frozen_clock, pause, still_signed_in):
    client = Client()
    client.force_login(make_member())
    frozen_clock.shift(pause)
    response = client.get("/")
    assert response.wsgi_request.user.is_authenticated is still_signed_in


def test_a_session_ends_twelve_hours_after_sign_in_however_active(make_member, frozen_clock):
    client = Client()
    client.force_login(make_member())
    for _ in range(11):
        frozen_clock.shift(timedelta(hours=1))
        assert client.get("/").wsgi_request.user.is_authenticated
    frozen_clock.shift(timedelta(hours=1, seconds=1))
    assert not client.get("/").wsgi_request.user.is_authenticated
