"""Prometheus metrics at ``/metrics``.

Two kinds:

- counted where they happen, in whichever process: bookings created
  (``slotwise_bookings_created_total``, by status), slots refused because they
  were taken (``slotwise_booking_conflicts_total``), slot-query latency
  (``slotwise_slot_query_seconds``) and payment webhooks rejected
  (``slotwise_payment_webhook_failures_total``, by provider). Under gunicorn
  these are kept per process in ``PROMETHEUS_MULTIPROC_DIR`` (``slotwise
  serve`` sets it) and summed when scraped;
- read from the database when scraped, so every process and machine agrees:
  the outbox (``slotwise_outbox_pending``, ``slotwise_outbox_lag_seconds``:
  how late the most overdue message is, ``slotwise_outbox_failed``),
  ``slotwise_calendar_sync_age_seconds`` per calendar connection, and
  ``slotwise_worker_heartbeat_age_seconds``.

``/metrics`` answers only to the addresses in ``SLOTWISE_METRICS_ALLOW``
(default: this machine), or to a bearer token ``SLOTWISE_METRICS_TOKEN``;
anyone else gets 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

__all__ = [
    "BOOKINGS_CREATED",
    "BOOKING_CONFLICTS",
    "PAYMENT_WEBHOOK_FAILURES",
    "SLOT_QUERY_SECONDS",
    "booking_created",
    "metrics_view",
]

BOOKINGS_CREATED = Counter(
    "slotwise_bookings_created", "Bookings created, by their first status.", ["status"]
)
BOOKING_CONFLICTS = Counter(
    "slotwise_booking_conflicts", "Bookings refused because the slot was taken meanwhile."
)
SLOT_QUERY_SECONDS = Histogram(
    "slotwise_slot_query_seconds",
    "Time to compute a service's slots for a range of dates.",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)
PAYMENT_WEBHOOK_FAILURES = Counter(
    "slotwise_payment_webhook_failures",
    "Payment provider webhooks rejected (bad signature, unreadable).",
    ["provider"],
)


def booking_created(status: str) -> None:
    """Count a booking once its transaction has committed (never one rolled back)."""
    transaction.on_commit(lambda: BOOKINGS_CREATED.labels(status=status).inc())


class DatabaseCollector(Collector):
    """What the database says, read at each scrape."""

    def collect(self) -> Iterator[GaugeMetricFamily]:
        now = timezone.now()
        try:
            yield from _outbox(now)
            yield from _calendars(now)
            yield from _workers(now)
        except DatabaseError:  # the process metrics still answer
            return


def _outbox(now: datetime) -> Iterator[GaugeMetricFamily]:
    from django.db.models import Min

    from slotwise.notifications.models import Message, MessageStatus
    from slotwise.organizations.tenancy import unscoped

    with unscoped():
        waiting = Message.objects.filter(
            status__in=(MessageStatus.PENDING, MessageStatus.SENDING), next_attempt_at__lte=now
        )
        pending = waiting.count()
        oldest = waiting.aggregate(oldest=Min("next_attempt_at"))["oldest"]
        failed = Message.objects.filter(status=MessageStatus.FAILED).count()
    yield GaugeMetricFamily(
        "slotwise_outbox_pending", "Messages due and not yet sent.", value=pending
    )
    yield GaugeMetricFamily(
        "slotwise_outbox_lag_seconds",
        "How long the most overdue message has been due (0 when none is).",
        value=max(0.0, (now - oldest).total_seconds()) if oldest else 0.0,
    )
    yield GaugeMetricFamily(
        "slotwise_outbox_failed", "Messages given up on after their last attempt.", value=failed
    )


def _calendars(now: datetime) -> Iterator[GaugeMetricFamily]:
    from slotwise.calendars.models import CalendarConnection
    from slotwise.organizations.tenancy import unscoped

    family = GaugeMetricFamily(
        "slotwise_calendar_sync_age_seconds",
        "Seconds since a calendar connection was last read (since it was made, if never).",
        labels=["connection", "organization", "resource"],
    )
    with unscoped():
        rows = CalendarConnection.objects.filter(active=True).values_list(
            "pk", "organization__slug", "resource__name", "last_success_at", "created_at"
        )
        for pk, organization, resource, last, created in rows:
            family.add_metric(
                [str(pk), organization, resource], (now - (last or created)).total_seconds()
            )
    yield family


def _workers(now: datetime) -> Iterator[GaugeMetricFamily]:
    from slotwise.operations.models import Heartbeat

    newest = Heartbeat.objects.order_by("-seen_at").values_list("seen_at", flat=True).first()
    if newest is not None:
        yield GaugeMetricFamily(
            "slotwise_worker_heartbeat_age_seconds",
            "Seconds since a worker last said it was alive.",
            value=(now - newest).total_seconds(),
        )


def registry() -> CollectorRegistry:
    """The process's own metrics, or every process's under gunicorn, plus the database's."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        collected = CollectorRegistry()
        multiprocess.MultiProcessCollector(collected)
    else:
        from prometheus_client import REGISTRY

        collected = CollectorRegistry()
        collected.register(_Forward(REGISTRY))
    collected.register(DatabaseCollector())
    return collected


class _Forward(Collector):
    def __init__(self, source: CollectorRegistry) -> None:
        self.source = source

    def collect(self) -> Iterator[Any]:
        return iter(self.source.collect())


@never_cache
@require_safe
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        raise Http404
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)


def _allowed(request: HttpRequest) -> bool:
    token = settings.SLOTWISE_METRICS_TOKEN
    offered = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(offered.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR", ""))
    except ValueError:
        return False
    # A request relayed by a proxy on this machine is someone else's: only the
    # direct address counts, and only if no proxy says it forwarded it.
    if "HTTP_X_FORWARDED_FOR" in request.META:
        return False
    return any(address in network for network in settings.SLOTWISE_METRICS_ALLOW)
