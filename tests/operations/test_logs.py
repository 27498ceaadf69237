"""Every request has an id, in its response and in every record logged while it runs."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from slotwise import config
from slotwise.operations.logs import JsonFormatter, RequestIdFilter

pytestmark = pytest.mark.django_db


@pytest.fixture
def records():
    """What the django.request logger writes, as the JSON lines production would see."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        logger.removeHandler(handler)


def test_a_proxys_request_id_is_kept_and_logged(client, records):
    answer = client.get("/no-such-page", headers={"X-Request-ID": "f3a1c2d4e5b60718"})

    assert answer.status_code == 404
    assert answer["X-Request-ID"] == "f3a1c2d4e5b60718"
    (record,) = records()
    assert record["request_id"] == "f3a1c2d4e5b60718"
    assert record["level"] == "WARNING"
    assert record["logger"] == "django.request"
    assert record["message"] == "Not Found: /no-such-page"
    assert record["status_code"] == 404
    assert record["time"].endswith("+00:00")


@pytest.mark.parametrize("offered", ["", "short", "has spaces in it", "x" * 200, "<script>"])
def test_an_unusable_request_id_is_replaced_by_a_new_one(client, offered):
    answer = client.get("/healthz", headers={"X-Request-ID": offered})

    assert len(answer["X-Request-ID"]) == 32
    assert answer["X-Request-ID"] != offered


def test_each_request_gets_its_own_id(client):
    assert client.get("/healthz")["X-Request-ID"] != client.get("/healthz")["X-Request-ID"]


def test_records_outside_a_request_say_so():
    record = logging.LogRecord("slotwise", logging.INFO, __file__, 1, "sweep %s", ("done",), None)
    RequestIdFilter().filter(record)

    entry = json.loads(JsonFormatter().format(record))

    assert entry["request_id"] == "-"
    assert entry["message"] == "sweep done"


def test_a_traceback_is_one_field_of_one_line():
    try:
        raise ValueError("boom")
    except ValueError:
        import sys

        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())

    line = JsonFormatter().format(record)

    assert "\n" not in line
    assert json.loads(line)["exception"].endswith("ValueError: boom")


def test_the_log_format_is_json_in_production_and_plain_in_development():
    production = {
        "SLOTWISE_ENV": "production",
        "SLOTWISE_SECRET_KEY": "k" * 60,
        "SLOTWISE_ALLOWED_HOSTS": "book.example.com",
        "SLOTWISE_DATABASE_URL": "postgres://db.example.com/slotwise",
        "SLOTWISE_SMTP_URL": "smtp://mail.example.com",
    }
    assert config.load(production).log_format == "json"
    assert config.load({}).log_format == "plain"
    assert config.load({"SLOTWISE_LOG_FORMAT": "JSON"}).log_format == "json"
    with pytest.raises(ImproperlyConfigured, match="SLOTWISE_LOG_FORMAT"):
        config.load({"SLOTWISE_LOG_FORMAT": "xml"})


def test_sentry_is_set_up_only_when_a_dsn_is_given(tmp_path):
    import os
    import subprocess
    import sys

    probe = "import django, sentry_sdk; django.setup(); print(sentry_sdk.get_client().dsn)"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE")}
    env |= {"DJANGO_SETTINGS_MODULE": "slotwise.settings", "SLOTWISE_VAR_DIR": str(tmp_path)}

    def dsn(**extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", probe], env=env | extra, capture_output=True, text=True,
            check=True,
        )  # fmt: skip
        return done.stdout.strip()

    assert dsn() == "None"
    given = "https://public@sentry.example.com/42"
    assert dsn(SLOTWISE_SENTRY_DSN=given) == given
