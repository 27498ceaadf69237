"""Languages: a picker on every page, pages in the visitor's language, the API in English."""

# ruff: noqa: RUF001 (the en dash is the range sign the texts print)

import ast
import gettext
import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
import time_machine
from django.conf import settings
from django.test import Client

import slotwise
from slotwise.bookings.models import Booking
from slotwise.bookings.services import hash_token

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


# The manage page and the translations

LOCALE = Path(slotwise.__file__).parent / "locale"


@pytest.fixture
def booking(make_org, make_resource, make_service, make_booking):
    org = make_org(name="Harbour & Pine", time_zone="Europe/London")
    booking = make_booking(
        make_service(org, name="Portrait session"),
        [make_resource(org)],
        datetime(2026, 6, 1, 9, tzinfo=UTC),
    )
    Booking.objects.filter(pk=booking.pk).update(
        customer_time_zone="Europe/London", manage_token_hash=hash_token(TOKEN)
    )
    return booking


TOKEN = "the-customers-own-manage-token-0123456789"


@pytest.mark.parametrize(
    ("language", "heading", "when", "button"),
    [
        ("en", "Your booking", "Monday 1 June 2026, 10:00–11:00", "Cancel booking"),
        ("de", "Ihre Buchung", "Montag, 1. Juni 2026, 10:00–11:00", "Buchung stornieren"),
        ("es", "Su reserva", "lunes 1 de junio de 2026, 10:00–11:00", "Cancelar la reserva"),
    ],
)
def test_the_manage_page_speaks_the_chosen_language_with_its_dates(
    client, booking, language, heading, when, button
):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    with time_machine.travel(datetime(2026, 5, 1, 12, tzinfo=UTC), tick=False):
        response = client.get(f"/manage/{TOKEN}")

    text = unescape(response.text)
    assert f'<html lang="{language}">' in text
    assert f"<h1>{heading}</h1>" in text
    assert f"{when} (Europe/London, UTC+01:00)" in text
    assert button in text


def test_without_a_choice_the_manage_page_speaks_the_organizations_language(client, booking):
    booking.organization.locale = "de"
    booking.organization.save()
    with time_machine.travel(datetime(2026, 5, 1, 12, tzinfo=UTC), tick=False):
        response = client.get(f"/manage/{TOKEN}")
    assert "<h1>Ihre Buchung</h1>" in response.text


def test_error_pages_speak_the_visitors_language(client):
    assert "<h1>Seite nicht gefunden</h1>" in client.get("/nowhere", HTTP_ACCEPT_LANGUAGE="de").text
    assert "<h1>Página no encontrada</h1>" in client.get("/nowhere", HTTP_ACCEPT_LANGUAGE="es").text


def po_entries(path: Path) -> list[dict[str, object]]:
    """Each entry of a .po file: its flags, msgid and msgstr parts (a simple reader)."""
    entries, current, key = [], None, None
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if not line.strip():
            if current is not None:
                entries.append(current)
            current = None
            continue
        current = current or {"flags": "", "msgid": "", "msgstr": {}}
        if line.startswith("#,"):
            current["flags"] += line
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            text = ast.literal_eval(line)
            if isinstance(key, tuple):
                current["msgstr"][key[1]] += text
            else:
                current[key] = current.get(key, "") + text
        else:
            word, _, rest = line.partition(" ")
            text = ast.literal_eval(rest)
            if word.startswith("msgstr"):
                key = ("msgstr", word)
                current["msgstr"][word] = text
            else:
                key = word
                current[key] = text
    return entries


@pytest.mark.parametrize("language", ["de", "es"])
def test_every_message_is_translated_and_none_is_fuzzy(language):
    path = LOCALE / language / "LC_MESSAGES" / "django.po"
    entries = po_entries(path)
    assert len(entries) > 100
    untranslated = [e["msgid"] for e in entries[1:] if not all(e["msgstr"].values())]
    fuzzy = [e["msgid"] for e in entries if "fuzzy" in e["flags"]]
    assert untranslated == []
    assert fuzzy == []
    for entry in entries[1:]:
        wanted = set(re.findall(r"%\(\w+\)[sd]", entry["msgid"] + entry.get("msgid_plural", "")))
        for translated in entry["msgstr"].values():
            assert set(re.findall(r"%\(\w+\)[sd]", translated)) == wanted, entry["msgid"]


@pytest.mark.parametrize("language", ["de", "es"])
def test_the_compiled_catalog_matches_the_po_file(language):
    folder = LOCALE / language / "LC_MESSAGES"
    with (folder / "django.mo").open("rb") as compiled:
        catalog = gettext.GNUTranslations(compiled)
    for entry in po_entries(folder / "django.po")[1:]:
        if "msgid_plural" in entry or "msgctxt" in entry:
            continue
        assert catalog.gettext(entry["msgid"]) == entry["msgstr"]["msgstr"], entry["msgid"]
