"""The Django admin: superusers only, signed in through the site's sign-in, rows to look at."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client
from django.urls import reverse

from slotwise.bookings.models import Booking
from slotwise.operations.admin import site

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser(make_member):
    user = make_member(email="operator@example.com")
    user.is_superuser = True
    user.save(update_fields=["is_superuser"])
    return user


@pytest.fixture
def booking(make_org, make_resource, make_service, make_booking) -> Booking:
    org = make_org(slug="harbour")
    resource = make_resource(org)
    service = make_service(org)
    return make_booking(service, [resource], datetime(2026, 12, 14, 10, tzinfo=UTC))


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_anonymous_visitors_are_sent_to_the_sites_own_sign_in():
    answer = Client().get("/admin/", follow=True)
    assert answer.redirect_chain[-1][0] == "/accounts/login/?next=%2Fadmin%2F"
    assert answer.status_code == 200


def test_the_admin_sign_in_form_is_never_offered():
    answer = Client().get(reverse("admin:login") + "?next=/admin/bookings/booking/")
    assert answer.status_code == 302
    assert answer["Location"] == "/accounts/login/?next=%2Fadmin%2Fbookings%2Fbooking%2F"


@pytest.mark.parametrize("role", ["owner", "admin", "staff", "viewer"])
def test_members_of_organizations_never_see_it(role, make_org, make_member, booking):
    member = make_member(booking.organization, role, mfa=role in ("owner", "admin"))
    member.is_staff = True  # Django's own flag opens nothing either
    member.save(update_fields=["is_staff"])
    client = signed_in(member)
    for url in (
        "/admin/",
        "/admin/bookings/booking/",
        f"/admin/bookings/booking/{booking.pk}/change/",
    ):
        answer = client.get(url, follow=True)
        assert answer.redirect_chain[-1][0] == "/", url  # the front page, not the admin
        assert b"manage_token" not in answer.content


def test_a_superuser_sees_every_organizations_rows(
    superuser, booking, make_org, make_resource, make_service, make_booking
):
    other = make_org(slug="other")
    resource = make_resource(other)
    make_booking(make_service(other), [resource], datetime(2026, 12, 15, 9, tzinfo=UTC))
    client = signed_in(superuser)
    index = client.get("/admin/")
    assert index.status_code == 200
    changelist = client.get("/admin/bookings/booking/")
    assert changelist.status_code == 200
    assert changelist.context["cl"].result_count == 2
    detail = client.get(f"/admin/bookings/booking/{booking.pk}/change/")
    assert detail.status_code == 200
    assert b"manage_token_hash" not in detail.content


def test_rows_cannot_be_added_changed_or_deleted_from_it(superuser, booking):
    client = signed_in(superuser)
    assert client.get("/admin/bookings/booking/add/").status_code == 403
    assert client.get(f"/admin/bookings/booking/{booking.pk}/delete/").status_code == 403
    answer = client.post(
        f"/admin/bookings/booking/{booking.pk}/change/", {"status": "cancelled", "seats": 9}
    )
    assert answer.status_code == 403
    booking.refresh_from_db()
    assert (booking.status, booking.seats) == ("confirmed", 1)


def test_a_superuser_may_switch_an_account_off_but_not_their_own(superuser, make_member):
    someone = make_member(email="someone@example.com")
    client = signed_in(superuser)
    answer = client.post(
        "/admin/accounts/user/",
        {"action": "switch_off", "_selected_action": [someone.pk, superuser.pk]},
    )
    assert answer.status_code == 302
    someone.refresh_from_db()
    superuser.refresh_from_db()
    assert (someone.is_active, superuser.is_active) == (False, True)


def test_every_registered_list_opens(superuser, booking):
    client = signed_in(superuser)
    for model in site._registry:
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        assert client.get(url).status_code == 200, url
