"""Languages: a picker on every page, pages in the visitor's language, the API in English."""

import re

import pytest
from django.conf import settings
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def browser():
    return Client(enforce_csrf_checks=True)


def test_the_languages_are_english_german_and_spanish():
    assert [code for code, _ in settings.LANGUAGES] == ["en", "de", "es"]
    middleware = settings.MIDDLEWARE
    locale = middleware.index("django.middleware.locale.LocaleMiddleware")
    assert middleware.index("django.contrib.sessions.middleware.SessionMiddleware") < locale
    assert locale < middleware.index("django.middleware.common.CommonMiddleware")


def test_every_page_has_a_labelled_language_picker_that_returns_to_it(browser):
    response = browser.get("/no-such-page?x=1")
    html = response.text
    assert response.status_code == 404
    form = re.search(
        r'<form class="language" action="([^"]+)" method="post">(.*?)</form>', html, re.S
    )
    assert form[1] == "/i18n/setlang/"
    assert '<input type="hidden" name="next" value="/no-such-page?x=1">' in form[2]
    assert '<label for="language-picker">Language</label>' in form[2]
    assert re.findall(r'<option value="(\w+)"', form[2]) == ["en", "de", "es"]
    assert '<option value="en" lang="en" selected>English</option>' in form[2]
    assert ">Deutsch</option>" in form[2]
    assert ">español</option>" in form[2]
    assert '<button type="submit"' in form[2]


def test_choosing_a_language_switches_the_pages_and_goes_back(browser):
    page = browser.get("/no-such-page")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text)[1]
    response = browser.post(
        "/i18n/setlang/",
        {"language": "de", "next": "/no-such-page", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert response["Location"] == "/no-such-page"
    again = browser.get("/no-such-page")
    assert again["Content-Language"] == "de"
    assert '<html lang="de">' in again.text
    assert '<option value="de" lang="de" selected>' in again.text


def test_a_browser_asking_for_spanish_gets_spanish_pages(browser):
    response = browser.get("/no-such-page", HTTP_ACCEPT_LANGUAGE="es-ES,es;q=0.9")
    assert response["Content-Language"] == "es"
    assert '<html lang="es">' in response.text


def test_the_api_answers_in_english_whatever_the_browser_asks(browser):
    browser.cookies[settings.LANGUAGE_COOKIE_NAME] = "de"
    response = browser.get("/api/v1/services/999999/slots", HTTP_ACCEPT_LANGUAGE="de")
    assert response["Content-Language"] == "en"
    page = browser.get("/no-such-page", HTTP_ACCEPT_LANGUAGE="de")
    assert page["Content-Language"] == "de"
