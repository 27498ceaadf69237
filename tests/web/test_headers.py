"""Security headers on every kind of response, and what production adds to them.

Production is what ``SLOTWISE_ENV=production`` makes of ``slotwise.settings``,
read in a fresh process and then applied to this one, so the tests exercise
the real production values.
"""

import json
import os
import re
import secrets
import subprocess
import sys
from datetime import UTC, datetime
from urllib.parse import urlencode

import pytest
import time_machine
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.urls import path

pytestmark = pytest.mark.django_db

SLOTS = "/api/v1/services/{service}/slots"
QUERY = "?" + urlencode({"start": "2026-06-01", "end": "2026-06-01", "tz": "Asia/Tokyo"})
NOT_A_KEYWORD = ("'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*", "data:", "https:")


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(datetime(2026, 5, 1, 12, tzinfo=UTC), tick=False):
        yield


@pytest.fixture
def service(make_org, make_resource, make_service):
    org = make_org()
    make_resource(org)
    return make_service(org, name="Portrait")


def policy(response: HttpResponse) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {name: values for name, *values in (d.split() for d in header.split(";"))}


@pytest.mark.parametrize(
    ("method", "url", "status"),
    [
        pytest.param("get", "/", 200, id="home"),
        pytest.param("get", "/healthz", 200, id="healthz"),
        pytest.param("get", "/api/v1/docs", 200, id="api-docs"),
        pytest.param("get", "/api/v1/openapi.json", 200, id="openapi"),
        pytest.param("get", SLOTS + QUERY, 200, id="api-slots"),
        pytest.param("get", "/api/v1/no-such-endpoint", 404, id="api-404"),
        pytest.param("delete", SLOTS + QUERY, 405, id="api-405"),
        pytest.param("get", "/no-such-page", 404, id="page-404"),
    ],
)
def test_every_response_carries_the_security_headers(client, service, method, url, status):
    response = getattr(client, method)(url.format(service=service.pk))

    assert response.status_code == status
    directives = policy(response)
    assert directives["default-src"] == ["'self'"]
    for name in ("script-src", "style-src"):
        assert directives[name][0] == "'self'"
        assert not set(directives[name]) & set(NOT_A_KEYWORD), name
    assert "unsafe" not in response["Content-Security-Policy"]
    assert directives["object-src"] == ["'none'"]
    assert directives["base-uri"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    # Development: plain http, so no HSTS.
    assert "Strict-Transport-Security" not in response


def test_the_api_docs_page_needs_nothing_inline(client):
    """Swagger UI runs from our static files: its one inline ``<script>`` is a
    JSON data block, which browsers never execute, so it needs no nonce."""
    html = client.get("/api/v1/docs").text

    for tag in re.findall(r"<script\b[^>]*>", html):
        assert re.search(r'src="/static/', tag) or 'type="application/json"' in tag, tag
    assert "<style" not in html
    assert not re.search(r"\s(style|on[a-z]+)=", html)
    assert "javascript:" not in html


# Production


def production_environ(tmp_dir: str) -> dict[str, str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("SLOTWISE")}
    return {
        **clean,
        "DJANGO_SETTINGS_MODULE": "slotwise.settings",
        "SLOTWISE_ENV": "production",
        "SLOTWISE_SECRET_KEY": secrets.token_urlsafe(48),
        "SLOTWISE_ALLOWED_HOSTS": "book.example.com",
        "SLOTWISE_DATABASE_URL": f"sqlite:///{tmp_dir}/db.sqlite3",
        "SLOTWISE_SMTP_URL": "smtp+starttls://bookings:s3cret@mail.example.com",
        "SLOTWISE_VAR_DIR": tmp_dir,
    }


PRODUCTION_SETTINGS = (
    "DEBUG",
    "SECURE_SSL_REDIRECT",
    "SECURE_REDIRECT_EXEMPT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "CSRF_COOKIE_SAMESITE",
    "SILENCED_SYSTEM_CHECKS",
)


@pytest.fixture(scope="module")
def production_settings(tmp_path_factory) -> dict[str, object]:
    """The security settings as a production process loads them."""
    script = (
        "import json, sys; from django.conf import settings; "
        "print(json.dumps({name: getattr(settings, name) for name in sys.argv[1:]}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, *PRODUCTION_SETTINGS],
        env=production_environ(str(tmp_path_factory.mktemp("production"))),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.fixture
def in_production(settings, production_settings) -> None:
    """This process, with production's security settings; use before the first request."""
    for name, value in production_settings.items():
        setattr(settings, name, value)
    settings.ALLOWED_HOSTS = ["testserver"]


def test_production_asks_for_https_and_secure_cookies(production_settings):
    assert production_settings == {
        "DEBUG": False,
        "SECURE_SSL_REDIRECT": True,
        "SECURE_REDIRECT_EXEMPT": [r"^healthz$", r"^readyz$"],
        "SECURE_HSTS_SECONDS": 365 * 24 * 60 * 60,
        "SECURE_HSTS_INCLUDE_SUBDOMAINS": False,
        "SECURE_HSTS_PRELOAD": False,
        "SESSION_COOKIE_SECURE": True,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "CSRF_COOKIE_SECURE": True,
        "CSRF_COOKIE_HTTPONLY": True,
        "CSRF_COOKIE_SAMESITE": "Lax",
        # Only the two checks settings.py gives its reasons for; `manage check
        # --deploy` (tests/test_settings.py, .ci/run) must find nothing else.
        "SILENCED_SYSTEM_CHECKS": ["security.W005", "security.W021"],
    }


@pytest.mark.usefixtures("in_production")
@pytest.mark.parametrize("url", ["/", "/api/v1/docs", SLOTS + QUERY])
def test_production_redirects_plain_http_to_https(client, service, url):
    url = url.format(service=service.pk)

    response = client.get(url)

    assert response.status_code == 301
    assert response["Location"] == f"https://testserver{url}"


@pytest.mark.usefixtures("in_production")
def test_production_lets_load_balancers_probe_health_over_http(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert "Strict-Transport-Security" not in response


@pytest.mark.usefixtures("in_production")
@pytest.mark.parametrize("url", ["/", "/healthz", "/api/v1/openapi.json", "/no-such-page"])
def test_production_sends_hsts_over_https(client, url):
    response = client.get(url, secure=True)

    assert response["Strict-Transport-Security"] == "max-age=31536000"
    assert policy(response)["frame-ancestors"] == ["'none'"]
    assert response["X-Frame-Options"] == "DENY"


def sign_in_page(request: HttpRequest) -> HttpResponse:
    """Stands in for any page that starts a session and renders a form."""
    request.session["visited"] = True
    return HttpResponse(
        f'<input type="hidden" name="csrfmiddlewaretoken" value="{get_token(request)}">'
    )


urlpatterns = [path("form", sign_in_page)]


@pytest.mark.urls("tests.web.test_headers")
@pytest.mark.usefixtures("in_production")
def test_production_cookies_are_secure_httponly_and_same_site(client):
    response = client.get("/form", secure=True)

    assert response.status_code == 200
    for name in ("sessionid", "csrftoken"):
        cookie = response.cookies[name]
        assert cookie["secure"] is True, name
        assert cookie["httponly"] is True, name
        assert cookie["samesite"] == "Lax", name


@pytest.mark.urls("tests.web.test_headers")
def test_development_cookies_are_httponly_and_same_site_but_work_over_http(client):
    response = client.get("/form")

    for name in ("sessionid", "csrftoken"):
        cookie = response.cookies[name]
        assert not cookie["secure"], name
        assert cookie["httponly"] is True, name
        assert cookie["samesite"] == "Lax", name
