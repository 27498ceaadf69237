"""/readyz and `slotwise doctor`: a deployment says what is wrong with it."""

from __future__ import annotations

import datetime as dt
import http.server
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import connection
from django.utils import timezone

from slotwise import cli
from slotwise.operations import doctor, health
from slotwise.operations.models import Heartbeat

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 6, 1, 12, tzinfo=UTC)


def test_not_ready_until_a_worker_has_said_it_is_alive(client):
    answer = client.get("/readyz")
    assert answer.status_code == 503
    assert answer.json()["checks"]["worker"]["ok"] is False
    assert answer.json()["checks"]["database"]["ok"] is True
    assert answer.json()["checks"]["migrations"] == {"ok": True, "detail": "all applied"}

    health.beat("host-a:12", timezone.now())

    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert answer.json()["status"] == "ready"
    assert answer["Cache-Control"].startswith("max-age=0")


def test_a_worker_silent_for_three_minutes_is_taken_for_gone(client):
    with time_machine.travel(NOW, tick=False):
        health.beat("host-a:12", timezone.now())
    with time_machine.travel(NOW + timedelta(minutes=2, seconds=59), tick=False):
        assert client.get("/readyz").status_code == 200
    with time_machine.travel(NOW + timedelta(minutes=3, seconds=1), tick=False):
        answer = client.get("/readyz")
    assert answer.status_code == 503
    assert (
        "none seen for 3 minutes (last: host-a:12)" in answer.json()["checks"]["worker"]["detail"]
    )


def test_beats_update_one_row_per_worker_and_forget_those_gone_a_day():
    health.beat("host-a:1", NOW - timedelta(days=2))
    health.beat("host-b:2", NOW)
    health.beat("host-b:2", NOW + timedelta(minutes=1))

    assert list(Heartbeat.objects.values_list("process", "seen_at")) == [
        ("host-b:2", NOW + timedelta(minutes=1))
    ]
    assert Heartbeat.objects.get().started_at == NOW


def test_an_unapplied_migration_makes_the_deployment_not_ready(client):
    health.beat("host-a:12", timezone.now())
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM django_migrations WHERE app = 'operations'")

    answer = client.get("/readyz")

    assert answer.status_code == 503
    detail = answer.json()["checks"]["migrations"]["detail"]
    assert detail == "1 not applied (operations.0001_initial): run slotwise migrate"


def _by_name(results: list[doctor.Result]) -> dict[str, doctor.Result]:
    return {result.name: result for result in results}


def test_doctor_reports_each_check_against_a_running_server(live_server, make_org):
    health.beat("host-a:12", timezone.now())

    results = _by_name(doctor.run_checks(timezone.now(), live_server.url))

    assert results["database"].status == "pass"
    assert results["migrations"].status == "pass"
    assert results["worker"].status == "pass"
    assert results["outbox backlog"].status == "pass"
    assert results["public address"].status == "pass"
    assert results["security headers"] == doctor.Result("security headers", "pass", "all present")
    assert results["TLS certificate"].status == "skip"
    assert results["payment webhooks"].status == "skip"
    assert results["time zone data"].status == "pass"


def test_doctor_fails_on_late_and_failed_messages(
    make_org, make_service, make_resource, make_booking
):
    from slotwise.notifications.models import Message, MessageKind, MessageStatus

    org = make_org()
    now = timezone.now()
    booking = make_booking(make_service(org), [make_resource(org)], now + timedelta(days=1))
    common = {"organization": org, "booking": booking, "recipient": "ada@example.com"}
    Message.objects.create(
        kind=MessageKind.CONFIRMATION, due_at=now, next_attempt_at=now - timedelta(minutes=20),
        **common,
    )  # fmt: skip
    Message.objects.create(
        kind=MessageKind.WEBHOOK, due_at=now, next_attempt_at=now, status=MessageStatus.FAILED,
        occurrence="1", **{**common, "recipient": "https://hooks.example.com/a"},
    )  # fmt: skip

    results = _by_name(doctor.run_checks(now, None))

    assert results["outbox backlog"].status == "fail"
    assert "1 message(s) late, the oldest by 20 minutes" in results["outbox backlog"].detail
    assert results["outbox failures"].status == "fail"
    assert results["webhook deliveries"].detail.startswith("1 delivery(ies) to 1 endpoint(s)")
    assert results["public address"].status == "skip"


def test_doctor_exits_non_zero_when_a_check_fails(live_server, capsys):
    status = cli.main(["doctor", "--url", live_server.url])

    out = capsys.readouterr().out
    assert status == 1
    assert "FAIL  worker: no worker has ever run: start slotwise worker" in out
    assert "checks failed." in out.splitlines()[-1]


def test_old_time_zone_data_fails(monkeypatch):
    monkeypatch.setattr(doctor, "tzdata_version", lambda: "2023c")
    assert doctor._tzdata(NOW).status == "fail"
    monkeypatch.setattr(doctor, "tzdata_version", lambda: "2025a")
    assert doctor._tzdata(NOW).status == "pass"


@pytest.fixture
def https_server(tmp_path) -> Iterator[tuple[int, Path, Path, int]]:
    """An HTTPS server on 127.0.0.1 and two CA files: a certificate valid 5 days, one 90."""
    servers = []
    for days in (5, 90):
        cert, key = _self_signed(tmp_path, days)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        server = http.server.HTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((server, cert))
    yield (
        servers[0][0].server_address[1],
        servers[0][1],
        servers[1][1],
        servers[1][0].server_address[1],
    )  # type: ignore[misc]
    for server, _ in servers:
        server.shutdown()
        server.server_close()


def test_a_certificate_expiring_within_two_weeks_fails(https_server):
    short_port, short_cert, long_cert, long_port = https_server
    now = timezone.now()

    soon = doctor._certificate("localhost", short_port, "https", now, str(short_cert))
    later = doctor._certificate("localhost", long_port, "https", now, str(long_cert))
    untrusted = doctor._certificate("localhost", long_port, "https", now, None)

    assert soon.status == "fail"
    assert soon.detail.startswith("expires in 4 days")
    assert later.status == "pass"
    assert later.detail == "valid for 89 more days"
    assert untrusted.status == "fail"
    assert "not valid" in untrusted.detail


def test_a_public_address_without_https_fails():
    result = doctor._certificate("book.example.com", None, "http", NOW, None)
    assert result == doctor.Result("TLS certificate", "fail", "the public address is not HTTPS")


def _self_signed(directory: Path, days: int) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(hours=1))
        .not_valid_after(now + timedelta(days=days, hours=-1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / f"cert-{days}.pem", directory / f"key-{days}.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path
