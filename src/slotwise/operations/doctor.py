"""``slotwise doctor``: a running deployment checks itself and says what is wrong.

Each check prints one line, ``PASS``, ``FAIL`` or ``SKIP`` (not applicable
here, e.g. TLS for a plain-HTTP address on this machine), its name and what
it found. The command exits 1 if any check fails, so a monitoring system can
run it every few minutes and alert on the exit status.

The checks read the database and ask the public address over HTTP; they
change nothing.
"""

from __future__ import annotations

import io
import re
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["CERTIFICATE_MIN_DAYS", "Result", "run_checks"]

CERTIFICATE_MIN_DAYS = 14
"""A certificate expiring sooner than this fails: time to see why it was not renewed."""

OUTBOX_LATE_AFTER = timedelta(minutes=5)
RECENT = timedelta(hours=24)
PAYMENT_WEBHOOK_WINDOW = timedelta(days=7)
TZDATA_MAX_AGE_YEARS = 1

# Headers every page of ours sends (slotwise.settings); a proxy that drops one shows here.
SECURITY_HEADERS = {
    "content-security-policy": None,
    "x-content-type-options": "nosniff",
    "referrer-policy": None,
    "cross-origin-opener-policy": None,
}


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    status: str  # "pass", "fail" or "skip"
    detail: str

    def line(self) -> str:
        return f"{self.status.upper():<4}  {self.name}: {self.detail}"


def run_checks(
    now: datetime, url: str | None, *, ca_file: str | None = None, timeout: float = 10.0
) -> list[Result]:
    """Every check, in the order an operator would look: configuration, data, services,
    then what the world sees."""
    from slotwise.operations import health

    results = [_deploy_check()]
    database = health.database_check()
    results.append(_from_check(database))
    if database.ok:
        results.append(_from_check(health.migrations_check()))
        results.append(_from_check(health.worker_check(now)))
        for check in (_outbox_backlog, _outbox_failures, _calendars, _webhooks, _payment_webhooks):
            results.append(_guarded(check, now))
    results.append(_tzdata(now))
    if url:
        results.extend(_public(url, now, ca_file=ca_file, timeout=timeout))
    else:
        results.append(Result("public address", "skip", "no address: set SLOTWISE_SITE_URL"))
    return results


def _from_check(check: object) -> Result:
    return Result(check.name, "pass" if check.ok else "fail", check.detail)  # type: ignore[attr-defined]


def _guarded(check: Callable[[datetime], Result], now: datetime) -> Result:
    from django.db import DatabaseError

    try:
        return check(now)
    except DatabaseError as error:
        return Result(check.__name__.strip("_").replace("_", " "), "fail", str(error).strip())


def _deploy_check() -> Result:
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    out = io.StringIO()
    try:
        call_command("check", deploy=True, fail_level="WARNING", stdout=out, stderr=out)
    except SystemCheckError as error:
        ids = sorted(set(re.findall(r"\(([a-z_]+\.[A-Z]\d+)\)", str(error))))
        return Result("check --deploy", "fail", f"{len(ids) or 'some'} issue(s): {', '.join(ids)}")
    return Result("check --deploy", "pass", "no issues")


def _outbox_backlog(now: datetime) -> Result:
    from slotwise.notifications.models import Message, MessageStatus
    from slotwise.organizations.tenancy import unscoped

    with unscoped():
        late = Message.objects.filter(
            status__in=(MessageStatus.PENDING, MessageStatus.SENDING),
            next_attempt_at__lt=now - OUTBOX_LATE_AFTER,
        )
        count = late.count()
        oldest = late.order_by("next_attempt_at").values_list("next_attempt_at", flat=True).first()
    if not count:
        return Result("outbox backlog", "pass", "nothing late")
    minutes = int((now - oldest).total_seconds() // 60) if oldest else 0
    return Result(
        "outbox backlog", "fail", f"{count} message(s) late, the oldest by {minutes} minutes"
    )


def _outbox_failures(now: datetime) -> Result:
    from slotwise.notifications.models import Message, MessageStatus
    from slotwise.organizations.tenancy import unscoped

    with unscoped():
        failed = Message.objects.filter(status=MessageStatus.FAILED, created_at__gte=now - RECENT)
        count = failed.count()
    if not count:
        return Result("outbox failures", "pass", "none in the last 24 hours")
    return Result("outbox failures", "fail", f"{count} message(s) failed in the last 24 hours")


def _calendars(now: datetime) -> Result:
    from django.conf import settings

    from slotwise.calendars.models import CalendarConnection
    from slotwise.organizations.tenancy import unscoped

    allowed = timedelta(
        minutes=max(3 * settings.SLOTWISE_CALENDAR_SYNC_MINUTES, 2 * _max_age_minutes())
    )
    with unscoped():
        connections = CalendarConnection.objects.filter(active=True, created_at__lt=now - allowed)
        stale = [
            c
            for c in connections.only("name", "last_success_at")
            if c.last_success_at is None or c.last_success_at < now - allowed
        ]
    if not stale:
        return Result("calendar sync", "pass", f"every connection read within {_minutes(allowed)}")
    names = ", ".join(c.name for c in stale[:3]) + (" ..." if len(stale) > 3 else "")
    return Result(
        "calendar sync",
        "fail",
        f"{len(stale)} connection(s) not read within {_minutes(allowed)}: {names}",
    )


def _max_age_minutes() -> int:
    from django.conf import settings

    return int(settings.SLOTWISE_CALENDAR_MAX_AGE_MINUTES)


def _webhooks(now: datetime) -> Result:
    from slotwise.notifications.models import Message, MessageKind, MessageStatus
    from slotwise.organizations.tenancy import unscoped

    with unscoped():
        failed = Message.objects.filter(
            kind=MessageKind.WEBHOOK, status=MessageStatus.FAILED, created_at__gte=now - RECENT
        )
        count = failed.count()
        endpoints = len(set(failed.values_list("recipient", flat=True)[:100]))
    if not count:
        return Result("webhook deliveries", "pass", "none failed in the last 24 hours")
    return Result(
        "webhook deliveries",
        "fail",
        f"{count} delivery(ies) to {endpoints} endpoint(s) failed in the last 24 hours",
    )


def _payment_webhooks(now: datetime) -> Result:
    """Stripe confirms payments by webhook: payments taken but no event received means
    its webhooks are not reaching slotwise (wrong URL or secret)."""
    from django.conf import settings

    from slotwise.organizations.tenancy import unscoped
    from slotwise.payments.models import Payment, ProviderEvent

    if settings.SLOTWISE_STRIPE is None:
        return Result("payment webhooks", "skip", "Stripe is not set up")
    since = now - PAYMENT_WEBHOOK_WINDOW
    with unscoped():
        taken = Payment.objects.filter(provider="stripe", created_at__gte=since).count()
        heard = ProviderEvent.objects.filter(provider="stripe", received_at__gte=since).count()
    if taken and not heard:
        return Result(
            "payment webhooks",
            "fail",
            f"{taken} Stripe payment(s) in 7 days but no webhook received: check the endpoint "
            "and SLOTWISE_STRIPE_WEBHOOK_SECRET",
        )
    return Result("payment webhooks", "pass", f"{heard} event(s) received in 7 days")


def _tzdata(now: datetime) -> Result:
    """The IANA time zone data in use, and whether it is older than a year: rules change
    (a country drops DST) and old data shows wrong local times."""
    version = tzdata_version()
    if version is None:
        return Result("time zone data", "fail", "no IANA time zone data found")
    try:
        year = int(version[:4])
    except ValueError:
        return Result("time zone data", "fail", f"unreadable version {version!r}")
    if now.year - year > TZDATA_MAX_AGE_YEARS:
        return Result(
            "time zone data", "fail", f"version {version} is old: upgrade tzdata (pip/apt)"
        )
    return Result("time zone data", "pass", f"version {version}")


def tzdata_version() -> str | None:
    """The version of the time zone data ``zoneinfo`` reads: the system's if it has
    one (``tzdata.zi`` in ``zoneinfo.TZPATH``), else the ``tzdata`` package's."""
    import zoneinfo

    for directory in zoneinfo.TZPATH:
        zi = Path(directory) / "tzdata.zi"
        if zi.is_file():
            with zi.open(encoding="ascii", errors="replace") as lines:
                first = lines.readline()
            if first.startswith("# version "):
                return first.removeprefix("# version ").strip()
    try:
        import tzdata
    except ImportError:
        return None
    return str(tzdata.IANA_VERSION)


def _public(url: str, now: datetime, *, ca_file: str | None, timeout: float) -> list[Result]:
    import requests

    parts = urlsplit(url)
    results = []
    try:
        answer = requests.get(
            url.rstrip("/") + "/healthz",
            timeout=timeout,
            allow_redirects=False,
            verify=ca_file or True,
        )
    except requests.RequestException as error:
        return [Result("public address", "fail", f"{url} did not answer: {error}")]
    if answer.status_code != 200:
        results.append(
            Result("public address", "fail", f"{url}/healthz answered {answer.status_code}")
        )
    else:
        results.append(Result("public address", "pass", f"{url} answers"))
    headers = {k.lower(): v for k, v in answer.headers.items()}
    missing = [
        name
        for name, wanted in SECURITY_HEADERS.items()
        if name not in headers or (wanted and headers[name].lower() != wanted)
    ]
    if parts.scheme == "https" and "strict-transport-security" not in headers:
        missing.append("strict-transport-security")
    if missing:
        results.append(Result("security headers", "fail", "missing: " + ", ".join(missing)))
    else:
        results.append(Result("security headers", "pass", "all present"))
    results.append(_certificate(parts.hostname or "", parts.port, parts.scheme, now, ca_file))
    return results


def _certificate(
    host: str, port: int | None, scheme: str, now: datetime, ca_file: str | None
) -> Result:
    if scheme != "https":
        if host in ("localhost", "127.0.0.1", "::1"):
            return Result("TLS certificate", "skip", "plain HTTP on this machine")
        return Result("TLS certificate", "fail", "the public address is not HTTPS")
    context = ssl.create_default_context(cafile=ca_file)
    try:
        with (
            socket.create_connection((host, port or 443), timeout=10) as raw,
            context.wrap_socket(raw, server_hostname=host) as tls,
        ):
            certificate = tls.getpeercert()
    except (OSError, ssl.SSLError) as error:
        return Result("TLS certificate", "fail", f"not valid: {error}")
    expires = datetime.fromtimestamp(ssl.cert_time_to_seconds(str(certificate["notAfter"])), tz=UTC)
    days = (expires - now).days
    if days < CERTIFICATE_MIN_DAYS:
        return Result("TLS certificate", "fail", f"expires in {days} days ({expires:%Y-%m-%d})")
    return Result("TLS certificate", "pass", f"valid for {days} more days")


def _minutes(span: timedelta) -> str:
    return f"{int(span.total_seconds() // 60)} minutes"
