"""embeddable(): a page is framed only by the sites its own organization lists."""

import re

import pytest
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template import engines
from django.urls import path
from django.utils.csp import CSP

from slotwise.organizations.models import Organization
from slotwise.web.framing import embeddable

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.web.test_framing")]

SALON = ["https://www.example-salon.com", "https://*.example-salon.com"]
GYM = ["https://gym.example.org"]


def organization_from_slug(request: HttpRequest, slug: str) -> Organization:
    return get_object_or_404(Organization, slug=slug)


@embeddable(organization_from_slug)
def booking_page(request: HttpRequest, slug: str) -> HttpResponse:
    page = engines["django"].from_string('<script nonce="{{ csp_nonce }}">book()</script>')
    return HttpResponse(page.render(request=request))


def plain_page(request: HttpRequest) -> HttpResponse:
    return HttpResponse("<p>not for frames</p>")


urlpatterns = [
    path("book/<slug:slug>", booking_page),
    path("plain", plain_page),
]


def policy(response: HttpResponse, header: str = "Content-Security-Policy") -> dict[str, list[str]]:
    return {name: values for name, *values in (d.split() for d in response[header].split(";"))}


def test_the_sites_an_organization_lists_may_frame_its_page(client, make_org):
    make_org(slug="salon", embed_origins=SALON)

    response = client.get("/book/salon")

    assert response.status_code == 200
    assert policy(response)["frame-ancestors"] == SALON
    assert "X-Frame-Options" not in response


def test_only_frame_ancestors_changes_and_nonces_still_work(client, make_org):
    make_org(slug="salon", embed_origins=SALON)

    response = client.get("/book/salon")
    embedded = policy(response)
    plain = policy(client.get("/plain"))

    nonce = re.search(r'nonce="([^"]+)"', response.text).group(1)
    assert embedded["script-src"] == [*plain["script-src"], f"'nonce-{nonce}'"]
    assert embedded["style-src"] == [*plain["style-src"], f"'nonce-{nonce}'"]
    del embedded["script-src"], embedded["style-src"], plain["script-src"], plain["style-src"]
    assert {**embedded, "frame-ancestors": ["'none'"]} == plain


def test_an_organization_that_lists_no_site_is_not_framed(client, make_org):
    make_org(slug="salon")

    response = client.get("/book/salon")

    assert policy(response)["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"


def test_one_organizations_sites_never_reach_another(client, make_org):
    make_org(slug="salon", embed_origins=SALON)
    make_org(slug="gym", embed_origins=GYM)
    make_org(slug="bakery")

    salon = client.get("/book/salon")
    gym = client.get("/book/gym")
    bakery = client.get("/book/bakery")
    plain = client.get("/plain")

    assert policy(salon)["frame-ancestors"] == SALON
    assert policy(gym)["frame-ancestors"] == GYM
    assert policy(bakery)["frame-ancestors"] == ["'none'"]
    assert bakery["X-Frame-Options"] == "DENY"
    assert policy(plain)["frame-ancestors"] == ["'none'"]
    assert plain["X-Frame-Options"] == "DENY"
    assert settings.SECURE_CSP["frame-ancestors"] == [CSP.NONE]


def test_an_unknown_organization_gets_the_site_wide_refusal(client, make_org):
    make_org(slug="salon", embed_origins=SALON)

    response = client.get("/book/nobody")

    assert response.status_code == 404
    assert policy(response)["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"


def test_stored_origins_that_bypassed_validation_are_left_out(client, make_org):
    org = make_org(slug="salon")
    # update() skips the field's validators, as a careless import might.
    Organization.objects.filter(pk=org.pk).update(
        embed_origins=["https://www.example-salon.com", "https://evil.example; script-src *"]
    )

    response = client.get("/book/salon")

    assert policy(response)["frame-ancestors"] == ["https://www.example-salon.com"]
    assert "evil" not in response["Content-Security-Policy"]


@pytest.mark.parametrize(
    "stored", [["https://a.example/path", "'unsafe-inline'"], "https://a.example", {"x": 1}]
)
def test_nothing_valid_stored_means_no_site(client, make_org, stored):
    org = make_org(slug="salon")
    Organization.objects.filter(pk=org.pk).update(embed_origins=stored)

    response = client.get("/book/salon")

    assert policy(response)["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"


def test_a_report_only_policy_gets_the_same_ancestors(client, make_org, settings):
    settings.SECURE_CSP_REPORT_ONLY = {"default-src": [CSP.NONE], "frame-ancestors": [CSP.NONE]}
    make_org(slug="salon", embed_origins=SALON)

    response = client.get("/book/salon")

    assert policy(response, "Content-Security-Policy-Report-Only") == {
        "default-src": ["'none'"],
        "frame-ancestors": SALON,
    }


def test_async_views_are_refused():
    async def page(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    with pytest.raises(TypeError, match="synchronous views only"):
        embeddable(organization_from_slug)(page)
