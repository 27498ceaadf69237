"""The outbox: messages per second to a local SMTP server, and how late they go out.

:func:`measure` creates a throwaway PostgreSQL database, migrates it, and
writes :data:`MESSAGES` confirmation messages of one booking, not yet due.
An aiosmtpd server on 127.0.0.1 receives them. Then, once with one worker
process and once with two, the workers are started and idle, the messages
are made due all at once, and the clock runs until the server has received
every one:

- ``outbox_msgs_per_s_1_worker`` and ``outbox_msgs_per_s_2_workers``:
  messages delivered per second;
- ``outbox_lag_p99_ms``: with two workers, the 99th percentile of the time
  from a message falling due to its being marked sent.

Every message must arrive exactly once (by Message-ID) in each run.

    python bench/outbox.py       # prints "name: value unit" lines
"""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.slots_http import (
    ROOT,
    postgres_admin_url,
    run_command,
    server_env,
    throwaway_database,
)

MESSAGES = 600
IDLE_POLL = 0.02
TIMEOUT = 120.0

Figures = dict[str, tuple[float, str]]


def measure() -> Figures:
    import psycopg
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    port = _free_port()
    smtp = Controller(inbox, hostname="127.0.0.1", port=port)
    smtp.start()
    try:
        with throwaway_database(postgres_admin_url()) as database_url:
            env = {**server_env(database_url), "SLOTWISE_SMTP_URL": f"smtp://127.0.0.1:{port}"}
            run_command([sys.executable, "-m", "slotwise", "migrate"], env)
            run_command([sys.executable, "-m", "bench.outbox", "--load"], env)
            with psycopg.connect(database_url, autocommit=True) as db:
                one = _run(db, env, inbox, workers=1)
                two = _run(db, env, inbox, workers=2)
    finally:
        smtp.stop()
    return {
        "outbox_msgs_per_s_1_worker": (round(MESSAGES / one[0], 1), "msgs/s"),
        "outbox_msgs_per_s_2_workers": (round(MESSAGES / two[0], 1), "msgs/s"),
        "outbox_lag_p99_ms": (round(two[1], 1), "ms"),
    }


def _run(db, env: dict[str, str], inbox: _Inbox, *, workers: int) -> tuple[float, float]:
    """Seconds to deliver every message with ``workers`` processes, and the p99 lag in ms."""
    db.execute(
        "UPDATE notifications_message SET status = 'pending', attempts = 0, sent_at = NULL,"
        " claimed_until = NULL, due_at = now() + interval '1 day',"
        " next_attempt_at = now() + interval '1 day'"
    )
    inbox.clear()
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.outbox", "--work"],
            env=env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(workers)
    ]
    try:
        for process in processes:
            assert process.stdout is not None
            if process.stdout.readline().strip() != "ready":
                raise RuntimeError("An outbox worker did not start.")
        released = time.monotonic()
        db.execute("UPDATE notifications_message SET due_at = now(), next_attempt_at = now()")
        deadline = released + TIMEOUT
        while inbox.count() < MESSAGES:
            if time.monotonic() > deadline:
                raise RuntimeError(f"Only {inbox.count()} of {MESSAGES} messages arrived.")
            time.sleep(0.01)
        seconds = time.monotonic() - released
    finally:
        for process in processes:
            process.terminate()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()
    if inbox.count() != MESSAGES or len(set(inbox.ids)) != MESSAGES:
        raise RuntimeError(f"{inbox.count()} messages arrived for {MESSAGES}, or some twice.")
    lags = sorted(
        row[0]
        for row in db.execute(
            "SELECT extract(epoch FROM sent_at - due_at) * 1000 FROM notifications_message"
        )
    )
    return seconds, float(lags[max(0, math.ceil(len(lags) * 0.99) - 1)])


class _Inbox:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        import email

        message_id = email.message_from_bytes(envelope.original_content)["Message-ID"]
        with self._lock:
            self.ids.append(message_id)
        return "250 OK"

    def count(self) -> int:
        with self._lock:
            return len(self.ids)

    def clear(self) -> None:
        with self._lock:
            self.ids.clear()


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def load() -> None:
    """In the migrated database: one organization, service, resource and booking, and
    :data:`MESSAGES` confirmations of it, due tomorrow."""
    import django

    django.setup()
    from datetime import timedelta

    from django.db import transaction
    from django.utils import timezone

    from slotwise.bookings.models import Booking
    from slotwise.catalog.models import Resource, Service
    from slotwise.notifications.models import Message, MessageKind
    from slotwise.organizations.models import Organization
    from slotwise.organizations.tenancy import unscoped

    now = timezone.now()
    with unscoped(), transaction.atomic():
        org = Organization.objects.create(
            name="Bench", slug="bench", time_zone="Europe/Berlin", currency="EUR"
        )
        Resource.objects.create(
            organization=org, name="Ann", kind="person", time_zone="Europe/Berlin"
        )
        service = Service.objects.create(
            organization=org, name="Session", slug="session", durations=[30], currency="EUR"
        )
        booking = Booking.objects.create(
            organization=org,
            service=service,
            starts_at=now + timedelta(days=7),
            ends_at=now + timedelta(days=7, minutes=30),
            customer_name="Ada",
            customer_email="ada@example.com",
            customer_time_zone="Asia/Tokyo",
        )
        later = now + timedelta(days=1)
        Message.objects.bulk_create(
            Message(
                organization=org,
                booking=booking,
                kind=MessageKind.CONFIRMATION,
                occurrence=str(n),
                recipient="ada@example.com",
                due_at=later,
                next_attempt_at=later,
            )
            for n in range(MESSAGES)
        )


def work() -> None:
    """A worker: deliver what is due, again and again, until terminated."""
    import django

    django.setup()
    from slotwise.notifications.dispatch import deliver_due
    from slotwise.organizations.tenancy import no_tenant

    print("ready", flush=True)
    with no_tenant():
        while True:
            if not deliver_due().handled:
                time.sleep(IDLE_POLL)


def main() -> None:
    if sys.argv[1:] == ["--load"]:
        load()
        return
    if sys.argv[1:] == ["--work"]:
        work()
        return
    for name, (value, unit) in measure().items():
        print(f"{name}: {value} {unit}", flush=True)


if __name__ == "__main__":
    main()
