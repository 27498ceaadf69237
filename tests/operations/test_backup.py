"""Backups restore into an empty database with every booking, message and payment."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from slotwise import cli
from slotwise.demo import load_demo
from slotwise.operations.backup import (
    BackupError,
    backup,
    restore,
    summarize,
    summarize_tables,
)

pytestmark = pytest.mark.django_db(transaction=True)

# Compared row by row between the live database and the restored one.
COMPARED = {
    "bookings_booking": "id, service_id, starts_at, ends_at, status, customer_email",
    "notifications_message": "id, booking_id, kind, recipient, status, message_id",
    "payments_payment": "id, booking_id, amount_minor, status",
    "payments_ledgerentry": "id, payment_id, kind, amount_minor, status",
    "audit_auditentry": "id, action, actor",
}


@pytest.fixture
def data(client) -> dict[str, int]:
    """The demo organization, plus a booking paid at the venue through the public API."""
    from slotwise.catalog.models import Service
    from slotwise.organizations.tenancy import unscoped

    load_demo()
    with unscoped():
        portrait = Service.objects.get(slug="portrait-session")
    slots = client.get(
        f"/api/v1/services/{portrait.pk}/slots",
        {"start": "2027-03-01", "end": "2027-03-05", "tz": "Europe/London"},
    ).json()
    start = next(slot for day in slots["days"] for slot in day["slots"])["start"]
    answer = client.post(
        "/api/v1/bookings",
        {
            "service_id": portrait.pk,
            "start": start,
            "duration": 60,
            "customer": {
                "name": "Ada Lovelace",
                "email": "ada@example.com",
                "time_zone": "Europe/London",
            },
        },
        content_type="application/json",
    )
    assert answer.status_code == 201, answer.content
    counts = summarize(settings.DATABASES["default"])
    assert counts["bookings"] > 0
    assert counts["messages"] > 0
    assert counts["payments"] > 0
    return counts


@pytest.fixture
def empty_database(tmp_path) -> Iterator[dict[str, Any]]:
    """A ``DATABASES`` entry for a new, empty database of the kind under test."""
    live = settings.DATABASES["default"]
    if connection.vendor == "sqlite":
        yield {**live, "NAME": str(tmp_path / "restored.sqlite3")}
        return
    import psycopg

    name = f"{live['NAME']}_restored"
    admin = {k: v for k, v in _libpq(live).items() if k != "dbname"}
    with psycopg.connect(dbname="postgres", autocommit=True, **admin) as server:
        server.execute(f'DROP DATABASE IF EXISTS "{name}"')
        server.execute(f'CREATE DATABASE "{name}"')
    try:
        yield {**live, "NAME": name}
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **admin) as server:
            server.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_restores_into_an_empty_database_with_every_row(data, empty_database, tmp_path):
    live = settings.DATABASES["default"]
    suffix = "dump" if connection.vendor == "postgresql" else "sqlite3"

    taken = backup(live, tmp_path / f"slotwise.{suffix}")
    restored = restore(empty_database, taken.path)

    assert taken.counts == data
    assert restored.counts == data
    for table, columns in COMPARED.items():
        assert _rows(empty_database, table, columns) == _rows(live, table, columns), table
    assert summarize_tables(empty_database) == summarize_tables(live)


def test_restore_refuses_a_database_that_has_tables(data, tmp_path):
    live = settings.DATABASES["default"]
    taken = backup(live, tmp_path / "slotwise.backup")

    with pytest.raises(BackupError, match="not empty"):
        restore(live, taken.path)

    assert summarize(live) == data


def test_a_backup_never_overwrites_an_earlier_one(data, tmp_path):
    earlier = tmp_path / "slotwise.backup"
    earlier.write_bytes(b"an earlier backup")

    with pytest.raises(BackupError, match="exists already"):
        backup(settings.DATABASES["default"], earlier)

    assert earlier.read_bytes() == b"an earlier backup"
    assert list(tmp_path.iterdir()) == [earlier]


def test_the_commands_back_up_and_restore(data, empty_database, tmp_path, monkeypatch, capsys):
    path = tmp_path / "by-command.backup"
    assert cli.main(["backup", str(path)]) == 0
    assert "Backed up to" in capsys.readouterr().out

    monkeypatch.setitem(settings.DATABASES, "default", empty_database)
    assert cli.main(["restore", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"{data['bookings']} bookings" in out
    assert cli.main(["restore", str(path)]) == 1
    assert "not empty" in capsys.readouterr().err


@pytest.mark.usefixtures("data")
def test_a_missing_or_foreign_file_is_refused(empty_database, tmp_path):
    with pytest.raises(BackupError, match="no backup"):
        restore(empty_database, tmp_path / "nothing-here")
    if connection.vendor == "sqlite":
        foreign = tmp_path / "foreign.sqlite3"
        with closing(sqlite3.connect(foreign)) as other:
            other.execute("CREATE TABLE t (x)")
        with pytest.raises(BackupError, match="not a slotwise"):
            restore(empty_database, foreign)
        assert not os.path.exists(empty_database["NAME"]) or not summarize_tables(empty_database)


def _libpq(database: dict[str, Any]) -> dict[str, Any]:
    from slotwise.operations.backup import _libpq as libpq

    return libpq(database)


def _rows(database: dict[str, Any], table: str, columns: str) -> list[tuple[Any, ...]]:
    query = f"SELECT {columns} FROM {table} ORDER BY id"  # noqa: S608 (fixed names)
    if "postgresql" in database["ENGINE"]:
        import psycopg

        with psycopg.connect(**_libpq(database)) as db:
            return [tuple(row) for row in db.execute(query).fetchall()]
    with closing(sqlite3.connect(Path(database["NAME"]))) as db:
        return db.execute(query).fetchall()
