"""The slots endpoint over HTTP: gunicorn, one worker, a throwaway PostgreSQL database.

:func:`measure` creates a database with a unique name, migrates it with
``slotwise migrate``, loads the benchmark scenario (the one of
``bench/scenario.py``, moved to start tomorrow because the server reads the
real clock), starts gunicorn with one worker on a free port, waits for
``/healthz``, then asks for 30 days of slots in America/New_York ``runs``
times. The server and the database go away at the end, also on failure.

    python bench/slots_http.py       # prints "name: value ms" lines

``SLOTWISE_BENCH_POSTGRES_URL`` names the server and a database to connect to
for creating the throwaway one (default ``postgres://postgres@127.0.0.1:5432/postgres``).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
CUSTOMER_ZONE = "America/New_York"
PROVIDER_ZONE = "Europe/Berlin"
DAYS = 30
BOOKINGS = 500
EVENTS = 100
WARMUP = 20
STARTUP_SECONDS = 30


def measure(runs: int = 200) -> dict[str, float]:
    """Percentiles, in milliseconds, of ``runs`` GETs of the 30-day slots query.

    ``slots_http_healthz_p50_ms`` is the median of as many GETs of ``/healthz``
    on the same server: what any request costs there, to read the others against
    on a busy machine.
    """
    with throwaway_database(postgres_admin_url()) as database_url:
        env = server_env(database_url)
        run_command([sys.executable, "-m", "slotwise", "migrate"], env)
        scenario = json.loads(
            run_command([sys.executable, str(Path(__file__).resolve()), "--load"], env)
        )
        query = urlencode(
            {"start": scenario["first"], "end": scenario["last"], "tz": CUSTOMER_ZONE}, safe="/"
        )
        with gunicorn(env) as base:
            url = f"{base}/api/v1/services/{scenario['service_id']}/slots?{query}"
            _check(url)
            samples = _timed(url, runs)
            # The same server's floor: one request doing one query, no slot work.
            floor = _timed(f"{base}/healthz", runs)
    cuts = statistics.quantiles(samples, n=100, method="inclusive")
    return {
        "slots_http_p50_ms": cuts[49],
        "slots_http_p95_ms": cuts[94],
        "slots_http_p99_ms": cuts[98],
        "slots_http_healthz_p50_ms": statistics.median(floor),
    }


def _timed(url: str, runs: int) -> list[float]:
    """Milliseconds of ``runs`` GETs of ``url``, after a few to warm up."""
    for _ in range(WARMUP):
        _get(url)
    samples = []
    for _ in range(runs):
        begin = time.perf_counter()
        _get(url)
        samples.append((time.perf_counter() - begin) * 1000)
    return samples


def postgres_admin_url() -> str:
    """The server to make throwaway databases on, and a database to connect to there."""
    return os.environ.get("SLOTWISE_BENCH_POSTGRES_URL") or DEFAULT_POSTGRES_URL


@contextmanager
def throwaway_database(admin_url: str) -> Iterator[str]:
    """A new, empty database on the server of ``admin_url``; dropped afterwards."""
    import psycopg
    from psycopg import sql

    name = f"slotwise_bench_{os.getpid()}_{secrets.token_hex(4)}"
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunsplit(urlsplit(admin_url)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin_url, autocommit=True) as admin:
            # FORCE: a connection the server left behind must not keep it alive.
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def gunicorn(env: dict[str, str], *, workers: int = 1, threads: int = 1) -> Iterator[str]:
    """gunicorn serving slotwise on a free port; yields its base URL.

    One worker process by default; ``threads`` above one makes each a threaded
    worker serving that many requests at once.
    """
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(  # noqa: S603 (our interpreter, fixed arguments)
            [
                sys.executable,
                "-m",
                "gunicorn",
                "slotwise.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                str(workers),
                "--threads",
                str(threads),
                "--log-level",
                "warning",
            ],
            env=env,
            cwd=ROOT,
            stdout=log,
            stderr=log,
        )
        try:
            _wait_until_healthy(base, server, log)
            yield base
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _wait_until_healthy(base: str, server: subprocess.Popen[bytes], log: object) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if server.poll() is not None:
            log.seek(0)  # type: ignore[attr-defined]
            output = log.read().decode(errors="replace")  # type: ignore[attr-defined]
            raise RuntimeError(f"gunicorn exited with {server.returncode}:\n{output}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"gunicorn did not answer /healthz within {STARTUP_SECONDS} s")


def _check(url: str) -> None:
    """The answer is what the scenario promises: every date, and some slots."""
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our own server)
        body = json.loads(response.read())
    slots = sum(len(day["slots"]) for day in body["days"])
    if len(body["days"]) != DAYS or not slots:
        raise RuntimeError(f"unexpected answer: {len(body['days'])} days, {slots} slots")


def _get(url: str) -> None:
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (our own server)
        response.read()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_env(database_url: str) -> dict[str, str]:
    """The environment slotwise runs in against ``database_url``, as a deployment would."""
    inherited = {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE_")}
    python_path = os.pathsep.join(filter(None, [str(ROOT / "src"), os.environ.get("PYTHONPATH")]))
    return {
        **inherited,
        "DJANGO_SETTINGS_MODULE": "slotwise.settings",
        "PYTHONPATH": python_path,
        "SLOTWISE_ENV": "development",
        # Debug mode keeps every query in memory; a server under load runs without it.
        "SLOTWISE_DEBUG": "false",
        "SLOTWISE_LOG_LEVEL": "WARNING",
        "SLOTWISE_DATABASE_URL": database_url,
        # The clients all come from 127.0.0.1; the figures measure slotwise, not its limits.
        "SLOTWISE_RATE_LIMITS": "off",
    }


def run_command(command: list[str], env: dict[str, str]) -> str:
    """Run ``command`` from the project's root; its output, or an error with both streams."""
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)  # noqa: S603
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def load_scenario() -> dict[str, object]:
    """Run inside the migrated database's settings: write the scenario, say what to ask.

    One provider in Europe/Berlin open 07:00 to 12:00 and 13:00 to 22:00 every
    day, a 30-minute service on a 15-minute grid with 10 minutes of
    preparation and 5 of clean-up, 500 bookings of 20 minutes (blocked with
    those buffers) and 100 external busy events over the 30 days from
    tomorrow (fixed seed).
    """
    from datetime import datetime, time, timedelta
    from zoneinfo import ZoneInfo

    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from slotwise.bookings.models import Allocation, Booking
    from slotwise.calendars.models import ExternalBusy
    from slotwise.catalog.models import Resource, Schedule, Service, ServiceRequirement, WeeklyRule
    from slotwise.organizations.models import Organization
    from slotwise.organizations.tenancy import unscoped

    zone = ZoneInfo(PROVIDER_ZONE)
    first = timezone.now().astimezone(zone).date() + timedelta(days=1)
    hours = ((time(7), time(12)), (time(13), time(22)))
    before, after = timedelta(minutes=10), timedelta(minutes=5)
    rng = random.Random(7)
    # Setting up, as an operator's command would: no tenant yet.
    with unscoped(), transaction.atomic():
        org = Organization.objects.create(
            name="Bench", slug="bench", time_zone=PROVIDER_ZONE, currency="EUR"
        )
        schedule = Schedule.objects.create(organization=org, name="Every day")
        WeeklyRule.objects.bulk_create(
            WeeklyRule(schedule=schedule, weekday=weekday, start=start, end=end)
            for weekday in range(7)
            for start, end in hours
        )
        provider = Resource.objects.create(
            organization=org,
            name="Provider",
            kind="person",
            time_zone=PROVIDER_ZONE,
            schedule=schedule,
        )
        service = Service.objects.create(
            organization=org,
            name="Session",
            slug="session",
            durations=[30],
            step_minutes=15,
            buffer_before_minutes=10,
            buffer_after_minutes=5,
            min_notice_minutes=120,
            horizon_days=60,
            currency="EUR",
            price_minor=4000,
        )
        ServiceRequirement.objects.create(service=service, kind="person")

        cells = []  # 35-minute cells: a 20-minute booking with its buffers
        for n in range(DAYS):
            day = first + timedelta(days=n)
            for start, end in hours:
                t = datetime.combine(day, start, zone)
                stop = datetime.combine(day, end, zone)
                while t + timedelta(minutes=35) <= stop:
                    cells.append(t + before)
                    t += timedelta(minutes=35)
        bookings = Booking.objects.bulk_create(
            Booking(
                organization=org,
                service=service,
                starts_at=start,
                ends_at=start + timedelta(minutes=20),
                status="confirmed",
            )
            for start in sorted(rng.sample(cells, BOOKINGS))
        )
        Allocation.objects.bulk_create(
            Allocation(
                organization=org,
                booking=booking,
                resource=provider,
                blocked_start=booking.starts_at - before,
                blocked_end=booking.ends_at + after,
            )
            for booking in bookings
        )
        origin = datetime.combine(first, time(0), zone)
        events = []
        for n in range(EVENTS):
            start = origin + timedelta(minutes=15 * rng.randrange(DAYS * 96))
            length = timedelta(minutes=rng.choice((30, 60, 90, 120)))
            events.append(
                ExternalBusy(
                    organization=org,
                    resource=provider,
                    starts_at=start,
                    ends_at=start + length,
                    source="bench",
                    uid=f"event-{n}",
                )
            )
        ExternalBusy.objects.bulk_create(events)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "service_id": service.pk,
        "first": first.isoformat(),
        "last": (first + timedelta(days=DAYS - 1)).isoformat(),
    }


def main() -> None:
    if sys.argv[1:] == ["--load"]:
        print(json.dumps(load_scenario()))
        return
    runs = int(os.environ.get("SLOTWISE_BENCH_RUNS", "200"))
    for name, value in measure(runs).items():
        print(f"{name}: {value:.2f} ms", flush=True)


if __name__ == "__main__":
    main()
