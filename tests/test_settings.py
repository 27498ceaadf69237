"""Deployment settings: safe development defaults, and a production that refuses to run unsafely."""

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from slotwise import config

KEY = secrets.token_urlsafe(48)


def production(**overrides: str) -> dict[str, str]:
    environ = {
        "SLOTWISE_ENV": "production",
        "SLOTWISE_SECRET_KEY": KEY,
        "SLOTWISE_ALLOWED_HOSTS": "book.example.com, www.book.example.com",
        "SLOTWISE_DATABASE_URL": "postgres://slotwise:s3cret@db.internal:5432/slotwise",
        "SLOTWISE_SMTP_URL": "smtp+starttls://bookings:s3cret@mail.example.com",
    }
    environ.update(overrides)
    return {name: value for name, value in environ.items() if value}


def refusal(environ: dict[str, str]) -> str:
    with pytest.raises(ImproperlyConfigured) as raised:
        config.load(environ)
    return str(raised.value)


# Development


def test_development_works_with_no_configuration_at_all():
    deployment = config.load({})

    assert not deployment.production
    assert deployment.debug
    assert deployment.secret_key == config.DEVELOPMENT_SECRET_KEY
    assert deployment.allowed_hosts == ["127.0.0.1", "localhost"]
    assert deployment.database["NAME"] == str(config.REPO_DIR / "var" / "slotwise.sqlite3")
    assert deployment.mailers["default"]["BACKEND"].endswith("console.EmailBackend")


def test_development_database_directory_is_created(tmp_path):
    var_dir = tmp_path / "state"

    deployment = config.load({"SLOTWISE_VAR_DIR": str(var_dir)})

    assert deployment.database["NAME"] == str(var_dir / "slotwise.sqlite3")
    assert var_dir.is_dir()


def test_sqlite_runs_in_wal_mode_with_immediate_transactions(tmp_path):
    database = config.database(f"sqlite:///{tmp_path / 'db.sqlite3'}")

    assert database["ENGINE"] == "django.db.backends.sqlite3"
    assert "PRAGMA journal_mode=WAL" in database["OPTIONS"]["init_command"]
    assert database["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert database["OPTIONS"]["timeout"] >= 5


def test_postgres_connections_are_kept_and_checked():
    database = config.database("postgres://slotwise:pw@db.internal:5432/slotwise")

    assert database["ENGINE"] == "django.db.backends.postgresql"
    assert (database["HOST"], database["PORT"], database["NAME"]) == (
        "db.internal",
        5432,
        "slotwise",
    )
    assert database["CONN_MAX_AGE"] > 0
    assert database["CONN_HEALTH_CHECKS"]


def test_other_databases_are_refused_without_echoing_the_password():
    message = refusal({"SLOTWISE_DATABASE_URL": "mysql://root:hunter2@db/slotwise"})

    assert "'mysql'" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(("value", "debug"), [("false", False), ("0", False), ("yes", True)])
def test_debug_can_be_switched_in_development(value, debug):
    assert config.load({"SLOTWISE_DEBUG": value}).debug is debug


@pytest.mark.parametrize(
    ("environ", "complaint"),
    [
        ({"SLOTWISE_DEBUG": "maybe"}, "SLOTWISE_DEBUG must be true or false"),
        ({"SLOTWISE_ENV": "staging"}, "SLOTWISE_ENV must be 'development' or 'production'"),
        ({"SLOTWISE_LOG_LEVEL": "LOUD"}, "SLOTWISE_LOG_LEVEL must be one of"),
        ({"SLOTWISE_HSTS_SECONDS": "-1"}, "SLOTWISE_HSTS_SECONDS must be a whole number"),
        ({"SLOTWISE_SECURE_PROXY_SSL_HEADER": "X-Proto: https"}, "must be a header name"),
    ],
)
def test_nonsense_values_are_refused_by_name(environ, complaint):
    assert complaint in refusal(environ)


# Production


def test_production_names_everything_it_lacks():
    message = refusal({"SLOTWISE_ENV": "production"})

    assert message.startswith("refusing to start in production:")
    assert "SLOTWISE_SECRET_KEY" in message
    assert "SLOTWISE_ALLOWED_HOSTS" in message
    assert "SLOTWISE_DATABASE_URL" in message
    assert "SLOTWISE_SMTP_URL" in message


@pytest.mark.parametrize(
    ("key", "complaint"),
    [
        ("too-short-" * 4, "has 40 characters; use at least 50"),
        (config.DEVELOPMENT_SECRET_KEY, "the public development key"),
        ("django-insecure-" + "x" * 60, "the public development key"),
    ],
)
def test_production_refuses_weak_secret_keys(key, complaint):
    assert complaint in refusal(production(SLOTWISE_SECRET_KEY=key))


def test_production_has_no_default_database():
    assert "SLOTWISE_DATABASE_URL" in refusal(production(SLOTWISE_DATABASE_URL=""))


def test_production_never_debugs():
    deployment = config.load(production(SLOTWISE_DEBUG="true"))

    assert deployment.production
    assert not deployment.debug
    assert deployment.allowed_hosts == ["book.example.com", "www.book.example.com"]
    assert deployment.secret_key == KEY


def test_secure_proxy_header_is_opt_in():
    assert config.load(production()).secure_proxy_ssl_header is None
    assert config.load(
        production(SLOTWISE_SECURE_PROXY_SSL_HEADER="X-Forwarded-Proto")
    ).secure_proxy_ssl_header == ("HTTP_X_FORWARDED_PROTO", "https")


# Secrets from files


def test_secret_key_can_come_from_a_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n", encoding="utf-8")

    deployment = config.load(
        production(SLOTWISE_SECRET_KEY="", SLOTWISE_SECRET_KEY_FILE=str(key_file))
    )

    assert deployment.secret_key == KEY


def test_a_secret_given_twice_is_refused(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(KEY, encoding="utf-8")

    assert "not both" in refusal(production(SLOTWISE_SECRET_KEY_FILE=str(key_file)))


@pytest.mark.parametrize(("content", "complaint"), [(None, "cannot read"), ("\n", "is empty")])
def test_unreadable_or_empty_secret_files_are_refused(tmp_path, content, complaint):
    key_file = tmp_path / "key"
    if content is not None:
        key_file.write_text(content, encoding="utf-8")

    message = refusal(production(SLOTWISE_SECRET_KEY="", SLOTWISE_SECRET_KEY_FILE=str(key_file)))

    assert complaint in message


# Mail


def test_mail_goes_to_the_console_unless_smtp_is_configured():
    assert config.mailers(None) == {
        "default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://relay.internal", {"host": "relay.internal"}),
        (
            "smtp+starttls://bookings%40example.com:p%2Fw@mail.example.com:2525",
            {
                "host": "mail.example.com",
                "port": 2525,
                "use_tls": True,
                "username": "bookings@example.com",
                "password": "p/w",
            },
        ),
        ("smtps://mail.example.com", {"host": "mail.example.com", "use_ssl": True}),
    ],
)
def test_smtp_urls(url, expected):
    mailer = config.mailers(url)["default"]

    assert mailer["BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert mailer["OPTIONS"] == {"timeout": 10, **expected}


def test_unknown_mail_urls_are_refused():
    assert "SLOTWISE_SMTP_URL must look like" in refusal(
        {"SLOTWISE_SMTP_URL": "http://mail.example.com"}
    )


# Cache and rate limits


def test_the_cache_is_a_database_table_unless_configured():
    cache = config.load({}).caches["default"]

    assert cache["BACKEND"] == "slotwise.cache.DatabaseCache"
    assert cache["LOCATION"] == config.CACHE_TABLE == "slotwise_cache"
    # Django's default of 300 would cull counters still in use.
    assert cache["OPTIONS"]["MAX_ENTRIES"] >= 10_000


@pytest.mark.parametrize(
    ("url", "backend", "location"),
    [
        ("redis://127.0.0.1:6379/0", "redis.RedisCache", "redis://127.0.0.1:6379/0"),
        ("rediss://:pw@cache.internal:6380/2", "redis.RedisCache", "rediss://:pw@cache.internal:6380/2"),
        ("locmem://", "locmem.LocMemCache", "slotwise"),
    ],
)  # fmt: skip
def test_cache_urls(url, backend, location):
    cache = config.load({"SLOTWISE_CACHE_URL": url}).caches["default"]

    assert cache["BACKEND"] == f"django.core.cache.backends.{backend}"
    assert cache["LOCATION"] == location


def test_the_cache_url_is_a_secret_that_can_come_from_a_file(tmp_path):
    url_file = tmp_path / "cache"
    url_file.write_text("redis://:s3cret@cache.internal:6379/0\n", encoding="utf-8")

    cache = config.load({"SLOTWISE_CACHE_URL_FILE": str(url_file)}).caches["default"]

    assert cache["LOCATION"] == "redis://:s3cret@cache.internal:6379/0"


def test_other_caches_are_refused_without_echoing_the_password():
    message = refusal({"SLOTWISE_CACHE_URL": "memcached://admin:hunter2@cache:11211"})

    assert "SLOTWISE_CACHE_URL" in message
    assert "'memcached'" in message
    assert "hunter2" not in message


def test_rate_limits_are_on_by_default_and_trust_no_proxy():
    deployment = config.load({})

    assert deployment.rate_limits == config.DEFAULT_RATE_LIMITS
    assert deployment.rate_limits["client-read"] == config.Rate(120, 60)
    assert deployment.rate_limits["client-write"] == config.Rate(20, 60)
    assert deployment.trusted_proxies == 0
    assert config.load({"SLOTWISE_TRUSTED_PROXIES": "2"}).trusted_proxies == 2


@pytest.mark.parametrize("value", ["off", "OFF", "false", "0"])
def test_rate_limits_can_be_switched_off(value):
    assert config.load({"SLOTWISE_RATE_LIMITS": value}).rate_limits is None


def test_rate_limits_can_be_changed_one_by_one():
    limits = config.rate_limits("client-read=300/min, org-write = 10/s,client-write=1000/h")

    assert limits == {
        **config.DEFAULT_RATE_LIMITS,
        "client-read": config.Rate(300, 60),
        "org-write": config.Rate(10, 1),
        "client-write": config.Rate(1000, 3600),
    }
    assert config.rate_limits("on") == config.DEFAULT_RATE_LIMITS


@pytest.mark.parametrize(
    ("value", "complaint"),
    [
        ("client-reads=10/min", "unknown limit 'client-reads'"),
        ("client-read", "client-read must be a number of requests per s, min or h"),
        ("client-read=10/fortnight", "not '10/fortnight'"),
        ("org-read=0/min", "org-read must be a number of requests"),
        ("org-read=-5/min", "org-read must be a number of requests"),
    ],
)
def test_nonsense_rate_limits_are_refused(value, complaint):
    message = refusal({"SLOTWISE_RATE_LIMITS": value})

    assert message.startswith("SLOTWISE_RATE_LIMITS: ")
    assert complaint in message


def test_trusted_proxies_must_be_a_count():
    assert "SLOTWISE_TRUSTED_PROXIES must be a whole number" in refusal(
        {"SLOTWISE_TRUSTED_PROXIES": "nginx"}
    )


def test_the_tests_count_requests_in_memory_with_the_default_limits():
    assert settings.CACHES["default"]["BACKEND"].endswith("locmem.LocMemCache")
    assert settings.SLOTWISE_RATE_LIMITS == config.DEFAULT_RATE_LIMITS
    assert settings.SLOTWISE_TRUSTED_PROXIES == 0


# The settings module itself


def test_settings_hold_for_every_installation():
    assert settings.TIME_ZONE == "UTC"
    assert settings.USE_TZ
    assert settings.DEFAULT_AUTO_FIELD == "django.db.models.BigAutoField"
    assert [app for app in settings.INSTALLED_APPS if app.startswith("slotwise.")] == [
        "slotwise.organizations",
        "slotwise.accounts",
        "slotwise.catalog",
        "slotwise.bookings",
        "slotwise.calendars",
        "slotwise.availability",
        "slotwise.audit",
        "slotwise.notifications",
        "slotwise.webhooks",
        "slotwise.payments",
        "slotwise.waitlist",
        "slotwise.web",
        "slotwise.dashboard",
        "slotwise.operations",
    ]
    assert settings.MIDDLEWARE[:3] == [
        "slotwise.operations.logs.RequestIdMiddleware",
        "django.middleware.security.SecurityMiddleware",
        "whitenoise.middleware.WhiteNoiseMiddleware",
    ]
    assert "django.middleware.csp.ContentSecurityPolicyMiddleware" in settings.MIDDLEWARE
    assert settings.MAILERS


def run_slotwise(*args: str, environ: dict[str, str]) -> subprocess.CompletedProcess[str]:
    clean = {name: value for name, value in os.environ.items() if not name.startswith("SLOTWISE")}
    return subprocess.run(
        [sys.executable, "-m", "slotwise", *args],
        env={**clean, **environ},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_settings_pass_djangos_deployment_checks(tmp_path: Path):
    environ = production(
        SLOTWISE_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        SLOTWISE_VAR_DIR=str(tmp_path),
    )

    result = run_slotwise("manage", "check", "--deploy", "--fail-level", "WARNING", environ=environ)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_without_rate_limits_warns_at_startup(tmp_path: Path):
    environ = production(
        SLOTWISE_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        SLOTWISE_VAR_DIR=str(tmp_path),
        SLOTWISE_RATE_LIMITS="off",
    )

    result = run_slotwise("manage", "check", environ=environ)

    assert result.returncode == 0, result.stdout + result.stderr
    (line,) = [json.loads(line) for line in result.stderr.splitlines() if "ratelimits" in line]
    assert line["level"] == "WARNING"
    assert line["logger"] == "slotwise.api.ratelimits"
    assert line["message"].startswith("SLOTWISE_RATE_LIMITS is off")


def test_misconfigured_production_stops_with_the_reason_and_no_traceback():
    result = run_slotwise("manage", "check", environ={"SLOTWISE_ENV": "production"})

    assert result.returncode == 2
    assert result.stderr.startswith("slotwise: refusing to start in production:")
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, "http://127.0.0.1:8000"),
        ({"SLOTWISE_SITE_URL": "https://book.example.com/"}, "https://book.example.com"),
    ],
)
def test_links_in_messages_start_with_the_site_url(environ, expected):
    assert config.load(environ).site_url == expected


def test_a_site_url_with_a_path_is_refused():
    assert "SLOTWISE_SITE_URL must be an address" in refusal(
        {"SLOTWISE_SITE_URL": "https://book.example.com/slotwise"}
    )


# Text messages


TWILIO_SID = "AC" + "0123456789abcdef" * 2
TWILIO_TOKEN = "twilio-auth-token-" + "9" * 14


def twilio(**overrides: str) -> dict[str, str]:
    environ = {
        "SLOTWISE_TWILIO_ACCOUNT_SID": TWILIO_SID,
        "SLOTWISE_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "SLOTWISE_TWILIO_FROM": "+14155550100",
    }
    environ.update(overrides)
    return {name: value for name, value in environ.items() if value}


def test_no_texts_unless_twilio_is_configured():
    assert config.load({}).twilio is None
    assert config.load(production()).twilio is None
    assert settings.SLOTWISE_TWILIO is None


def test_twilio_is_configured_by_all_three():
    account = config.load(twilio()).twilio

    assert account == config.Twilio(
        account_sid=TWILIO_SID,
        auth_token=TWILIO_TOKEN,
        sender="+14155550100",
        api_url="https://api.twilio.com",
    )
    assert TWILIO_TOKEN not in repr(account)


@pytest.mark.parametrize(
    "missing",
    ["SLOTWISE_TWILIO_ACCOUNT_SID", "SLOTWISE_TWILIO_AUTH_TOKEN", "SLOTWISE_TWILIO_FROM"],
)
def test_a_partial_twilio_configuration_is_refused(missing):
    message = refusal(twilio(**{missing: ""}))

    assert "all three or none" in message
    assert f"missing: {missing}" in message
    assert TWILIO_TOKEN not in message


def test_the_twilio_token_can_come_from_a_file(tmp_path):
    token_file = tmp_path / "twilio_token"
    token_file.write_text(TWILIO_TOKEN + "\n", encoding="utf-8")

    account = config.load(
        twilio(SLOTWISE_TWILIO_AUTH_TOKEN="", SLOTWISE_TWILIO_AUTH_TOKEN_FILE=str(token_file))
    ).twilio

    assert account is not None
    assert account.auth_token == TWILIO_TOKEN


def test_texts_can_come_from_a_messaging_service():
    service = "MG" + "fedcba9876543210" * 2

    account = config.load(twilio(SLOTWISE_TWILIO_FROM=service)).twilio

    assert account is not None
    assert account.sender == service


@pytest.mark.parametrize(
    ("environ", "complaint"),
    [
        (twilio(SLOTWISE_TWILIO_ACCOUNT_SID="SK123"), "SLOTWISE_TWILIO_ACCOUNT_SID must be"),
        (twilio(SLOTWISE_TWILIO_FROM="0044 20 7946 0958"), "SLOTWISE_TWILIO_FROM must be"),
        (twilio(SLOTWISE_TWILIO_API_URL="ftp://api.twilio.com"), "SLOTWISE_TWILIO_API_URL"),
        (twilio(SLOTWISE_TWILIO_API_URL="https://api.twilio.com/v1"), "no path"),
        (production(**twilio(SLOTWISE_TWILIO_API_URL="http://127.0.0.1:8099")), "https://"),
    ],
)
def test_nonsense_twilio_settings_are_refused(environ, complaint):
    assert complaint in refusal(environ)


def test_the_twilio_api_can_be_a_local_stand_in():
    account = config.load(twilio(SLOTWISE_TWILIO_API_URL="http://127.0.0.1:8099/")).twilio

    assert account is not None
    assert account.api_url == "http://127.0.0.1:8099"


# Card payments


STRIPE_KEY = "sk_test_" + "51Hslotwise" * 4
STRIPE_WEBHOOK_SECRET = "whsec_" + "5" * 32


def stripe(**overrides: str) -> dict[str, str]:
    environ = {
        "SLOTWISE_STRIPE_SECRET_KEY": STRIPE_KEY,
        "SLOTWISE_STRIPE_PUBLISHABLE_KEY": "pk_test_51Hpublishable",
        "SLOTWISE_STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET,
    }
    environ.update(overrides)
    return {name: value for name, value in environ.items() if value}


def test_no_card_payments_unless_stripe_is_configured():
    assert config.load({}).stripe is None
    assert config.load(production()).stripe is None
    assert settings.SLOTWISE_STRIPE is None


def test_stripe_is_configured_by_its_keys():
    account = config.load(production(**stripe())).stripe

    assert account == config.Stripe(
        secret_key=STRIPE_KEY,
        publishable_key="pk_test_51Hpublishable",
        webhook_secret=STRIPE_WEBHOOK_SECRET,
        api_url="https://api.stripe.com",
    )
    assert STRIPE_KEY not in repr(account)
    assert STRIPE_WEBHOOK_SECRET not in repr(account)


def test_development_can_take_payments_without_webhooks():
    account = config.load(stripe(SLOTWISE_STRIPE_WEBHOOK_SECRET="")).stripe

    assert account is not None
    assert account.webhook_secret is None


@pytest.mark.parametrize(
    ("missing", "named"),
    [
        ("SLOTWISE_STRIPE_SECRET_KEY", "SLOTWISE_STRIPE_SECRET_KEY (or _FILE)"),
        ("SLOTWISE_STRIPE_PUBLISHABLE_KEY", "SLOTWISE_STRIPE_PUBLISHABLE_KEY"),
    ],
)
def test_a_stripe_key_without_the_other_is_refused(missing, named):
    message = refusal(stripe(**{missing: ""}))

    assert "both or none" in message
    assert f"missing: {named}." in message
    assert STRIPE_KEY not in message


def test_a_webhook_secret_without_keys_is_refused():
    message = refusal({"SLOTWISE_STRIPE_WEBHOOK_SECRET": STRIPE_WEBHOOK_SECRET})

    assert "SLOTWISE_STRIPE_SECRET_KEY and SLOTWISE_STRIPE_PUBLISHABLE_KEY" in message
    assert STRIPE_WEBHOOK_SECRET not in message


def test_production_payments_need_the_webhook_secret():
    message = refusal(production(**stripe(SLOTWISE_STRIPE_WEBHOOK_SECRET="")))

    assert "SLOTWISE_STRIPE_WEBHOOK_SECRET (or _FILE) is not set" in message


def test_the_stripe_secrets_can_come_from_files(tmp_path):
    key_file = tmp_path / "stripe_key"
    key_file.write_text(STRIPE_KEY + "\n", encoding="utf-8")
    webhook_file = tmp_path / "stripe_webhook_secret"
    webhook_file.write_text(STRIPE_WEBHOOK_SECRET + "\n", encoding="utf-8")

    account = config.load(
        stripe(
            SLOTWISE_STRIPE_SECRET_KEY="",
            SLOTWISE_STRIPE_SECRET_KEY_FILE=str(key_file),
            SLOTWISE_STRIPE_WEBHOOK_SECRET="",
            SLOTWISE_STRIPE_WEBHOOK_SECRET_FILE=str(webhook_file),
        )
    ).stripe

    assert account is not None
    assert account.secret_key == STRIPE_KEY
    assert account.webhook_secret == STRIPE_WEBHOOK_SECRET


@pytest.mark.parametrize(
    "key", ["sk_live_51Hslotwise", "rk_test_51Hrestricted", "rk_live_51Hrestricted"]
)
def test_live_and_restricted_secret_keys_are_accepted(key):
    publishable = "pk_live_51H" if "_live_" in key else "pk_test_51H"

    account = config.load(
        stripe(SLOTWISE_STRIPE_SECRET_KEY=key, SLOTWISE_STRIPE_PUBLISHABLE_KEY=publishable)
    ).stripe

    assert account is not None
    assert account.secret_key == key


@pytest.mark.parametrize(
    ("environ", "complaint"),
    [
        (stripe(SLOTWISE_STRIPE_SECRET_KEY="pk_test_51Hwrong"), "SECRET_KEY must be"),
        (stripe(SLOTWISE_STRIPE_PUBLISHABLE_KEY="sk_test_51Hsecret"), "PUBLISHABLE_KEY must"),
        (stripe(SLOTWISE_STRIPE_PUBLISHABLE_KEY="pk_live_51H"), "both be test keys or both"),
        (stripe(SLOTWISE_STRIPE_WEBHOOK_SECRET="we_123"), "SLOTWISE_STRIPE_WEBHOOK_SECRET must"),
        (stripe(SLOTWISE_STRIPE_API_URL="ftp://api.stripe.com"), "SLOTWISE_STRIPE_API_URL"),
        (stripe(SLOTWISE_STRIPE_API_URL="https://api.stripe.com/v1"), "no path"),
        (production(**stripe(SLOTWISE_STRIPE_API_URL="http://127.0.0.1:8420")), "https://"),
    ],
)
def test_nonsense_stripe_settings_are_refused(environ, complaint):
    message = refusal(environ)

    assert complaint in message
    assert STRIPE_KEY not in message


def test_the_stripe_api_can_be_a_local_stand_in():
    account = config.load(stripe(SLOTWISE_STRIPE_API_URL="http://127.0.0.1:8420/")).stripe

    assert account is not None
    assert account.api_url == "http://127.0.0.1:8420"


@pytest.mark.parametrize(
    ("url", "backend", "options"),
    [
        ("postmark://tok%40en@", "postmark", {"server_token": "tok@en"}),
        ("sendgrid://SG.key@", "sendgrid", {"api_key": "SG.key"}),
        (
            "mailgun://key-1@mg.example.com?api_url=https://api.eu.mailgun.net/v3",
            "mailgun",
            {
                "api_key": "key-1",
                "sender_domain": "mg.example.com",
                "api_url": "https://api.eu.mailgun.net/v3",
            },
        ),
    ],
    ids=["postmark", "sendgrid", "mailgun-eu"],
)
def test_an_email_providers_api_is_a_mailer_through_anymail(url, backend, options):
    mailer = config.mailers(url)["default"]
    assert mailer == {"BACKEND": f"anymail.backends.{backend}.EmailBackend", "OPTIONS": options}


def test_a_provider_url_needs_its_key():
    assert "needs the API key" in refusal({"SLOTWISE_SMTP_URL": "postmark://"})
