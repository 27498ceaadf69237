"""The race proof: many clients on two server processes fight for the last places.

64 clients, released together, each book one of a handful of contested
slots through the HTTP API of a gunicorn with two worker processes, on the
database the tests run on. Exactly what the slots can hold succeeds, every
other request gets a clean 409, and a scan of the database finds no instant
where a resource holds more than its capacity. On PostgreSQL the same race
is first run with the guard switched off, to prove the race is real.

``make stress`` runs this file on SQLite and PostgreSQL and prints the
figures as ``name: value`` lines.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from datetime import time as wall
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection

from slotwise.bookings.models import BLOCKING_STATUSES, Allocation, Booking
from slotwise.catalog.models import ResourceKind

pytestmark = [pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = 64
LONDON = ZoneInfo("Europe/London")


def _monday() -> date:
    today = datetime.now(LONDON).date() + timedelta(days=14)
    return today + timedelta(days=7 - today.weekday())


@pytest.fixture
def contested(make_org, make_resource, make_service):
    """One person (5 one-hour slots on a Monday) and a room with an 8-seat class at 15:00."""
    org = make_org()
    make_resource(org, name="Ann")
    make_resource(org, name="Studio", kind=ResourceKind.ROOM)
    haircut = make_service(org, name="Haircut")
    yoga = make_service(org, name="Yoga", needs=[(ResourceKind.ROOM, None)], seats_per_slot=8)
    monday = _monday()
    hours = [datetime.combine(monday, wall(h), LONDON) for h in (9, 10, 11, 13, 14)]
    yoga_at = datetime.combine(monday, wall(15), LONDON)
    return haircut, yoga, hours, yoga_at


def _requests(haircut, yoga, hours, yoga_at):
    """64 booking requests: most on the five haircut hours, the rest on the class."""
    bodies = []
    for n in range(CLIENTS):
        if n % 4 == 3:
            service, start, seats = yoga, yoga_at, 1 + n % 2
        else:
            service, start, seats = haircut, hours[n % len(hours)], 1
        bodies.append(
            {
                "service_id": service.pk,
                "start": start.isoformat(),
                "seats": seats,
                "customer": {
                    "name": f"Client {n}",
                    "email": f"client{n}@example.com",
                    "time_zone": "America/New_York",
                },
            }
        )
    return bodies


def overbooked_instants() -> int:
    """Instants where some resource holds more than its capacity, plus group sessions
    sold beyond their seats, found by scanning the database."""
    load: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    capacity: dict[int, int] = {}
    sessions: set[tuple[int, int, datetime, datetime]] = set()
    for resource, cap, start, end, units, service, per_slot in Allocation.objects.filter(
        booking__status__in=BLOCKING_STATUSES
    ).values_list(
        "resource_id", "resource__capacity", "blocked_start", "blocked_end", "units",
        "booking__service_id", "booking__service__seats_per_slot",
    ):  # fmt: skip
        capacity[resource] = cap
        if per_slot is None:
            load[resource] += [(start, units), (end, -units)]
        else:  # the bookings of one session occupy the resource once
            sessions.add((resource, service, start, end))
    for resource, _, start, end in sessions:
        load[resource] += [(start, 1), (end, -1)]
    over = 0
    for resource, events in load.items():
        level = 0
        for _, delta in sorted(events):  # at one instant, releases before takes
            level += delta
            over += level > capacity[resource]
    sold: Counter[tuple[int, datetime, int]] = Counter()
    for service, start, per_slot, seats in Booking.objects.filter(
        status__in=BLOCKING_STATUSES, service__seats_per_slot__isnull=False
    ).values_list("service_id", "starts_at", "service__seats_per_slot", "seats"):
        sold[(service, start, per_slot)] += seats
    return over + sum(1 for (_, _, per_slot), seats in sold.items() if seats > per_slot)


@contextmanager
def server(unguarded: bool = False):
    """gunicorn with two worker processes on the tests' database; yields its base URL."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    database = settings.DATABASES["default"]
    if connection.vendor == "postgresql":
        url = (
            f"postgres://{database['USER'] or 'postgres'}@{database['HOST'] or '127.0.0.1'}:"
            f"{database['PORT'] or 5432}/{database['NAME']}"
        )
    else:
        url = f"sqlite:///{database['NAME']}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE_")}
    env.update(
        DJANGO_SETTINGS_MODULE="slotwise.settings",
        PYTHONPATH=str(ROOT / "src"),
        SLOTWISE_DATABASE_URL=url,
        SLOTWISE_DEBUG="false",
        SLOTWISE_LOG_LEVEL="WARNING",
        SLOTWISE_STRESS_UNGUARDED="1" if unguarded else "0",
    )
    command = [sys.executable, "-m", "gunicorn", "slotwise.wsgi:application",
               "--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "8",
               "--log-level", "warning"]  # fmt: skip
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=log, stderr=log)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    with urllib.request.urlopen(f"{base}/healthz", timeout=2):  # noqa: S310
                        break
                except OSError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        log.seek(0)
                        raise RuntimeError(log.read().decode(errors="replace")) from None
                    time.sleep(0.1)
            yield base
        finally:
            process.terminate()
            process.wait(timeout=10)


def race(base: str, bodies: list[dict]) -> Counter[int]:
    """Send every body at once from its own client; the status codes that came back."""
    start = threading.Barrier(len(bodies))

    def send(body: dict) -> int:
        request = urllib.request.Request(  # noqa: S310 (our own server)
            f"{base}/api/v1/bookings",
            data=json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        start.wait()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    with ThreadPoolExecutor(len(bodies)) as pool:
        return Counter(pool.map(send, bodies))


def _report(**figures: int) -> None:
    for name, value in figures.items():
        print(f"{name}: {value}")


def test_exactly_the_capacity_is_sold_and_everyone_else_gets_409(contested):
    haircut, yoga, hours, yoga_at = contested
    with server() as base:
        codes = race(base, _requests(haircut, yoga, hours, yoga_at))
    haircuts = Booking.objects.filter(service=haircut).count()
    yoga_seats = sum(Booking.objects.filter(service=yoga).values_list("seats", flat=True))
    over = overbooked_instants()
    _report(overbooked_instants=over, refused_cleanly=codes[409], booked=codes[201])
    assert set(codes) <= {201, 409}, codes
    assert haircuts == len(hours)
    assert yoga_seats == 8
    assert codes[201] == Booking.objects.count()
    assert over == 0


@pytest.mark.postgres_only
def test_without_the_guard_the_race_overbooks(contested):
    """The proof that the test above could fail: no locks, no constraint, same race."""
    haircut, yoga, hours, yoga_at = contested
    overbooked = 0
    for _ in range(3):  # a race may be lost by luck; three tries make it near certain
        with server(unguarded=True) as base:
            race(base, _requests(haircut, yoga, hours, yoga_at))
        overbooked = overbooked_instants()
        if overbooked:
            break
        Booking.objects.all().delete()
    _report(unguarded_overbooked_instants=overbooked)
    assert overbooked > 0
