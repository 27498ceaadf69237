"""Organization.embed_origins: only sites that can safely go into frame-ancestors."""

import pytest
from django.core.exceptions import ValidationError

from slotwise.organizations.models import Organization
from slotwise.organizations.validators import (
    MAX_EMBED_ORIGINS,
    validate_embed_origin,
    validate_embed_origins,
)


def messages(error: ValidationError) -> str:
    return " ".join(error.messages)


@pytest.mark.parametrize(
    "origin",
    [
        "https://www.example-salon.com",
        "https://example-salon.com",
        "https://book.example.com:8443",
        "https://*.example-salon.com",
        "https://xn--bcher-kva.example",
        "HTTPS://WWW.Example-Salon.com",
        "http://localhost",
        "http://localhost:8000",
        "http://127.0.0.1:8000",
    ],
)
def test_sites_that_may_frame_the_booking_pages(origin):
    validate_embed_origin(origin)


@pytest.mark.parametrize(
    ("origin", "complaint"),
    [
        ("www.example-salon.com", "is not a site address"),
        ("", "is not a site address"),
        ("ftp://example.com", "must start with https://"),
        ("javascript://example.com", "must start with https://"),
        ("http://www.example-salon.com", "http:// is only for localhost"),
        ("http://*.localhost", "http:// is only for localhost"),
        ("https://www.example-salon.com/", "leave out the path"),
        ("https://www.example-salon.com/book", "leave out the path"),
        ("https://www.example-salon.com?x=1", "leave out the path"),
        ("https://www.example-salon.com#top", "leave out the path"),
        ("https://user@example.com", "does not name a host"),
        ("https://user:secret@example.com", "invalid port"),
        ("https://*", "the only wildcard allowed"),
        ("*", "is not a site address"),
        ("https://www.*.example.com", "the only wildcard allowed"),
        ("https://*.*.example.com", "the only wildcard allowed"),
        ("https://*.com", "name a domain"),
        ("https://example.com:*", "invalid port"),
        ("https://example.com:0", "invalid port"),
        ("https://example.com:65536", "invalid port"),
        ("https://example.com:", "invalid port"),
        ("https://[::1]:8000", "does not name a host"),
        ("https://bücher.example", "does not name a host"),
        ("https://-example.com", "does not name a host"),
        ("https://example.com.", "does not name a host"),
        ("https://under_score.example", "does not name a host"),
        # Each of these would rewrite the policy if it reached the header.
        ("https://a.example; script-src *", "does not name a host"),
        ("https://a.example 'unsafe-inline'", "does not name a host"),
        ("https://a.example,https://b.example", "does not name a host"),
        ("https://a.example\n", "does not name a host"),
        ("'self'", "is not a site address"),
        ("'none'", "is not a site address"),
        (42, "as text"),
    ],
)
def test_anything_else_is_refused_with_the_reason(origin, complaint):
    with pytest.raises(ValidationError) as raised:
        validate_embed_origin(origin)
    assert complaint in messages(raised.value)


def test_an_empty_list_means_no_site():
    validate_embed_origins([])


def test_at_most_twenty_sites():
    sites = [f"https://site{n}.example.com" for n in range(MAX_EMBED_ORIGINS + 1)]
    validate_embed_origins(sites[:MAX_EMBED_ORIGINS])

    with pytest.raises(ValidationError, match="at most 20 sites"):
        validate_embed_origins(sites)


@pytest.mark.parametrize("value", ["https://www.example-salon.com", {"a": 1}, None])
def test_the_field_holds_a_list(value):
    with pytest.raises(ValidationError, match="Enter a list of sites"):
        validate_embed_origins(value)


def test_every_problem_in_the_list_is_named_at_once():
    with pytest.raises(ValidationError) as raised:
        validate_embed_origins(
            [
                "https://www.example-salon.com",
                "http://www.example-salon.com",
                "https://WWW.example-salon.com",
                "https://*.com",
            ]
        )

    assert raised.value.messages == [
        "http://www.example-salon.com must start with https:// (http:// is only for localhost).",
        "https://WWW.example-salon.com is listed twice.",
        "https://*.com would let sites of many owners frame the pages; "
        "name a domain, as in *.example-salon.com.",
    ]


def organization(**fields):
    defaults = {
        "name": "Harbour",
        "slug": "harbour",
        "time_zone": "Europe/London",
        "currency": "GBP",
    }
    return Organization(**{**defaults, **fields})


def test_organizations_list_no_sites_unless_told():
    assert organization().embed_origins == []


# full_clean checks the slug is unique, which needs the database.
@pytest.mark.django_db
def test_full_clean_checks_the_sites():
    organization(embed_origins=["https://www.example-salon.com"]).full_clean()

    with pytest.raises(ValidationError) as raised:
        organization(embed_origins=["https://www.example-salon.com/book"]).full_clean()

    assert list(raised.value.message_dict) == ["embed_origins"]


@pytest.mark.django_db
def test_the_sites_are_stored_as_a_list(make_org):
    org = make_org(embed_origins=["https://www.example-salon.com", "https://*.example-salon.com"])

    org.refresh_from_db()

    assert org.embed_origins == ["https://www.example-salon.com", "https://*.example-salon.com"]
