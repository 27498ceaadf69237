"""Is this deployment able to serve? The checks behind ``/readyz``.

``/healthz`` only says the process answers and reaches its database (for a
load balancer's liveness probe). ``/readyz`` says whether the deployment can
do its work: the database answers, every migration is applied, and a worker
has said it is alive within :data:`WORKER_SILENT_AFTER`; otherwise 503 with
the failing check named, for an orchestrator to keep traffic away.

Workers call :func:`beat` every minute from their sweep.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from slotwise.operations.models import Heartbeat

__all__ = [
    "WORKER_SILENT_AFTER",
    "Check",
    "beat",
    "database_check",
    "migrations_check",
    "process_name",
    "readiness",
    "readyz",
    "worker_check",
]

WORKER_SILENT_AFTER = timedelta(minutes=3)
"""Three missed beats: a worker silent this long is taken for gone."""

FORGET_AFTER = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    detail: str


def process_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def beat(process: str, now: datetime) -> None:
    """Record that the worker ``process`` is alive at ``now``; forget workers long gone."""
    updated = Heartbeat.objects.filter(process=process).update(seen_at=now)
    if not updated:
        Heartbeat.objects.update_or_create(
            process=process,
            defaults={"seen_at": now},
            create_defaults={"started_at": now, "seen_at": now},
        )
    Heartbeat.objects.filter(seen_at__lt=now - FORGET_AFTER).delete()


def database_check() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        return Check("database", False, f"not reachable: {error}".strip())
    return Check("database", True, f"{connection.vendor} reachable")


def migrations_check() -> Check:
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as error:
        return Check("migrations", False, f"could not be read: {error}".strip())
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:3])
        more = f" and {len(plan) - 3} more" if len(plan) > 3 else ""
        return Check(
            "migrations", False, f"{len(plan)} not applied ({names}{more}): run slotwise migrate"
        )
    return Check("migrations", True, "all applied")


def worker_check(now: datetime) -> Check:
    try:
        newest = Heartbeat.objects.order_by("-seen_at").first()
        alive = Heartbeat.objects.filter(seen_at__gte=now - WORKER_SILENT_AFTER).count()
    except DatabaseError as error:
        return Check("worker", False, f"could not be read: {error}".strip())
    if newest is None:
        return Check("worker", False, "no worker has ever run: start slotwise worker")
    if not alive:
        silent = int((now - newest.seen_at).total_seconds() // 60)
        return Check("worker", False, f"none seen for {silent} minutes (last: {newest.process})")
    return Check("worker", True, f"{alive} alive")


def readiness(now: datetime) -> list[Check]:
    """The database first: without it the other checks say nothing new."""
    database = database_check()
    if not database.ok:
        return [database]
    return [database, migrations_check(), worker_check(now)]


@never_cache
@require_safe
def readyz(request: HttpRequest) -> JsonResponse:
    """200 ``{"status": "ready", "checks": {...}}`` when every check passes, else 503."""
    checks = readiness(timezone.now())
    ready = all(check.ok for check in checks)
    return JsonResponse(
        {
            "status": "ready" if ready else "unavailable",
            "checks": {c.name: {"ok": c.ok, "detail": c.detail} for c in checks},
        },
        status=200 if ready else 503,
    )
