"""Embedding: the booking pages may be framed by the organization's sites, without
chrome under ?embed=1, and /book/embed.js turns a div into a resizing frame."""

import pytest

pytestmark = pytest.mark.django_db

SITES = ["https://www.example-salon.com", "https://*.example-salon.com"]


@pytest.fixture
def service(make_org, make_resource, make_service):
    org = make_org(name="Salon", slug="salon", embed_origins=SITES)
    make_resource(org)
    return make_service(org, slug="cut")


def ancestors(response):
    for directive in response["Content-Security-Policy"].split(";"):
        name, *values = directive.split()
        if name == "frame-ancestors":
            return values
    raise AssertionError("no frame-ancestors")


@pytest.mark.parametrize("path", ["/book/salon/", "/book/salon/cut/"])
def test_the_organizations_sites_may_frame_its_pages(client, service, path):
    response = client.get(path, {"embed": "1", "tz": "Europe/London"})

    assert response.status_code == 200
    assert ancestors(response) == SITES
    assert "X-Frame-Options" not in response
    assert '<header class="site">' not in response.text
    assert '<footer class="site">' not in response.text
    assert "embed=1" in response.text  # links stay in the frame's mode


def test_without_listed_sites_nobody_may_frame_and_chrome_stays(
    client, make_org, make_resource, make_service
):
    org = make_org(slug="closed")
    make_resource(org)
    make_service(org, slug="cut")

    response = client.get("/book/closed/cut/", {"tz": "Europe/London"})

    assert ancestors(response) == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert '<header class="site">' in response.text


def test_embed_js_is_served_briefly_cached_from_one_address(client):
    response = client.get("/book/embed.js")

    body = response.content.decode()
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert "max-age=300" in response["Cache-Control"]
    assert "data-slotwise-booking" in body
    assert "event.origin" in body
    assert 'searchParams.set("embed", "1")' in body
    assert 'frame.width = "100%"' in body
    assert "frame.title" in body


def test_framed_pages_report_their_height(client, service):
    response = client.get("/book/salon/cut/", {"embed": "1"})
    assert "/static/web/public.js" in response.text
    script = client.get("/static/web/public.js")
    text = b"".join(script.streaming_content).decode()
    assert 'slotwise: "height"' in text
