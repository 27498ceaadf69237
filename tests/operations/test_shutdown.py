"""Both processes stop cleanly on SIGTERM, as a service manager stops them."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone

from slotwise.notifications.models import Message, MessageKind, MessageStatus
from slotwise.operations.models import Heartbeat
from tests.operations.conftest import ROOT, free_port, get, wait_until_up

pytestmark = pytest.mark.django_db(transaction=True)


def _wait_for(condition, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


def test_the_worker_sends_what_is_due_then_stops_on_sigterm(
    process_env, smtp_server, make_org, make_resource, make_service, make_booking
):
    org = make_org()
    now = timezone.now()
    booking = make_booking(make_service(org), [make_resource(org)], now + timedelta(days=3))
    message = Message.objects.create(
        organization=org,
        booking=booking,
        kind=MessageKind.CONFIRMATION,
        recipient="ada@example.com",
        due_at=now,
        next_attempt_at=now,
    )
    env = process_env | {"SLOTWISE_SMTP_URL": f"smtp://127.0.0.1:{smtp_server.port}"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "slotwise", "worker"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # The worker's first sweep, at start, asks for the outbox to be delivered.
        assert _wait_for(lambda: smtp_server.inbox.message_ids(), 60), "nothing arrived"
        assert Heartbeat.objects.exists()
        worker.send_signal(signal.SIGTERM)
        status = worker.wait(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
        stderr = worker.communicate()[1]

    assert status == 0, stderr
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert smtp_server.inbox.message_ids() == [message.message_id]


def test_the_web_server_stops_on_sigterm(process_env):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "slotwise", "serve", "--port", str(port), "--workers", "2"],
        env=process_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=0,
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}")
        assert '"ok"' in get(f"http://127.0.0.1:{port}/healthz")
        began = time.monotonic()
        server.send_signal(signal.SIGTERM)
        status = server.wait(timeout=40)
    finally:
        if server.poll() is None:
            server.kill()

    assert status == 0
    assert time.monotonic() - began < 35
