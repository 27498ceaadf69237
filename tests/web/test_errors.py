"""Error pages: readable, in the visitor's language, on the site's layout, never a trace."""

import re

import pytest
from django.core.exceptions import BadRequest, PermissionDenied
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import path

from slotwise import urls as site_urls
from slotwise.web import errors

pytestmark = pytest.mark.django_db


def crash(request: HttpRequest):
    raise RuntimeError("secret detail of the crash")


def refuse(request: HttpRequest):
    raise PermissionDenied("secret detail of the refusal")


def garble(request: HttpRequest):
    raise BadRequest("secret detail of the bad request")


# The site's URLs and handlers, plus views that fail on purpose.
urlpatterns = [
    *site_urls.urlpatterns,
    path("test-crash", crash),
    path("test-refuse", refuse),
    path("test-garble", garble),
]
handler400 = site_urls.handler400
handler403 = site_urls.handler403
handler404 = site_urls.handler404
handler500 = site_urls.handler500


@pytest.fixture
def browser():
    return Client(raise_request_exception=False)


def heading(response):
    return re.search(r"<h1>(.*?)</h1>", response.text)[1]


def test_an_unknown_address_gets_a_readable_404(browser, settings):
    settings.DEBUG = False
    response = browser.get("/no/such/page")
    assert response.status_code == 404
    assert heading(response) == "Page not found"
    assert 'class="language"' in response.text  # on the site's layout, with its footer
    assert "Traceback" not in response.text


@pytest.mark.urls("tests.web.test_errors")
def test_a_crash_gets_a_readable_500_without_the_detail(browser, settings):
    settings.DEBUG = False
    response = browser.get("/test-crash")
    assert response.status_code == 500
    assert heading(response) == "Something went wrong"
    assert "secret detail" not in response.text
    assert "Traceback" not in response.text
    assert "/static/web/base.css" in response.text


@pytest.mark.urls("tests.web.test_errors")
def test_a_refusal_gets_a_readable_403(browser, settings):
    settings.DEBUG = False
    response = browser.get("/test-refuse")
    assert response.status_code == 403
    assert heading(response) == "Not allowed"
    assert "secret detail" not in response.text


@pytest.mark.urls("tests.web.test_errors")
def test_a_bad_request_gets_a_readable_400(browser, settings):
    settings.DEBUG = False
    response = browser.get("/test-garble")
    assert response.status_code == 400
    assert heading(response) == "Something in the request was wrong"
    assert "secret detail" not in response.text


def test_a_form_without_its_csrf_token_says_what_to_do(settings):
    settings.DEBUG = False
    browser = Client(enforce_csrf_checks=True)
    response = browser.post("/i18n/setlang/", {"language": "de"})
    assert response.status_code == 403
    assert heading(response) == "The form has expired"
    assert "Nothing was changed." in response.text
    assert "CSRF" not in response.text


def test_the_500_page_renders_with_no_request_and_no_database(django_assert_num_queries):
    with django_assert_num_queries(0):
        html = render_to_string("500.html")
        response = errors.server_error(RequestFactory().get("/"))
    assert "<h1>Something went wrong</h1>" in html
    assert response.status_code == 500
    assert b"Something went wrong" in response.content
