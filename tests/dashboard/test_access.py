"""Who gets into the dashboard: members by role, nobody else."""

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_an_anonymous_visitor_is_sent_to_sign_in():
    answer = Client().get("/dashboard/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/accounts/login/?next=/dashboard/")


def test_someone_of_no_organization_is_told_so(make_member):
    client = Client()
    client.force_login(make_member())
    answer = client.get("/dashboard/", follow=True)
    assert answer.status_code == 200
    assert b"not a member of any organization" in answer.content


def test_a_member_of_several_chooses_and_the_choice_is_kept(org, owner, make_org):
    from slotwise.accounts.models import Membership

    other = make_org(name="Second Studio", slug="second")
    Membership.objects.create(organization=other, user=owner, role="viewer")
    client = Client()
    client.force_login(owner)
    answer = client.get("/dashboard/")
    assert answer.status_code == 302
    assert answer["Location"].startswith("/dashboard/choose")
    page = client.get(answer["Location"])
    assert b"Second Studio" in page.content
    assert b"Harbour Studio" in page.content
    chosen = client.post("/dashboard/choose", {"organization": "second", "next": "/dashboard/"})
    assert chosen.status_code == 302
    assert chosen["Location"] == "/dashboard/"
    assert client.get("/dashboard/").status_code in (200, 302)
    assert client.session["dashboard_organization"] == "second"


def test_choosing_an_organization_of_someone_else_changes_nothing(org, owner, make_org):
    make_org(name="Not Yours", slug="not-yours")
    client = Client()
    client.force_login(owner)
    answer = client.post("/dashboard/choose", {"organization": "not-yours"})
    assert answer.status_code == 400
    assert "dashboard_organization" not in client.session


def test_choose_never_redirects_off_site(org, owner):
    client = Client()
    client.force_login(owner)
    answer = client.post(
        "/dashboard/choose", {"organization": "harbour", "next": "https://evil.example/"}
    )
    assert answer["Location"] == "/dashboard/"


def test_an_owner_without_two_factor_is_sent_to_set_it_up(org, make_member):
    client = Client()
    client.force_login(make_member(org, "owner"))
    answer = client.get("/dashboard/")
    assert answer.status_code == 302
    assert "/accounts/2fa/" in answer["Location"]
