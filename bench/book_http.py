"""Booking over HTTP, against the bare PostgreSQL insert every booking rests on.

:func:`measure` creates a throwaway database, migrates it with ``slotwise
migrate`` and loads :data:`PROVIDERS` providers, each the only resource of
its own 30-minute service, open 06:00 to 22:00 in Europe/Berlin every day,
plus one more whose ten slots from 09:00 tomorrow everybody wants. Then,
in one run:

- ``pg_raw_insert_per_s``: :data:`CLIENTS` psycopg connections insert rows
  into a table with the allocations' exclusion constraint for
  :data:`RAW_SECONDS`, random providers, never colliding: what PostgreSQL
  alone could store on this machine;
- ``book_http_*``: :data:`CLIENTS` clients book free slots of random
  providers through ``POST /api/v1/bookings`` for :data:`BOOK_SECONDS`;
  every answer must be ``201``;
- ``book_http_contended_*``: :data:`CONTENDERS` clients, released together,
  each try every one of the :data:`CONTESTED_SLOTS` wanted slots in an order
  of their own; every answer must be ``201`` or ``409``, and exactly
  :data:`CONTESTED_SLOTS` bookings may exist afterwards;
- ``book_vs_raw_ratio``: how many bare inserts fit in the time of one booking.

The server is gunicorn with :data:`WORKERS` processes of :data:`THREADS`
threads: a booking spends about a third of its time waiting for PostgreSQL,
which a few threads fill, while more only queue on the interpreter lock.
Clients are threads that open a connection per request, as a proxy in front
of gunicorn does by default: a threaded worker keeps a kept-alive connection
to itself, and on two cores one took 12 to 15 of 16 clients, leaving the other
process idle. Afterwards the database must hold exactly what was answered.
The server and the database go away at the end, also on failure.

    python bench/book_http.py       # prints "name: value unit" lines
"""

from __future__ import annotations

import http.client
import json
import math
import random
import statistics
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from datetime import time as wall
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.slots_http import (
    gunicorn,
    postgres_admin_url,
    run_command,
    server_env,
    throwaway_database,
)

CLIENTS = 16
CONTENDERS = 64
CONTESTED_SLOTS = 10
PROVIDERS = 50
DAYS = 14
WORKERS = 2
THREADS = 4
RAW_SECONDS = 3.0
BOOK_SECONDS = 8.0
WARMUP = 5
"""Bookings each client makes before the timed ones, so every server thread has
its database connection."""
START_TIMEOUT = 30.0
PROVIDER_ZONE = "Europe/Berlin"
CUSTOMER_ZONE = "America/New_York"
OPENS, CLOSES, MINUTES = 6, 22, 30
PATH = "/api/v1/bookings"
HEADERS = {"Content-Type": "application/json", "Connection": "close"}

Figures = dict[str, tuple[float, str]]


def measure() -> Figures:
    """The figures of one run, ``name: (value, unit)``; raises if a booking went wrong."""
    with throwaway_database(postgres_admin_url()) as database_url:
        env = server_env(database_url)
        run_command([sys.executable, "-m", "slotwise", "migrate"], env)
        scenario = json.loads(run_command([sys.executable, "-m", "bench.book_http", "--load"], env))
        first = date.fromisoformat(scenario["first"])
        raw = raw_inserts(database_url, first)
        with gunicorn(env, workers=WORKERS, threads=THREADS) as base:
            free = uncontended(base, scenario["services"], first)
            fight = contended(base, scenario["contested"], first)
        _check_database(database_url, scenario, free, fight)
    booked = free.answers[201] / free.seconds
    return {
        "pg_raw_insert_per_s": (round(raw), "inserts/s"),
        "book_http_uncontended_per_s": (round(booked, 1), "bookings/s"),
        "book_http_p50_ms": (round(free.percentile(50), 2), "ms"),
        "book_http_p99_ms": (round(free.percentile(99), 2), "ms"),
        "book_http_contended_per_s": (round(fight.count / fight.seconds, 1), "attempts/s"),
        "book_http_contended_p99_ms": (round(fight.percentile(99), 2), "ms"),
        "book_http_contended_booked": (fight.answers[201], "bookings"),
        "book_vs_raw_ratio": (round(raw / booked, 1), "x"),
    }


class Run:
    """What the clients of one run saw: latencies in ms, answers by status, and the
    seconds from their release until the last one finished."""

    def __init__(self, latencies: list[float], answers: Counter[int], seconds: float) -> None:
        self.latencies = latencies
        self.answers = answers
        self.seconds = seconds

    @property
    def count(self) -> int:
        return len(self.latencies)

    def percentile(self, p: int) -> float:
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[p - 1]


def starts(first: date, days: int = DAYS) -> list[datetime]:
    """Every slot start of a provider on ``days`` dates from ``first``, in its zone."""
    zone = ZoneInfo(PROVIDER_ZONE)
    per_day = (CLOSES - OPENS) * 60 // MINUTES
    return [
        datetime.combine(first + timedelta(days=n), wall(OPENS), zone)
        + timedelta(minutes=MINUTES * k)
        for n in range(days)
        for k in range(per_day)
    ]


def uncontended(base: str, services: list[int], first: date) -> Run:
    """:data:`CLIENTS` clients book slots nobody else asks for, for :data:`BOOK_SECONDS`."""
    wanted = [(service, start) for service in services for start in starts(first)]
    random.Random(1).shuffle(wanted)
    # One iterator per client, shared by the warm-up and the timed run: no slot twice.
    shares = [iter(wanted[n::CLIENTS]) for n in range(CLIENTS)]

    def bodies(n: int) -> Iterator[bytes]:
        for service, start in shares[n]:
            yield _body(service, start, n)

    _post_together(base, CLIENTS, bodies, expect={201}, limit=WARMUP)
    return _post_together(base, CLIENTS, bodies, expect={201}, seconds=BOOK_SECONDS)


def contended(base: str, service: int, first: date) -> Run:
    """:data:`CONTENDERS` clients each try all :data:`CONTESTED_SLOTS` wanted slots."""
    wanted = starts(first, days=1)[6 : 6 + CONTESTED_SLOTS]  # 09:00 onwards, tomorrow

    def bodies(n: int) -> Iterator[bytes]:
        for start in random.Random(n).sample(wanted, len(wanted)):
            yield _body(service, start, n)

    return _post_together(base, CONTENDERS, bodies, expect={201, 409})


def _post_together(
    base: str,
    clients: int,
    bodies: Callable[[int], Iterator[bytes]],
    *,
    expect: set[int],
    seconds: float | None = None,
    limit: int | None = None,
) -> Run:
    """``clients`` threads, released together, each POST the ``bodies(n)`` of their own
    until those run out, ``seconds`` pass or ``limit`` are sent. An answer outside
    ``expect`` fails the run."""
    address = urlsplit(base)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    answers: list[Counter[int]] = [Counter() for _ in range(clients)]

    def client(n: int, start: Callable[[], float]) -> None:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=60)
        mine = bodies(n)
        deadline = start()
        try:
            for sent, body in enumerate(mine):
                if sent == limit or time.perf_counter() >= deadline:
                    break
                begin = time.perf_counter()
                connection.request("POST", PATH, body, headers=HEADERS)
                response = connection.getresponse()
                content = response.read()
                latencies[n].append((time.perf_counter() - begin) * 1000)
                answers[n][response.status] += 1
                if response.status not in expect:
                    detail = content[:300].decode(errors="replace")
                    raise RuntimeError(f"a booking was answered {response.status}: {detail}")
        finally:
            connection.close()

    elapsed = _together(clients, client, seconds)
    return Run([ms for mine in latencies for ms in mine], sum(answers, Counter()), elapsed)


def _together(
    count: int, work: Callable[[int, Callable[[], float]], None], seconds: float | None
) -> float:
    """Run ``work(n, start)`` on ``count`` threads. Each calls ``start()`` when ready;
    it returns once all are, with the deadline (``seconds`` from then, or never).
    The seconds from that moment until the last thread finished; raises if any failed."""
    released = [0.0]
    deadline = [math.inf]

    def release() -> None:
        released[0] = time.perf_counter()
        if seconds is not None:
            deadline[0] = released[0] + seconds

    ready = threading.Barrier(count, action=release, timeout=START_TIMEOUT)
    finished = [0.0] * count
    failures: list[str] = []

    def start() -> float:
        ready.wait()
        return deadline[0]

    def run(n: int) -> None:
        try:
            work(n, start)
        except threading.BrokenBarrierError:
            failures.append("a client was not ready in time")
        except Exception as error:  # reported below, with the others
            failures.append(f"{type(error).__name__}: {error}")
            ready.abort()  # the others may still wait for this one
        finally:
            finished[n] = time.perf_counter()

    threads = [threading.Thread(target=run, args=(n,), daemon=True) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if failures:
        raise RuntimeError(f"{len(failures)} of {count} clients failed; the first: {failures[0]}")
    return max(finished) - released[0]


def _body(service: int, start: datetime, n: int) -> bytes:
    return json.dumps(
        {
            "service_id": service,
            "start": start.isoformat(),
            "seats": 1,
            "customer": {
                "name": f"Client {n}",
                "email": f"client{n}@example.com",
                "time_zone": CUSTOMER_ZONE,
            },
        }
    ).encode()


RAW_TABLE = """
CREATE TABLE bench_raw_booking (
    id bigserial PRIMARY KEY,
    resource_id bigint NOT NULL,
    starts_at timestamptz NOT NULL,
    ends_at timestamptz NOT NULL,
    EXCLUDE USING gist (resource_id WITH =, tstzrange(starts_at, ends_at, '[)') WITH &&)
)
"""
# Cast: psycopg sends a small int as int2, which btree_gist cannot compare with int8.
RAW_INSERT = (
    "INSERT INTO bench_raw_booking (resource_id, starts_at, ends_at) VALUES (%s::bigint, %s, %s)"
)


def raw_inserts(database_url: str, first: date) -> float:
    """Rows per second that :data:`CLIENTS` connections insert in :data:`RAW_SECONDS`,
    one INSERT per transaction, random providers, never colliding."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as admin:
        admin.execute(RAW_TABLE)
    length = timedelta(minutes=MINUTES)
    wanted = [
        (provider, start)
        for provider in range(1, PROVIDERS + 1)
        for start in starts(first, days=4 * DAYS)
    ]
    random.Random(2).shuffle(wanted)
    inserted = [0] * CLIENTS

    def client(n: int, start: Callable[[], float]) -> None:
        with psycopg.connect(database_url, autocommit=True) as connection:
            cursor = connection.cursor()
            deadline = start()
            for provider, begin in wanted[n::CLIENTS]:
                if time.perf_counter() >= deadline:
                    return
                cursor.execute(RAW_INSERT, (provider, begin, begin + length), prepare=True)
                inserted[n] += 1
        raise RuntimeError("ran out of free slots before the time was up")

    seconds = _together(CLIENTS, client, RAW_SECONDS)
    with psycopg.connect(database_url, autocommit=True) as connection:
        row = connection.execute("SELECT count(*) FROM bench_raw_booking").fetchone()
        connection.execute("DROP TABLE bench_raw_booking")
    if row is None or row[0] != sum(inserted):
        raise RuntimeError(f"{sum(inserted)} inserts succeeded but the table holds {row}")
    return sum(inserted) / seconds


def _check_database(database_url: str, scenario: dict[str, Any], free: Run, fight: Run) -> None:
    """The database holds what was answered: a booking for every ``201``, on distinct
    starts of the wanted provider exactly :data:`CONTESTED_SLOTS`, each exclusive."""
    import psycopg

    answered = free.answers[201] + WARMUP * CLIENTS
    if fight.answers[201] != CONTESTED_SLOTS:
        raise RuntimeError(f"{fight.answers[201]} bookings of {CONTESTED_SLOTS} contested slots")
    with psycopg.connect(database_url) as connection:
        row = connection.execute(
            "SELECT count(*) FILTER (WHERE service_id <> %(wanted)s),"
            " count(DISTINCT starts_at) FILTER (WHERE service_id = %(wanted)s),"
            " count(*) FILTER (WHERE service_id = %(wanted)s),"
            " (SELECT count(*) FROM bookings_allocation WHERE exclusive)"
            " FROM bookings_booking",
            {"wanted": scenario["contested"]},
        ).fetchone()
    stored = (answered, CONTESTED_SLOTS, CONTESTED_SLOTS, answered + CONTESTED_SLOTS)
    if row != stored:
        raise RuntimeError(
            "bookings stored (free, contested starts, contested, exclusive allocations): "
            f"{row}, answered: {stored}"
        )


def load_scenario() -> dict[str, object]:
    """Run inside the migrated database's settings: write the providers, say what to book.

    :data:`PROVIDERS` people and one more, each with hours 06:00 to 22:00 every
    day and a 30-minute service on a 30-minute grid whose requirement lists only
    them, so bookings of two services never wait for each other. Two hours'
    notice, 60 days ahead.
    """
    import django

    django.setup()
    from django.db import connection, transaction
    from django.utils import timezone

    from slotwise.catalog.models import Resource, Schedule, Service, ServiceRequirement, WeeklyRule
    from slotwise.organizations.models import Organization
    from slotwise.organizations.tenancy import unscoped

    first = timezone.now().astimezone(ZoneInfo(PROVIDER_ZONE)).date() + timedelta(days=1)
    services = []
    # Setting up, as an operator's command would: no tenant yet.
    with unscoped(), transaction.atomic():
        org = Organization.objects.create(
            name="Bench", slug="bench", time_zone=PROVIDER_ZONE, currency="EUR"
        )
        for n in range(PROVIDERS + 1):
            schedule = Schedule.objects.create(organization=org, name=f"Hours {n}")
            WeeklyRule.objects.bulk_create(
                WeeklyRule(schedule=schedule, weekday=weekday, start=wall(OPENS), end=wall(CLOSES))
                for weekday in range(7)
            )
            provider = Resource.objects.create(
                organization=org,
                name=f"Provider {n}",
                kind="person",
                time_zone=PROVIDER_ZONE,
                schedule=schedule,
            )
            service = Service.objects.create(
                organization=org,
                name=f"Session {n}",
                slug=f"session-{n}",
                durations=[MINUTES],
                step_minutes=MINUTES,
                min_notice_minutes=120,
                horizon_days=60,
                currency="EUR",
                price_minor=4000,
            )
            requirement = ServiceRequirement.objects.create(service=service, kind="person")
            requirement.pool.set([provider])
            services.append(service.pk)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {"services": services[:-1], "contested": services[-1], "first": first.isoformat()}


def main() -> None:
    if sys.argv[1:] == ["--load"]:
        print(json.dumps(load_scenario()))
        return
    for name, (value, unit) in measure().items():
        print(f"{name}: {value} {unit}", flush=True)


if __name__ == "__main__":
    main()
