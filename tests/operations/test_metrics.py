"""/metrics: what happened, counted where it happened, and what the database says."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from slotwise import cli
from slotwise.operations import health
from tests.operations.conftest import ROOT, free_port, get, wait_until_up

pytestmark = pytest.mark.django_db


def scrape(client, **headers) -> dict[str, float]:
    answer = client.get("/metrics", headers=headers)
    assert answer.status_code == 200, answer.status_code
    return _samples(answer.content.decode())


def _samples(text: str) -> dict[str, float]:
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f"{k}={v}" for k, v in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


def test_metrics_answer_only_this_machine_or_the_token(client):
    assert client.get("/metrics").status_code == 200  # the test client is 127.0.0.1
    assert client.get("/metrics", REMOTE_ADDR="203.0.113.9").status_code == 404
    relayed = client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
    assert relayed.status_code == 404
    with override_settings(SLOTWISE_METRICS_TOKEN="s3cret-token-for-scrapes"):
        token = {"Authorization": "Bearer s3cret-token-for-scrapes"}
        assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", headers=token).status_code == 200
        wrong = {"Authorization": "Bearer guess"}
        assert client.get("/metrics", REMOTE_ADDR="203.0.113.9", headers=wrong).status_code == 404


def test_bookings_conflicts_and_slot_queries_are_counted(
    client, make_org, make_resource, make_service, django_capture_on_commit_callbacks
):
    org = make_org()
    make_resource(org)
    service = make_service(org)
    before = scrape(client)

    day = (timezone.now() + timedelta(days=7)).date()
    while day.weekday() != 2:
        day += timedelta(days=1)
    slots = client.get(
        f"/api/v1/services/{service.pk}/slots",
        {"start": day.isoformat(), "end": day.isoformat(), "tz": "Europe/London"},
    ).json()
    start = slots["days"][0]["slots"][0]["start"]
    body = {
        "service_id": service.pk,
        "start": start,
        "customer": {"name": "Ada", "email": "ada@example.com", "time_zone": "Europe/London"},
    }
    with django_capture_on_commit_callbacks(execute=True):  # counted once committed
        made = client.post("/api/v1/bookings", body, content_type="application/json")
    assert made.status_code == 201
    body["customer"]["email"] = "bob@example.com"
    assert client.post("/api/v1/bookings", body, content_type="application/json").status_code == 409

    after = scrape(client)
    created = "slotwise_bookings_created_total{status=confirmed}"
    assert after[created] - before.get(created, 0) == 1
    conflicts = "slotwise_booking_conflicts_total"
    assert after[conflicts] - before[conflicts] == 1
    queries = "slotwise_slot_query_seconds_count"
    assert after[queries] - before[queries] >= 1


def test_the_outbox_and_workers_are_read_from_the_database(
    client, make_org, make_resource, make_service, make_booking
):
    from slotwise.notifications.models import Message, MessageKind, MessageStatus

    org = make_org()
    now = timezone.now()
    booking = make_booking(make_service(org), [make_resource(org)], now + timedelta(days=2))
    common = {"organization": org, "booking": booking, "recipient": "ada@example.com"}
    Message.objects.create(
        kind=MessageKind.CONFIRMATION, due_at=now, next_attempt_at=now - timedelta(minutes=10),
        **common,
    )  # fmt: skip
    Message.objects.create(
        kind=MessageKind.REMINDER, due_at=now, next_attempt_at=now, status=MessageStatus.FAILED,
        **common,
    )  # fmt: skip
    health.beat("host:1", now - timedelta(seconds=30))

    samples = scrape(client)

    assert samples["slotwise_outbox_pending"] == 1
    assert 600 <= samples["slotwise_outbox_lag_seconds"] < 660
    assert samples["slotwise_outbox_failed"] == 1
    assert 30 <= samples["slotwise_worker_heartbeat_age_seconds"] < 90


@pytest.mark.django_db(transaction=True)
def test_under_gunicorn_the_processes_counters_are_summed(
    tmp_path, process_env, make_org, make_resource, make_service
):
    """Two gunicorn workers keep their counters in PROMETHEUS_MULTIPROC_DIR; /metrics
    sums them, whichever worker answers."""
    org = make_org()
    make_resource(org)
    service = make_service(org)
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "slotwise", "serve", "--port", str(port), "--workers", "2"],
        env=process_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=0,
    )
    base = f"http://127.0.0.1:{port}"
    query = f"{base}/api/v1/services/{service.pk}/slots?start=2027-03-01&end=2027-03-07&tz=UTC"
    try:
        wait_until_up(base)
        for _ in range(10):
            get(query)
        samples = _samples(get(f"{base}/metrics"))
    finally:
        cli.stop([server], grace=10)

    assert samples["slotwise_slot_query_seconds_count"] == 10
    assert len(list((tmp_path / "metrics").glob("*.db"))) >= 1
