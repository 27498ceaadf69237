"""Which URLs and event lists an endpoint may have."""

import pytest
from django.core.exceptions import ValidationError

from slotwise.webhooks.validators import (
    EVENT_TYPES,
    MAX_URL_LENGTH,
    validate_event_types,
    validate_webhook_url,
)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/slotwise",
        "https://hooks.example.com",
        "HTTPS://Hooks.Example.com:8443/in?source=slotwise",
        "https://203.0.113.7/hook",
        "https://[2001:db8::1]:8443/hook",
        "http://localhost:8000/hook",
        "http://127.0.0.1/hook",
        "https://xn--bcher-kva.example/hook",
    ],
)
def test_https_urls_and_plain_http_to_this_machine_are_accepted(url):
    validate_webhook_url(url)


@pytest.mark.parametrize(
    ("url", "because"),
    [
        ("https://user:secret@hooks.example.com/", "user name or password"),
        ("https://user@hooks.example.com/", "user name or password"),
        ("https://@hooks.example.com/", "user name or password"),
        ("ftp://hooks.example.com/", "https://"),
        ("file:///etc/passwd", "https://"),
        ("javascript:alert(1)", "https://"),
        ("hooks.example.com/slotwise", "https://"),
        ("https:/hooks.example.com", "https://"),
        ("http://hooks.example.com/", "only for localhost"),
        ("http://localhost.example.com/", "only for localhost"),
        ("http://10.0.0.1/", "only for localhost"),
        ("http://[::1]/", "only for localhost"),
        ("https:///slotwise", "host"),
        ("https://hooks..example.com/", "host"),
        ("https://-hooks.example.com/", "host"),
        ("https://hooks.example.com:0/", "port"),
        ("https://hooks.example.com:99999/", "port"),
        ("https://hooks.example.com:/", "port"),
        ("https://hooks.example.com/#top", "fragment"),
        ("https://hooks.example.com/a b", "spaces"),
        ("https://hooks.example.com/\\x", "backslashes"),
        ("https://bücher.example/hook", "ASCII"),
        ("https://hooks.example.com/\nHost: evil", "spaces"),
        ("https://hooks.example.com/" + "a" * MAX_URL_LENGTH, "longer than"),
        ("", "as text"),
        (None, "as text"),
    ],
)
def test_other_urls_are_refused_with_the_reason(url, because):
    with pytest.raises(ValidationError) as refused:
        validate_webhook_url(url)
    assert because in " ".join(refused.value.messages)


def test_event_types_are_known_names_each_once():
    validate_event_types([])
    validate_event_types(list(EVENT_TYPES))
    for wrong, because in (
        (["booking.deleted"], "Unknown event type 'booking.deleted'"),
        (["booking.created", "booking.created"], "named twice"),
        ("booking.created", "as a list"),
        ([1], "Unknown event type 1"),
    ):
        with pytest.raises(ValidationError) as refused:
            validate_event_types(wrong)
        assert because in refused.value.messages[0]
