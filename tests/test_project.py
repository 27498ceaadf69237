"""Smoke tests of the project as a whole: it answers, it sends its security headers."""

import os
import re
import socket

import pytest
from django.core.management import call_command
from django.db import OperationalError, connection

from tests.conftest import OutboundNetworkBlocked, is_local_address


def test_system_checks_pass(capsys, db):
    call_command("check")

    assert "no issues" in capsys.readouterr().out


def test_healthz_answers_ok(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


class GoneDatabase:
    def cursor(self) -> None:
        raise OperationalError("connection refused")


def test_healthz_says_when_the_database_is_gone(client, db, monkeypatch):
    monkeypatch.setattr("slotwise.urls.connection", GoneDatabase())

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json() == {"status": "unavailable"}


def test_healthz_only_reads(client, db):
    assert client.post("/healthz").status_code == 405


def test_security_headers(client, db):
    response = client.get("/healthz")

    policy = response["Content-Security-Policy"]
    for directive in (
        "default-src 'self'",
        "script-src 'self'",
        "object-src 'none'",
        "frame-ancestors 'none'",
        "base-uri 'self'",
        "img-src 'self' data:",
    ):
        assert directive in policy
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_api_docs_run_under_the_content_security_policy(client, db):
    response = client.get("/api/v1/docs")

    assert response.status_code == 200
    assert "Content-Security-Policy" in response
    page = response.content.decode()
    for attributes, body in re.findall(r"<script([^>]*)>(.*?)</script>", page, re.DOTALL):
        inline_code = body.strip() and "application/json" not in attributes
        assert not inline_code or "nonce=" in attributes, f"inline script: {body[:80]!r}"
    for asset in re.findall(r'(?:src|href)="(/static/[^"]+)"', page):
        served = client.get(asset)
        served.close()
        assert served.status_code == 200, asset


# The tests' own guard against outbound network


@pytest.mark.parametrize(
    ("address", "local"),
    [
        (("127.0.0.1", 5432), True),
        (("127.8.9.10", 80), True),
        (("::1", 80, 0, 0), True),
        (("localhost", 8000), True),
        ("/run/postgresql/.s.PGSQL.5432", True),
        (("203.0.113.5", 443), False),
        (("10.0.0.1", 5432), False),
        (("example.com", 80), False),
        (("::ffff:203.0.113.5", 80, 0, 0), False),
    ],
)
def test_only_this_machine_counts_as_local(address, local):
    assert is_local_address(address) is local


def test_outbound_connections_are_refused():
    target = ("203.0.113.5", 443)
    assert not is_local_address(target)  # so the guard raises before any packet

    with socket.socket() as sock, pytest.raises(OutboundNetworkBlocked):
        sock.connect(target)
    with pytest.raises(OutboundNetworkBlocked):
        socket.create_connection(target, timeout=1)


# Each test run has a database of its own


@pytest.mark.postgres_only
def test_postgres_run_uses_a_database_of_its_own(db):
    assert connection.vendor == "postgresql"
    assert connection.settings_dict["NAME"] == f"test_slotwise_{os.getpid()}"


def test_sqlite_runs_in_wal_mode(db):
    if connection.vendor != "sqlite":
        pytest.skip("SQLite only")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
