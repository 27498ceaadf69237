"""``make load``: several web processes and workers on one PostgreSQL, under a crowd.

:func:`measure` creates a throwaway PostgreSQL database, migrates it and
loads the providers of :mod:`bench.book_http` (50 people, each the only
resource of a 30-minute service, plus one service everybody wants). An
aiosmtpd server on 127.0.0.1 receives the mail. Then it starts
:data:`WEB_SERVERS` web servers (``slotwise serve``, each
:data:`WEB_WORKERS` processes of 4 threads) and :data:`TASK_WORKERS`
``slotwise worker`` processes, and lets :data:`CUSTOMERS` simulated
customers (asyncio, aiohttp) loose on them for :data:`SECONDS` seconds,
spread across the web servers as a load balancer would. Each customer, over
and over: looks at a week of a service's slots in a time zone of their own,
thinks for a moment, and in :data:`BOOK_SHARE` of the cases books one of the
slots shown (a fifth of those on the wanted service, where most lose the
race: 409 is a correct answer, a 5xx is not).

Afterwards the workers are given time to send every message that fell due,
then the checks run:

- ``overbooked_instants``: instants where a resource holds more than its
  capacity (:func:`slotwise.bookings.integrity.overbooked_instants`); must be 0;
- ``messages_lost``: messages due that never arrived at the SMTP server;
- ``messages_duplicated``: arrivals of a Message-ID seen before.

Printed as ``name: value unit`` lines, with throughput and p50/p99 latency
of slot queries and bookings. Exits 1 if any check finds something wrong or
any request failed with a 5xx or no answer.

    python bench/load.py        # or `make load`
"""

from __future__ import annotations

import asyncio
import json
import math
import os
import random
import subprocess
import sys
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from datetime import date, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.book_http import _body
from bench.slots_http import (
    ROOT,
    _free_port,
    _wait_until_healthy,
    postgres_admin_url,
    run_command,
    server_env,
    throwaway_database,
)

CUSTOMERS = int(os.environ.get("SLOTWISE_LOAD_CUSTOMERS", "200"))
SECONDS = float(os.environ.get("SLOTWISE_LOAD_SECONDS", "30"))
WEB_SERVERS = 2
WEB_WORKERS = 2
TASK_WORKERS = 2
BOOK_SHARE = 0.25
CONTESTED_SHARE = 0.2
THINK_SECONDS = (0.5, 2.0)
ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Asia/Kolkata", "Australia/Adelaide"]
DRAIN_SECONDS = 180.0
REQUEST_TIMEOUT = 30.0

Figures = dict[str, tuple[float, str]]


def measure() -> tuple[Figures, list[str]]:
    """The figures of one run, and what went wrong (empty when nothing did)."""
    from aiosmtpd.controller import Controller

    from bench.outbox import _Inbox

    inbox = _Inbox()
    smtp_port = _free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    try:
        with throwaway_database(postgres_admin_url()) as database_url:
            env = {
                **server_env(database_url),
                "SLOTWISE_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
            }
            run_command([sys.executable, "-m", "slotwise", "migrate"], env)
            scenario = json.loads(
                run_command([sys.executable, "-m", "bench.book_http", "--load"], env)
            )
            with ExitStack() as running:
                bases = [running.enter_context(_serve(env)) for _ in range(WEB_SERVERS)]
                for _ in range(TASK_WORKERS):
                    running.enter_context(_worker(env))
                crowd = asyncio.run(_crowd(bases, scenario))
                ended = time.time()
                drained = _drain(database_url, inbox, ended)
            verdict = json.loads(run_command([sys.executable, "-m", "bench.load", "--check"], env))
    finally:
        smtp.stop()
    return _figures(crowd, drained, verdict)


class Crowd:
    """What the customers saw: latencies in ms by kind, answers by kind and status."""

    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = {"slots": [], "book": []}
        self.answers: dict[str, Counter[int]] = {"slots": Counter(), "book": Counter()}
        self.seconds = 0.0

    def record(self, kind: str, status: int, milliseconds: float) -> None:
        self.answers[kind][status] += 1
        if status:  # 0: no answer at all; counted, not timed
            self.latencies[kind].append(milliseconds)

    def percentile(self, kind: str, p: int) -> float:
        values = sorted(self.latencies[kind])
        if not values:
            return math.nan
        return values[max(0, math.ceil(len(values) * p / 100) - 1)]


async def _crowd(bases: list[str], scenario: dict[str, Any]) -> Crowd:
    import aiohttp

    crowd = Crowd()
    first = date.fromisoformat(scenario["first"])
    services: list[int] = scenario["services"]
    contested: int = scenario["contested"]
    connector = aiohttp.TCPConnector(limit=0, force_close=True)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    stop_at = time.monotonic() + SECONDS
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def customer(n: int) -> None:
            rng = random.Random(n)
            base = bases[n % len(bases)]
            await asyncio.sleep(rng.uniform(0, THINK_SECONDS[1]))  # not all at once
            while time.monotonic() < stop_at:
                booking = rng.random() < BOOK_SHARE
                service = (
                    contested
                    if booking and rng.random() < CONTESTED_SHARE
                    else rng.choice(services)
                )
                day = first + timedelta(days=rng.randrange(7))
                query = {
                    "start": day.isoformat(),
                    "end": (day + timedelta(days=6)).isoformat(),
                    "tz": rng.choice(ZONES),
                }
                status, answer = await _call(
                    crowd, "slots", session.get(f"{base}/api/v1/services/{service}/slots",
                                                params=query),
                )  # fmt: skip
                await asyncio.sleep(rng.uniform(*THINK_SECONDS))
                if not booking or status != 200:
                    continue
                starts = [slot["start"] for d in answer["days"] for slot in d["slots"]]
                if not starts:
                    continue
                start = rng.choice(starts[:8] if service == contested else starts)
                body = _body(service, _instant(start), n)
                await _call(
                    crowd, "book", session.post(
                        f"{base}/api/v1/bookings", data=body,
                        headers={"Content-Type": "application/json"},
                    ),
                )  # fmt: skip

        began = time.monotonic()
        await asyncio.gather(*(customer(n) for n in range(CUSTOMERS)))
        crowd.seconds = time.monotonic() - began
    return crowd


async def _call(crowd: Crowd, kind: str, request: Any) -> tuple[int, Any]:
    import aiohttp

    began = time.perf_counter()
    try:
        async with request as response:
            body = await response.json(content_type=None)
            status = response.status
    except (aiohttp.ClientError, TimeoutError, json.JSONDecodeError):
        status, body = 0, None
    crowd.record(kind, status, (time.perf_counter() - began) * 1000)
    return status, body


def _instant(text: str) -> Any:
    from datetime import datetime

    return datetime.fromisoformat(text)


@contextmanager
def _serve(env: dict[str, str]):
    """``slotwise serve`` on a free port, as deployed; yields its base URL."""
    import tempfile

    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "slotwise", "serve", "--port", str(port)]
    command += ["--workers", str(WEB_WORKERS)]
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)  # noqa: S603
        try:
            _wait_until_healthy(base, server, log)
            yield base
        finally:
            _stop(server)


@contextmanager
def _worker(env: dict[str, str]):
    """``slotwise worker``, stopped with SIGTERM as a service manager would."""
    worker = subprocess.Popen(
        [sys.executable, "-m", "slotwise", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield worker
    finally:
        _stop(worker)


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=60)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _drain(database_url: str, inbox: Any, ended: float) -> dict[str, int]:
    """Wait until every message due by the end of the run is sent (or given up on);
    then compare what the database says was sent with what arrived."""
    import psycopg

    due = "due_at <= to_timestamp(%s) AND channel = 'email'"
    deadline = time.monotonic() + DRAIN_SECONDS
    with psycopg.connect(database_url, autocommit=True) as db:
        while time.monotonic() < deadline:
            (waiting,) = db.execute(
                f"SELECT count(*) FROM notifications_message WHERE {due}"  # noqa: S608
                " AND status IN ('pending', 'sending')",
                [ended],
            ).fetchone()
            if not waiting:
                break
            time.sleep(0.5)
        time.sleep(1.0)  # the last SMTP conversations end
        rows = db.execute(
            f"SELECT message_id, status FROM notifications_message WHERE {due}",  # noqa: S608
            [ended],
        ).fetchall()
    arrived = Counter(inbox.ids)
    should_have = [message_id for message_id, status in rows if status != "skipped"]
    return {
        "messages_due": len(should_have),
        "messages_lost": sum(1 for message_id in should_have if message_id not in arrived),
        "messages_duplicated": sum(n - 1 for n in arrived.values() if n > 1),
    }


def _figures(
    crowd: Crowd, drained: dict[str, int], verdict: dict[str, int]
) -> tuple[Figures, list[str]]:
    slots, book = crowd.answers["slots"], crowd.answers["book"]
    requests = sum(slots.values()) + sum(book.values())
    figures: Figures = {
        "load_customers": (CUSTOMERS, "customers"),
        "load_web_processes": (WEB_SERVERS * WEB_WORKERS, "processes"),
        "load_task_workers": (TASK_WORKERS, "processes"),
        "load_requests_per_s": (round(requests / crowd.seconds, 1), "requests/s"),
        "load_slots_per_s": (round(sum(slots.values()) / crowd.seconds, 1), "queries/s"),
        "load_slots_p50_ms": (round(crowd.percentile("slots", 50), 1), "ms"),
        "load_slots_p99_ms": (round(crowd.percentile("slots", 99), 1), "ms"),
        "load_book_per_s": (round(book[201] / crowd.seconds, 1), "bookings/s"),
        "load_book_p50_ms": (round(crowd.percentile("book", 50), 1), "ms"),
        "load_book_p99_ms": (round(crowd.percentile("book", 99), 1), "ms"),
        "load_book_refused": (book[409], "requests"),
        "load_bookings_made": (verdict["bookings"], "bookings"),
        "overbooked_instants": (verdict["overbooked_instants"], "instants"),
        "messages_due": (drained["messages_due"], "messages"),
        "messages_lost": (drained["messages_lost"], "messages"),
        "messages_duplicated": (drained["messages_duplicated"], "messages"),
    }
    problems = []
    failed = {
        kind: {s: n for s, n in answers.items() if s == 0 or s >= 500}
        for kind, answers in crowd.answers.items()
    }
    if any(failed.values()):
        problems.append(f"failed requests by status (0: no answer): {failed}")
    unexpected = {s: n for s, n in book.items() if s not in (0, 201, 409) and s < 500}
    if unexpected:
        problems.append(f"unexpected booking answers: {unexpected}")
    if verdict["bookings"] != book[201]:
        problems.append(f"{book[201]} bookings answered 201, {verdict['bookings']} stored")
    for name in ("overbooked_instants", "messages_lost", "messages_duplicated"):
        if figures[name][0]:
            problems.append(f"{name}: {figures[name][0]}")
    if not drained["messages_due"]:
        problems.append("no message fell due: the outbox was not exercised")
    return figures, problems


def check() -> dict[str, int]:
    """Run inside the database's settings: the double-booking scan, and the count."""
    import django

    django.setup()
    from slotwise.bookings.integrity import overbooked_instants
    from slotwise.bookings.models import Booking
    from slotwise.organizations.tenancy import unscoped

    with unscoped():
        bookings = Booking.objects.count()
    return {"overbooked_instants": overbooked_instants(), "bookings": bookings}


def main() -> int:
    if sys.argv[1:] == ["--check"]:
        print(json.dumps(check()))
        return 0
    print(
        f"load: {CUSTOMERS} customers for {SECONDS:.0f} s against {WEB_SERVERS} web servers and "
        f"{TASK_WORKERS} workers on one PostgreSQL",
        file=sys.stderr,
        flush=True,
    )
    figures, problems = measure()
    for name, (value, unit) in figures.items():
        print(f"{name}: {value} {unit}", flush=True)
    for problem in problems:
        print(f"load: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
