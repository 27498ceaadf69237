from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from slotwise.organizations.models import Organization
from slotwise.organizations.validators import zone_named


@pytest.mark.parametrize("name", ["Europe/London", "Asia/Kathmandu", "UTC", "America/St_Johns"])
def test_zone_named_accepts_iana_names(name):
    assert zone_named(name) == ZoneInfo(name)


@pytest.mark.parametrize(
    "name",
    ["", "../../etc/passwd", "/etc/localtime", "localtime", "Factory", "Mars/Olympus", "utc "],
)
def test_zone_named_refuses_anything_else(name):
    with pytest.raises(ValueError, match="not an IANA time zone"):
        zone_named(name)


def valid_org(**fields):
    defaults = {
        "name": "Harbour",
        "slug": "harbour",
        "time_zone": "Europe/London",
        "currency": "GBP",
        "locale": "en-GB",
    }
    return Organization(**{**defaults, **fields})


# full_clean checks the slug is unique, which needs the database.
@pytest.mark.django_db
def test_a_valid_organization_passes_validation():
    valid_org().full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("time_zone", "Europe/Londres"),
        ("time_zone", "../../etc/passwd"),
        ("currency", "gbp"),
        ("currency", "GB1"),
        ("locale", "english"),
        ("locale", "en_GB"),
    ],
)
def test_validation_refuses_bad_zone_currency_and_locale(field, value):
    with pytest.raises(ValidationError) as caught:
        valid_org(**{field: value}).full_clean()
    assert field in caught.value.message_dict


@pytest.mark.django_db
@pytest.mark.parametrize("locale", ["en", "en-GB", "zh-Hant-TW", "es-419"])
def test_validation_accepts_bcp47_locales(locale):
    valid_org(locale=locale).full_clean()


@pytest.mark.django_db
@pytest.mark.parametrize("fields", [{"currency": "EU"}, {"time_zone": ""}])
def test_database_refuses_short_currency_and_missing_zone(fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        valid_org(**fields).save()


@pytest.mark.django_db
def test_slugs_are_unique(make_org):
    make_org(slug="harbour")
    with pytest.raises(IntegrityError), transaction.atomic():
        make_org(slug="harbour")
