"""Django settings for slotwise.

Everything that differs between installations comes from the environment
through ``slotwise.config``; the README lists the variables. What is written
here holds for every installation.
"""

import os

from django.utils.csp import CSP

from slotwise import config

deployment = config.load(os.environ)

DEBUG = deployment.debug
SLOTWISE_PRODUCTION = deployment.production
SECRET_KEY = deployment.secret_key
ALLOWED_HOSTS = deployment.allowed_hosts

INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",
    "django_tasks_db",
    "slotwise.organizations",
    "slotwise.catalog",
    "slotwise.bookings",
    "slotwise.calendars",
    "slotwise.availability",
    "slotwise.audit",
    "slotwise.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "slotwise.audit.context.AuditOriginMiddleware",
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
# How many proxies in front of slotwise append to X-Forwarded-For; 0 trusts none of it.
SLOTWISE_TRUSTED_PROXIES = deployment.trusted_proxies

TIME_ZONE = "UTC"
USE_TZ = True
LANGUAGE_CODE = "en"
USE_I18N = True

STATIC_URL = "/static/"
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
DEFAULT_FROM_EMAIL = deployment.from_email
SERVER_EMAIL = deployment.from_email

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
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
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
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "formatter": "plain",
        },
    },
    "root": {"handlers": ["stderr"], "level": deployment.log_level},
    "loggers": {
        # Replaces Django's own handlers, so each record is written once.
        "django": {"handlers": ["stderr"], "level": deployment.log_level, "propagate": False},
        "django.db.backends": {"level": "WARNING"},
    },
}
