"""Deployment settings: everything slotwise reads from its environment.

``slotwise.settings`` calls :func:`load` once, at startup; no other module
reads the environment. Every variable is named ``SLOTWISE_*`` and an empty
value counts as unset. Secrets (the secret key and the database, cache and
SMTP URLs, which carry passwords) may instead be read from a file named by the same
variable with ``_FILE`` appended, as container platforms mount them:

    SLOTWISE_SECRET_KEY_FILE=/run/secrets/slotwise_secret_key

The Twilio auth token (``SLOTWISE_TWILIO_AUTH_TOKEN``) is such a secret too, and
so are Stripe's secret key and webhook signing secret
(``SLOTWISE_STRIPE_SECRET_KEY``, ``SLOTWISE_STRIPE_WEBHOOK_SECRET``).

In production slotwise refuses to start, naming every problem at once, rather
than run with a guessable key, an open host list or a throwaway database.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

REPO_DIR = Path(__file__).resolve().parents[2]

# Public on purpose: it only ever signs development cookies, and production
# refuses it.
DEVELOPMENT_SECRET_KEY = (
    "django-insecure-slotwise-development-key-known-to-everyone-never-use-in-production"  # noqa: S105
)
MIN_SECRET_KEY_LENGTH = 50
DEVELOPMENT_ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
DEFAULT_HSTS_SECONDS = 365 * 24 * 60 * 60
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SQLITE_SCHEMES = ("sqlite",)
POSTGRES_SCHEMES = ("postgres", "postgresql", "pgsql")
TRUE = ("1", "true", "yes", "on")
FALSE = ("0", "false", "no", "off")
CACHE_TABLE = "slotwise_cache"
"""The database cache's table; the bookings app's migrations create it."""
CACHE_MAX_ENTRIES = 100_000
REDIS_SCHEMES = ("redis", "rediss")
RATE_UNITS = {"s": 1, "sec": 1, "second": 1, "min": 60, "minute": 60, "h": 3600, "hour": 3600}
TWILIO_API_URL = "https://api.twilio.com"
STRIPE_API_URL = "https://api.stripe.com"
E164 = re.compile(r"\+[1-9][0-9]{7,14}")
"""A phone number as the world dials it: ``+``, a country code, 8 to 15 digits in all."""


@dataclass(frozen=True)
class Rate:
    """At most ``requests`` in each window of ``seconds``: ``Rate(20, 60)`` is 20/min."""

    requests: int
    seconds: int


DEFAULT_RATE_LIMITS = {
    # One address: a customer clicking through a month of slots, or an office
    # behind one NAT booking for a few people.
    "client-read": Rate(120, 60),
    "client-write": Rate(20, 60),
    # One organization, from every address together: a busy day's rush, and
    # a ceiling on a distributed flood aimed at one business.
    "org-read": Rate(3000, 60),
    "org-write": Rate(300, 60),
}


@dataclass(frozen=True)
class Twilio:
    """Where and as whom text messages are sent: a Twilio account.

    ``sender`` is the number texts come from (E.164, ``+14155550100``) or a
    messaging service SID (``MG...``), which picks the number itself.
    """

    account_sid: str
    auth_token: str = field(repr=False)
    sender: str
    api_url: str = TWILIO_API_URL


@dataclass(frozen=True)
class Stripe:
    """The Stripe account that takes card payments.

    ``secret_key`` (``sk_test_...``, ``sk_live_...`` or a restricted
    ``rk_...`` key) stays on the server; ``publishable_key`` (``pk_...``) is
    handed to the customer's browser; ``webhook_secret`` (``whsec_...``)
    verifies the notifications Stripe sends, and is ``None`` only in
    development.
    """

    secret_key: str = field(repr=False)
    publishable_key: str
    webhook_secret: str | None = field(default=None, repr=False)
    api_url: str = STRIPE_API_URL


@dataclass(frozen=True, kw_only=True)
class Deployment:
    """What one installation of slotwise was told by its environment."""

    production: bool
    debug: bool
    secret_key: str
    allowed_hosts: list[str]
    database: dict[str, Any]
    var_dir: Path
    mailers: dict[str, dict[str, Any]]
    from_email: str
    secure_proxy_ssl_header: tuple[str, str] | None
    hsts_seconds: int
    log_level: str
    log_format: str
    metrics_allow: list[IPv4Network | IPv6Network]
    metrics_token: str | None
    sentry_dsn: str | None
    caches: dict[str, dict[str, Any]]
    rate_limits: dict[str, Rate] | None
    trusted_proxies: int
    site_url: str
    twilio: Twilio | None
    stripe: Stripe | None


def load(environ: Mapping[str, str]) -> Deployment:
    """Read the deployment settings from ``environ``; raise if production is unsafe.

    ``load({})`` gives a development deployment on ``var/slotwise.sqlite3``;
    ``load({"SLOTWISE_ENV": "production"})`` raises ``ImproperlyConfigured``
    listing the secret key, allowed hosts, database and SMTP URLs it lacks.
    """
    environment = _get(environ, "SLOTWISE_ENV") or "development"
    if environment not in ("development", "production"):
        raise ImproperlyConfigured(
            f"SLOTWISE_ENV must be 'development' or 'production', not {environment!r}."
        )
    production = environment == "production"
    var_dir = Path(_get(environ, "SLOTWISE_VAR_DIR") or REPO_DIR / "var").absolute()

    secret_key = secret(environ, "SLOTWISE_SECRET_KEY")
    allowed_hosts = _list(environ, "SLOTWISE_ALLOWED_HOSTS")
    database_url = secret(environ, "SLOTWISE_DATABASE_URL")
    smtp_url = secret(environ, "SLOTWISE_SMTP_URL")
    cache_url = secret(environ, "SLOTWISE_CACHE_URL")
    if production:
        problems = _production_problems(secret_key, allowed_hosts, database_url, smtp_url)
        if problems or secret_key is None or database_url is None:
            raise ImproperlyConfigured(
                "refusing to start in production:\n  - " + "\n  - ".join(problems)
            )
    else:
        secret_key = secret_key or DEVELOPMENT_SECRET_KEY
        allowed_hosts = allowed_hosts or DEVELOPMENT_ALLOWED_HOSTS
        database_url = database_url or f"sqlite:///{var_dir / 'slotwise.sqlite3'}"

    return Deployment(
        production=production,
        debug=not production and _bool(environ, "SLOTWISE_DEBUG", default=True),
        secret_key=secret_key,
        allowed_hosts=allowed_hosts,
        database=database(database_url),
        var_dir=var_dir,
        mailers=mailers(smtp_url),
        from_email=_get(environ, "SLOTWISE_FROM_EMAIL") or "slotwise@localhost",
        secure_proxy_ssl_header=_proxy_ssl_header(environ),
        hsts_seconds=_int(environ, "SLOTWISE_HSTS_SECONDS", default=DEFAULT_HSTS_SECONDS),
        log_level=_log_level(environ),
        log_format=_log_format(environ, production),
        metrics_allow=metrics_allow(_get(environ, "SLOTWISE_METRICS_ALLOW")),
        metrics_token=secret(environ, "SLOTWISE_METRICS_TOKEN"),
        sentry_dsn=secret(environ, "SLOTWISE_SENTRY_DSN"),
        caches=caches(cache_url),
        rate_limits=rate_limits(_get(environ, "SLOTWISE_RATE_LIMITS")),
        trusted_proxies=_int(environ, "SLOTWISE_TRUSTED_PROXIES", default=0),
        site_url=site_url(_get(environ, "SLOTWISE_SITE_URL"), production, allowed_hosts),
        twilio=twilio(environ, production),
        stripe=stripe(environ, production),
    )


def site_url(url: str | None, production: bool, allowed_hosts: list[str]) -> str:
    """Where people reach slotwise, for links in messages: ``SLOTWISE_SITE_URL``, or
    ``https://`` and the first allowed host in production, ``http://127.0.0.1:8000``
    in development."""
    if url:
        parts = urlsplit(url)
        if (
            parts.scheme not in ("http", "https")
            or not parts.hostname
            or parts.path not in ("", "/")
        ):
            raise ImproperlyConfigured(
                "SLOTWISE_SITE_URL must be an address such as https://book.example.com, no path."
            )
        return url.rstrip("/")
    if production:
        host = next((h.lstrip(".") for h in allowed_hosts if h != "*"), "localhost")
        return f"https://{host}"
    return "http://127.0.0.1:8000"


def twilio(environ: Mapping[str, str], production: bool) -> Twilio | None:
    """The Twilio account for text messages, or ``None`` (no texts) when none is set.

    ``SLOTWISE_TWILIO_ACCOUNT_SID``, ``SLOTWISE_TWILIO_AUTH_TOKEN`` (or
    ``_FILE``) and ``SLOTWISE_TWILIO_FROM`` go together: all three or none.
    ``SLOTWISE_TWILIO_API_URL`` (``https://api.twilio.com``) is only changed to
    test against a stand-in; production insists on HTTPS, since the token
    travels with every request.
    """
    sid = _get(environ, "SLOTWISE_TWILIO_ACCOUNT_SID")
    token = secret(environ, "SLOTWISE_TWILIO_AUTH_TOKEN")
    sender = _get(environ, "SLOTWISE_TWILIO_FROM")
    if sid is None and token is None and sender is None:
        return None
    if sid is None or token is None or sender is None:
        given = {
            "SLOTWISE_TWILIO_ACCOUNT_SID": sid,
            "SLOTWISE_TWILIO_AUTH_TOKEN (or _FILE)": token,
            "SLOTWISE_TWILIO_FROM": sender,
        }
        raise ImproperlyConfigured(
            "Text messages need SLOTWISE_TWILIO_ACCOUNT_SID, SLOTWISE_TWILIO_AUTH_TOKEN and "
            "SLOTWISE_TWILIO_FROM, all three or none; missing: "
            + ", ".join(name for name, value in given.items() if value is None)
            + "."
        )
    if not re.fullmatch(r"AC[0-9a-fA-F]{32}", sid):
        raise ImproperlyConfigured(
            "SLOTWISE_TWILIO_ACCOUNT_SID must be a Twilio account SID: AC and 32 hex digits."
        )
    if not (E164.fullmatch(sender) or re.fullmatch(r"MG[0-9a-fA-F]{32}", sender)):
        raise ImproperlyConfigured(
            "SLOTWISE_TWILIO_FROM must be a phone number such as +14155550100 or a "
            "messaging service SID (MG and 32 hex digits)."
        )
    url = (_get(environ, "SLOTWISE_TWILIO_API_URL") or TWILIO_API_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
        raise ImproperlyConfigured(
            "SLOTWISE_TWILIO_API_URL must be an address such as https://api.twilio.com, no path."
        )
    if production and parts.scheme != "https":
        raise ImproperlyConfigured("SLOTWISE_TWILIO_API_URL must be https:// in production.")
    return Twilio(account_sid=sid, auth_token=token, sender=sender, api_url=url)


def stripe(environ: Mapping[str, str], production: bool) -> Stripe | None:
    """The Stripe account for card payments, or ``None`` (no card payments) when none is set.

    ``SLOTWISE_STRIPE_SECRET_KEY`` (or ``_FILE``; ``sk_test_...``, ``sk_live_...``
    or a restricted ``rk_...`` key) and ``SLOTWISE_STRIPE_PUBLISHABLE_KEY``
    (``pk_...``, of the same mode) go together: both or none.
    ``SLOTWISE_STRIPE_WEBHOOK_SECRET`` (or ``_FILE``; ``whsec_...``, the signing
    secret of the webhook endpoint) lets slotwise hear of payments made after the
    customer left the page; production insists on it.
    ``SLOTWISE_STRIPE_API_URL`` (``https://api.stripe.com``) is only changed to
    talk to a Stripe-compatible test server; production insists on HTTPS, since
    the secret key travels with every request.

        SLOTWISE_STRIPE_SECRET_KEY_FILE=/run/secrets/stripe_secret_key
        SLOTWISE_STRIPE_PUBLISHABLE_KEY=pk_live_...
        SLOTWISE_STRIPE_WEBHOOK_SECRET_FILE=/run/secrets/stripe_webhook_secret
    """
    key = secret(environ, "SLOTWISE_STRIPE_SECRET_KEY")
    publishable = _get(environ, "SLOTWISE_STRIPE_PUBLISHABLE_KEY")
    webhook_secret = secret(environ, "SLOTWISE_STRIPE_WEBHOOK_SECRET")
    if key is None and publishable is None:
        if webhook_secret is not None:
            raise ImproperlyConfigured(
                "SLOTWISE_STRIPE_WEBHOOK_SECRET is set, but card payments need "
                "SLOTWISE_STRIPE_SECRET_KEY and SLOTWISE_STRIPE_PUBLISHABLE_KEY too."
            )
        return None
    if key is None or publishable is None:
        missing = (
            "SLOTWISE_STRIPE_SECRET_KEY (or _FILE)"
            if key is None
            else "SLOTWISE_STRIPE_PUBLISHABLE_KEY"
        )
        raise ImproperlyConfigured(
            "Card payments need SLOTWISE_STRIPE_SECRET_KEY and "
            f"SLOTWISE_STRIPE_PUBLISHABLE_KEY, both or none; missing: {missing}."
        )
    # The messages name the expected shape, never the value: it may be a live key.
    key_match = re.fullmatch(r"(?:sk|rk)_(test|live)_[0-9A-Za-z]+", key)
    if key_match is None:
        raise ImproperlyConfigured(
            "SLOTWISE_STRIPE_SECRET_KEY must be a Stripe secret key: sk_test_..., "
            "sk_live_... or a restricted rk_... key."
        )
    publishable_match = re.fullmatch(r"pk_(test|live)_[0-9A-Za-z]+", publishable)
    if publishable_match is None:
        raise ImproperlyConfigured(
            "SLOTWISE_STRIPE_PUBLISHABLE_KEY must be a Stripe publishable key: pk_test_... "
            "or pk_live_..."
        )
    if key_match[1] != publishable_match[1]:
        raise ImproperlyConfigured(
            "SLOTWISE_STRIPE_SECRET_KEY and SLOTWISE_STRIPE_PUBLISHABLE_KEY must both be "
            "test keys or both live keys."
        )
    if webhook_secret is None:
        if production:
            raise ImproperlyConfigured(
                "SLOTWISE_STRIPE_WEBHOOK_SECRET (or _FILE) is not set: without it slotwise "
                "cannot verify what Stripe tells it about payments."
            )
    elif not re.fullmatch(r"whsec_[0-9A-Za-z]+", webhook_secret):
        raise ImproperlyConfigured(
            "SLOTWISE_STRIPE_WEBHOOK_SECRET must be a webhook signing secret: whsec_..."
        )
    url = (_get(environ, "SLOTWISE_STRIPE_API_URL") or STRIPE_API_URL).rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path:
        raise ImproperlyConfigured(
            "SLOTWISE_STRIPE_API_URL must be an address such as https://api.stripe.com, no path."
        )
    if production and parts.scheme != "https":
        raise ImproperlyConfigured("SLOTWISE_STRIPE_API_URL must be https:// in production.")
    return Stripe(
        secret_key=key, publishable_key=publishable, webhook_secret=webhook_secret, api_url=url
    )


def _production_problems(
    secret_key: str | None,
    allowed_hosts: list[str],
    database_url: str | None,
    smtp_url: str | None,
) -> list[str]:
    problems = []
    if not secret_key:
        problems.append("SLOTWISE_SECRET_KEY (or SLOTWISE_SECRET_KEY_FILE) is not set.")
    elif secret_key == DEVELOPMENT_SECRET_KEY or secret_key.startswith("django-insecure-"):
        problems.append("SLOTWISE_SECRET_KEY is the public development key.")
    elif len(secret_key) < MIN_SECRET_KEY_LENGTH:
        problems.append(
            f"SLOTWISE_SECRET_KEY has {len(secret_key)} characters; "
            f"use at least {MIN_SECRET_KEY_LENGTH} random ones."
        )
    if not allowed_hosts:
        problems.append("SLOTWISE_ALLOWED_HOSTS is not set (a comma-separated list of host names).")
    if not database_url:
        problems.append("SLOTWISE_DATABASE_URL (or SLOTWISE_DATABASE_URL_FILE) is not set.")
    if not smtp_url:
        problems.append(
            "SLOTWISE_SMTP_URL (or SLOTWISE_SMTP_URL_FILE) is not set: "
            "customers would get no confirmations."
        )
    return problems


def calendar_minutes(environ: Mapping[str, str]) -> tuple[int, int]:
    """``SLOTWISE_CALENDAR_SYNC_MINUTES`` (5): how often the worker reads each external
    calendar; ``SLOTWISE_CALENDAR_MAX_AGE_MINUTES`` (15): how old a copy may be before a
    booking reads the calendar itself first."""
    sync = _int(environ, "SLOTWISE_CALENDAR_SYNC_MINUTES", default=5)
    age = _int(environ, "SLOTWISE_CALENDAR_MAX_AGE_MINUTES", default=15)
    if sync < 1:
        raise ImproperlyConfigured("SLOTWISE_CALENDAR_SYNC_MINUTES must be at least 1.")
    return sync, age


def encryption_keys(environ: Mapping[str, str]) -> list[str]:
    """``SLOTWISE_ENCRYPTION_KEYS`` (or ``_FILE``): Fernet keys, comma-separated, the
    one to encrypt with first (make one with ``python -c "from cryptography.fernet
    import Fernet; print(Fernet.generate_key().decode())"``). None set: a key
    derived from the secret key (:func:`slotwise.crypto.derived_key`)."""
    import base64
    import binascii

    keys = [k.strip() for k in (secret(environ, "SLOTWISE_ENCRYPTION_KEYS") or "").split(",")]
    keys = [k for k in keys if k]
    for key in keys:
        try:
            valid = len(base64.urlsafe_b64decode(key.encode())) == 32
        except (binascii.Error, ValueError):
            valid = False
        if not valid:
            raise ImproperlyConfigured(
                "SLOTWISE_ENCRYPTION_KEYS must be Fernet keys (32 bytes, URL-safe base64), "
                "comma-separated."
            )
    return keys


def secret(environ: Mapping[str, str], name: str) -> str | None:
    """The value of ``name``, or the contents of the file ``{name}_FILE`` names."""
    value = _get(environ, name)
    path = _get(environ, f"{name}_FILE")
    if path is None:
        return value
    if value is not None:
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both.")
    try:
        text = Path(path).read_text(encoding="utf-8").strip()
    except OSError as error:
        raise ImproperlyConfigured(f"{name}_FILE: cannot read {path}: {error.strerror}") from error
    if not text:
        raise ImproperlyConfigured(f"{name}_FILE: {path} is empty.")
    return text


def database(url: str) -> dict[str, Any]:
    """Django's ``DATABASES`` entry for ``url``, tuned for slotwise.

    SQLite gets WAL (readers do not block the writer), a 20 s busy timeout and
    ``BEGIN IMMEDIATE`` transactions, so two bookings racing for one slot
    queue for the write lock instead of failing halfway. Its directory is
    created if missing. PostgreSQL keeps connections for a minute, checked
    before reuse.
    """
    scheme = url.partition(":")[0].lower()
    if scheme in SQLITE_SCHEMES:
        config = dict(dj_database_url.parse(url))
        config["OPTIONS"] = {
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
        }
        name = str(config["NAME"])
        if name != ":memory:" and not name.startswith("file:"):
            Path(name).parent.mkdir(parents=True, exist_ok=True)
        return config
    if scheme in POSTGRES_SCHEMES:
        return dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
    # The URL may hold a password: name only its scheme.
    raise ImproperlyConfigured(
        f"SLOTWISE_DATABASE_URL: slotwise runs on PostgreSQL (postgres://...) or SQLite "
        f"(sqlite:///path), not {scheme!r}."
    )


# Email providers' APIs, through django-anymail: scheme -> (backend, what the user part is).
EMAIL_PROVIDERS = {
    "postmark": ("postmark", "server_token"),
    "sendgrid": ("sendgrid", "api_key"),
    "mailgun": ("mailgun", "api_key"),
    "brevo": ("brevo", "api_key"),
    "resend": ("resend", "api_key"),
}


def mailers(url: str | None) -> dict[str, dict[str, Any]]:
    """Django's ``MAILERS`` for an SMTP URL or an email provider's; without one
    (development only), mail is printed to the console.

    ``smtp://user:password@host:port`` talks plain SMTP (port 25 by default),
    ``smtp+starttls://`` upgrades with STARTTLS (587) and ``smtps://`` uses
    implicit TLS (465). User and password are percent-decoded.

    A provider's HTTP API, through django-anymail: ``postmark://TOKEN@``,
    ``sendgrid://KEY@``, ``mailgun://KEY@mg.example.com`` (the sending
    domain), ``brevo://KEY@``, ``resend://KEY@``; ``?api_url=...`` names
    another endpoint (a region, or a test server).
    """
    if url is None:
        return {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
    parts = urlsplit(url)
    if parts.scheme in EMAIL_PROVIDERS:
        return {"default": _provider_mailer(parts)}
    tls = {"smtp": {}, "smtp+starttls": {"use_tls": True}, "smtps": {"use_ssl": True}}
    if parts.scheme not in tls or not parts.hostname:
        raise ImproperlyConfigured(
            "SLOTWISE_SMTP_URL must look like smtp://, smtp+starttls:// or "
            "smtps://user:password@host:port, or name an email provider: "
            + ", ".join(f"{scheme}://" for scheme in EMAIL_PROVIDERS)
            + "."
        )
    options: dict[str, Any] = {"host": parts.hostname, "timeout": 10, **tls[parts.scheme]}
    try:
        if parts.port is not None:
            options["port"] = parts.port
    except ValueError as error:
        raise ImproperlyConfigured("SLOTWISE_SMTP_URL has an invalid port.") from error
    if parts.username:
        options["username"] = unquote(parts.username)
        options["password"] = unquote(parts.password or "")
    return {
        "default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend", "OPTIONS": options}
    }


def _provider_mailer(parts: SplitResult) -> dict[str, Any]:
    backend, credential = EMAIL_PROVIDERS[parts.scheme]
    if not parts.username:
        raise ImproperlyConfigured(
            f"SLOTWISE_SMTP_URL: {parts.scheme}:// needs the API key before '@', "
            f"e.g. {parts.scheme}://KEY@."
        )
    options: dict[str, Any] = {credential: unquote(parts.username)}
    if parts.scheme == "mailgun":
        if not parts.hostname:
            raise ImproperlyConfigured(
                "SLOTWISE_SMTP_URL: mailgun://KEY@DOMAIN needs the sending domain."
            )
        options["sender_domain"] = parts.hostname
    api_url = dict(parse_qsl(parts.query)).get("api_url")
    if api_url:
        options["api_url"] = api_url
    return {"BACKEND": f"anymail.backends.{backend}.EmailBackend", "OPTIONS": options}


def caches(url: str | None) -> dict[str, dict[str, Any]]:
    """Django's ``CACHES`` for ``SLOTWISE_CACHE_URL``; it holds the rate limit counters.

    Unset, the cache is a table of the database (:data:`CACHE_TABLE`), so
    that every server process counts together with no other service to run.
    ``redis://[:password@]host:6379/0`` (or ``rediss://``) is Redis, faster and
    recommended under load; ``locmem://`` keeps the cache in each process's
    memory, which is only right for a single process.
    """
    options: dict[str, Any] = {"MAX_ENTRIES": CACHE_MAX_ENTRIES}
    if url is None:
        return {
            "default": {
                # Django's database cache, with an atomic incr.
                "BACKEND": "slotwise.cache.DatabaseCache",
                "LOCATION": CACHE_TABLE,
                "KEY_PREFIX": "slotwise",
                "OPTIONS": options,
            }
        }
    scheme = url.partition(":")[0].lower()
    if scheme in REDIS_SCHEMES:
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": url,
                "KEY_PREFIX": "slotwise",
            }
        }
    if scheme == "locmem":
        return {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": urlsplit(url).netloc or "slotwise",
                "OPTIONS": options,
            }
        }
    # The URL may hold a password: name only its scheme.
    raise ImproperlyConfigured(
        f"SLOTWISE_CACHE_URL must be redis://host:6379/0 (or rediss://) or locmem://, "
        f"or unset for the database cache; not {scheme!r}."
    )


def rate_limits(value: str | None) -> dict[str, Rate] | None:
    """The public API's rate limits for ``SLOTWISE_RATE_LIMITS``; ``None`` when off.

    Unset (or ``on``) means :data:`DEFAULT_RATE_LIMITS`; ``off`` switches
    them off; otherwise a comma-separated list of overrides of the defaults,
    each ``NAME=REQUESTS/UNIT`` with a unit of ``s``, ``min`` or ``h``:

        SLOTWISE_RATE_LIMITS=client-read=300/min, org-write=50/s
    """
    if value is None or value.lower() in TRUE:
        return dict(DEFAULT_RATE_LIMITS)
    if value.lower() in FALSE:
        return None
    limits = dict(DEFAULT_RATE_LIMITS)
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, _, rate = (part.strip() for part in item.partition("="))
        if name not in DEFAULT_RATE_LIMITS:
            raise ImproperlyConfigured(
                f"SLOTWISE_RATE_LIMITS: unknown limit {name!r}; the limits are "
                f"{', '.join(DEFAULT_RATE_LIMITS)}."
            )
        match = re.fullmatch(r"([0-9]+)\s*/\s*([a-z]+)", rate.lower())
        if match is None or int(match[1]) < 1 or match[2] not in RATE_UNITS:
            raise ImproperlyConfigured(
                f"SLOTWISE_RATE_LIMITS: {name} must be a number of requests per s, min "
                f"or h, such as {name}=120/min; not {rate!r}."
            )
        limits[name] = Rate(int(match[1]), RATE_UNITS[match[2]])
    return limits


def _proxy_ssl_header(environ: Mapping[str, str]) -> tuple[str, str] | None:
    """``X-Forwarded-Proto`` becomes ``("HTTP_X_FORWARDED_PROTO", "https")``.

    Only set it behind a proxy that always sets (or strips) that header itself:
    otherwise any client can claim to have come over HTTPS.
    """
    header = _get(environ, "SLOTWISE_SECURE_PROXY_SSL_HEADER")
    if header is None:
        return None
    if not re.fullmatch(r"[A-Za-z0-9-]+", header):
        raise ImproperlyConfigured(
            "SLOTWISE_SECURE_PROXY_SSL_HEADER must be a header name such as X-Forwarded-Proto."
        )
    return ("HTTP_" + header.upper().replace("-", "_"), "https")


def _log_level(environ: Mapping[str, str]) -> str:
    level = (_get(environ, "SLOTWISE_LOG_LEVEL") or "INFO").upper()
    if level not in LOG_LEVELS:
        raise ImproperlyConfigured(f"SLOTWISE_LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}.")
    return level


def metrics_allow(value: str | None) -> list[IPv4Network | IPv6Network]:
    """The networks that may read ``/metrics`` without a token: this machine unless
    ``SLOTWISE_METRICS_ALLOW`` lists others (``10.0.0.0/8,127.0.0.1``), or ``none``."""
    if value is None:
        return [ip_network("127.0.0.0/8"), ip_network("::1/128")]
    if value.strip().lower() == "none":
        return []
    try:
        return [ip_network(item.strip(), strict=False) for item in value.split(",") if item.strip()]
    except ValueError as error:
        raise ImproperlyConfigured(f"SLOTWISE_METRICS_ALLOW: {error}") from None


def _log_format(environ: Mapping[str, str], production: bool) -> str:
    """``json`` (one object per line, for a log collector: the default in production)
    or ``plain`` (for people: the default in development)."""
    chosen = (_get(environ, "SLOTWISE_LOG_FORMAT") or ("json" if production else "plain")).lower()
    if chosen not in ("json", "plain"):
        raise ImproperlyConfigured("SLOTWISE_LOG_FORMAT must be 'json' or 'plain'.")
    return chosen


def _get(environ: Mapping[str, str], name: str) -> str | None:
    return environ.get(name, "").strip() or None


def _list(environ: Mapping[str, str], name: str) -> list[str]:
    return [item.strip() for item in (_get(environ, name) or "").split(",") if item.strip()]


def _bool(environ: Mapping[str, str], name: str, *, default: bool) -> bool:
    value = _get(environ, name)
    if value is None:
        return default
    if value.lower() in TRUE:
        return True
    if value.lower() in FALSE:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def _int(environ: Mapping[str, str], name: str, *, default: int) -> int:
    value = _get(environ, name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise ImproperlyConfigured(f"{name} must be a whole number of zero or more, not {value!r}.")
    return number
