"""Django settings for slotwise.

Everything that differs between installations comes from the environment
through ``slotwise.config``; the README lists the variables. What is written
here holds for every installation.
"""

import os
from datetime import timedelta
from pathlib import Path

from django.utils.csp import CSP

from slotwise import config

deployment = config.load(os.environ)

DEBUG = deployment.debug
SLOTWISE_PRODUCTION = deployment.production
SECRET_KEY = deployment.secret_key
ALLOWED_HOSTS = deployment.allowed_hosts

INSTALLED_APPS = [
    # The admin's templates and views, on slotwise.operations.admin.site only.
    "django.contrib.admin.apps.SimpleAdminConfig",
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_tasks_db",
    "allauth",
    "allauth.account",
    "allauth.mfa",
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

MIDDLEWARE = [
    # First: every record logged while a request runs carries its id.
    "slotwise.operations.logs.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Every request starts with no organization: queries must name one.
    "slotwise.organizations.tenancy.TenantMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Pages speak the visitor's language (session, cookie, Accept-Language); the API
    # answers in English whatever they ask (slotwise.web.i18n.ApiInEnglishMiddleware).
    "django.middleware.locale.LocaleMiddleware",
    "slotwise.web.i18n.ApiInEnglishMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "slotwise.audit.context.AuditOriginMiddleware",
    "slotwise.accounts.sessions.SessionTimeoutMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "slotwise.accounts.mfa.RequireMfaMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
]

ROOT_URLCONF = "slotwise.urls"
WSGI_APPLICATION = "slotwise.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": deployment.database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# The cache holds the rate limit counters of the public API (slotwise.api.ratelimits):
# a database table unless SLOTWISE_CACHE_URL names Redis. None means no limits.
CACHES = deployment.caches
SLOTWISE_RATE_LIMITS = deployment.rate_limits
# Who may read /metrics (slotwise.operations.metrics): these networks, or the bearer token.
SLOTWISE_METRICS_ALLOW = deployment.metrics_allow
SLOTWISE_METRICS_TOKEN = deployment.metrics_token
# How many proxies in front of slotwise append to X-Forwarded-For; 0 trusts none of it.
SLOTWISE_TRUSTED_PROXIES = deployment.trusted_proxies

# People sign in with an email address, through django-allauth (sign-up, email
# verification, password reset, TOTP two-factor with recovery codes).
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    # Only to read hashes made before Argon2; they are upgraded at the next sign-in.
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    # The 20,000 most common passwords, as leaked in breaches.
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "dashboard:home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
# The same answers whether or not an email has an account.
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = "[slotwise] "
ACCOUNT_DEFAULT_HTTP_PROTOCOL = "https" if deployment.production else "http"
# Failed sign-ins are limited per address and per account; sign-ups and resets per address.
ACCOUNT_RATE_LIMITS = {
    "login_failed": "10/m/ip,5/5m/key",
    "login": "30/m/ip",
    "signup": "20/m/ip",
    "reset_password": "20/m/ip,5/m/key",
    "reset_password_from_key": "20/m/ip",
    "confirm_email": "1/3m/key",
    "change_password": "5/m/user",
}
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = "slotwise"

# A session ends after this long idle, or this long after its sign-in.
SLOTWISE_SESSION_IDLE_TIMEOUT = timedelta(hours=2)
SLOTWISE_SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=12)
SESSION_COOKIE_AGE = int(SLOTWISE_SESSION_ABSOLUTE_TIMEOUT.total_seconds())

TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_CODE = "en"
USE_I18N = True
# The languages of the pages and messages; translations in slotwise/locale.
LANGUAGES = [("en", "English"), ("de", "Deutsch"), ("es", "Español")]
LOCALE_PATHS = [Path(__file__).resolve().parent / "locale"]
# A form sent without a valid CSRF token gets a page that says what to do.
CSRF_FAILURE_VIEW = "slotwise.web.errors.csrf_failure"

STATIC_URL = "/static/"
# Where slotwise keeps its files: the SQLite database, backups, collected static files.
SLOTWISE_VAR_DIR = deployment.var_dir
STATIC_ROOT = deployment.var_dir / "static"
MEDIA_ROOT = deployment.var_dir / "media"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            # Hashed, compressed copies made by `slotwise manage collectstatic`.
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if deployment.production
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
# In development whitenoise serves straight from the apps, no collectstatic needed.
WHITENOISE_USE_FINDERS = not deployment.production
WHITENOISE_AUTOREFRESH = not deployment.production

MAILERS = deployment.mailers
# Where people reach slotwise: the links in messages start with it.
SLOTWISE_SITE_URL = deployment.site_url
DEFAULT_FROM_EMAIL = deployment.from_email
SERVER_EMAIL = deployment.from_email
# Text messages to customers go through this Twilio account; None sends none.
SLOTWISE_TWILIO = deployment.twilio
# Card payments go through this Stripe account (slotwise.config.Stripe); None takes none.
SLOTWISE_STRIPE = deployment.stripe
# Stripe.js, loaded by the payment page only (whose policy alone lets its origin in);
# changed only to test against a stand-in.
SLOTWISE_STRIPE_JS_URL = os.environ.get("SLOTWISE_STRIPE_JS_URL") or "https://js.stripe.com/v3/"
# Keys that encrypt stored secrets (calendar passwords and feed addresses): slotwise.crypto.
SLOTWISE_ENCRYPTION_KEYS = config.encryption_keys(os.environ)
# External calendars: read every few minutes; a booking reads them itself when older.
SLOTWISE_CALENDAR_SYNC_MINUTES, SLOTWISE_CALENDAR_MAX_AGE_MINUTES = config.calendar_minutes(
    os.environ
)

# Security headers on every response. The policy allows scripts and styles only
# from our own origin or carrying the per-response nonce (`{{ csp_nonce }}` in
# templates); never inline attributes or eval. No site may frame a page, except
# for views marked `slotwise.web.framing.embeddable`.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF, CSP.NONCE],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# Scripts take the CSRF token from the page (a form field or a data attribute,
# as the API docs page does), never from the cookie.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"

SECURE_PROXY_SSL_HEADER = deployment.secure_proxy_ssl_header
if deployment.production:
    SECURE_SSL_REDIRECT = True
    # Load balancers probe over plain HTTP.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^readyz$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = deployment.hsts_seconds
    # slotwise often runs on one subdomain of a business's domain: whether every
    # sibling is HTTPS-only is for the operator to declare, not for us.
    SECURE_HSTS_INCLUDE_SUBDOMAINS = False
    SECURE_HSTS_PRELOAD = False
    SILENCED_SYSTEM_CHECKS = ["security.W005", "security.W021"]

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "slotwise.operations.logs.RequestIdFilter"}},
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name} [{request_id}]: {message}", "style": "{"},
        # One JSON object per line (slotwise.operations.logs), for a log collector.
        "json": {"()": "slotwise.operations.logs.JsonFormatter"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": deployment.log_format,
            "filters": ["request_id"],
        },
    },
    "root": {"handlers": ["stderr"], "level": deployment.log_level},
    "loggers": {
        # Replaces Django's own handlers, so each record is written once.
        "django": {"handlers": ["stderr"], "level": deployment.log_level, "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}

# Errors and slow requests to Sentry, through its SDK, when a DSN is set. Nothing
# personal is sent: no cookies, no form data, no user details.
if deployment.sentry_dsn:
    import sentry_sdk
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=deployment.sentry_dsn,
        integrations=[DjangoIntegration()],
        environment="production" if deployment.production else "development",
        send_default_pii=False,
        traces_sample_rate=float(os.environ.get("SLOTWISE_SENTRY_TRACES_SAMPLE_RATE") or 0),
    )
