"""Back up the database to one file, and restore that file into an empty database.

PostgreSQL goes through ``pg_dump --format=custom`` and ``pg_restore`` (the
client tools of the server's major version or newer must be on ``PATH``);
SQLite through its online backup API, which copies a consistent snapshot
while the app keeps writing. Either way the backup is the whole database:
every organization, booking, message, payment and audit entry, and the
migration state, so a restored database is the one that was backed up, and
``slotwise migrate`` brings it up to a newer slotwise.

Restoring never merges: the target must be empty (no tables), so a restore
cannot mix two databases' rows or overwrite live data by a slip of the
finger.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

__all__ = [
    "COUNTED_TABLES",
    "BackupError",
    "Summary",
    "backup",
    "default_path",
    "restore",
    "summarize",
]

# What a backup report counts, by table: what an operator checks first.
COUNTED_TABLES = {
    "organizations": "organizations_organization",
    "bookings": "bookings_booking",
    "messages": "notifications_message",
    "payments": "payments_payment",
    "audit entries": "audit_auditentry",
}


class BackupError(Exception):
    """The backup or restore could not be made; the message says why."""


@dataclass(frozen=True, slots=True)
class Summary:
    """Where a backup or restore went, and how many rows of each kind it holds."""

    path: Path
    counts: dict[str, int]

    def describe(self) -> str:
        counted = ", ".join(f"{n} {what}" for what, n in self.counts.items())
        return f"{self.path}: {counted}"


def default_path(database: Mapping[str, Any], directory: Path, now: datetime) -> Path:
    """``<directory>/slotwise-<UTC time>.<dump|sqlite3>``."""
    suffix = "dump" if _is_postgres(database) else "sqlite3"
    return directory / f"slotwise-{now.astimezone(UTC):%Y%m%dT%H%M%SZ}.{suffix}"


def backup(database: Mapping[str, Any], path: Path) -> Summary:
    """Write a backup of ``database`` (a Django ``DATABASES`` entry) to ``path``.

    ``path`` must not exist yet: an earlier backup is never overwritten. The
    file is written beside it under a temporary name and renamed when
    complete, so a failed backup leaves no file that looks whole.
    """
    if path.exists():
        raise BackupError(f"{path} exists already; choose a new name.")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if _is_postgres(database):
            _run(
                ["pg_dump", "--format=custom", "--no-owner", "--no-privileges", "-f", str(partial)],
                database,
            )
        else:
            source = _sqlite_path(database)
            if not source.exists():
                raise BackupError(f"There is no database at {source}.")
            with _sqlite(source) as live, _sqlite(partial) as copy:
                live.backup(copy)
        partial.rename(path)
    finally:
        partial.unlink(missing_ok=True)
    return Summary(path, _counts_in_file(database, path))


def restore(database: Mapping[str, Any], path: Path) -> Summary:
    """Restore the backup at ``path`` into ``database``, which must have no tables.

    PostgreSQL restores in one transaction: a failure leaves the database as
    empty as it was.
    """
    if not path.is_file():
        raise BackupError(f"There is no backup at {path}.")
    tables = summarize_tables(database)
    if tables:
        raise BackupError(
            f"The database is not empty ({len(tables)} tables, e.g. {sorted(tables)[0]}): "
            "restore only into a new, empty database."
        )
    if _is_postgres(database):
        _run(
            [
                "pg_restore",
                "--no-owner",
                "--no-privileges",
                "--exit-on-error",
                "--single-transaction",
                str(path),
            ],
            database,
            dbname_flag=True,
        )
    else:
        target = _sqlite_path(database)
        target.parent.mkdir(parents=True, exist_ok=True)
        with _sqlite(path) as saved, _sqlite(target) as live:
            if not _is_sqlite_backup(saved):
                raise BackupError(f"{path} is not a slotwise SQLite backup.")
            saved.backup(live)
    return Summary(path, summarize(database))


def summarize(database: Mapping[str, Any]) -> dict[str, int]:
    """Rows of each :data:`COUNTED_TABLES` kind in ``database`` (absent tables count 0)."""
    if _is_postgres(database):
        import psycopg

        with psycopg.connect(**_libpq(database)) as connection:
            return {
                what: _count(connection.execute, table) for what, table in COUNTED_TABLES.items()
            }
    with _sqlite(_sqlite_path(database)) as connection:
        return {what: _count(connection.execute, table) for what, table in COUNTED_TABLES.items()}


def summarize_tables(database: Mapping[str, Any]) -> set[str]:
    """The names of the tables in ``database``."""
    if _is_postgres(database):
        import psycopg

        with psycopg.connect(**_libpq(database)) as connection:
            rows = connection.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
            ).fetchall()
        return {name for (name,) in rows}
    target = _sqlite_path(database)
    if not target.exists():
        return set()
    with _sqlite(target) as connection:
        rows = connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        ).fetchall()
    return {name for (name,) in rows}


def _counts_in_file(database: Mapping[str, Any], path: Path) -> dict[str, int]:
    """Counts from the backup file itself where that is cheap (SQLite); else from the
    database it was taken from, which the snapshot matches up to writes since."""
    if _is_postgres(database):
        return summarize(database)
    with _sqlite(path) as connection:
        return {what: _count(connection.execute, table) for what, table in COUNTED_TABLES.items()}


def _count(execute: Any, table: str) -> int:
    try:
        (n,) = execute(f'SELECT count(*) FROM "{table}"').fetchone()  # noqa: S608 (our names)
    except (sqlite3.OperationalError, _psycopg_errors()):
        return 0
    return int(n)


def _psycopg_errors() -> type[Exception]:
    try:
        import psycopg
    except ImportError:  # pragma: no cover - psycopg is a dependency
        return sqlite3.OperationalError
    return psycopg.errors.UndefinedTable


class _sqlite:
    """A plain sqlite3 connection, closed on leaving (sqlite3's own context manager
    only commits)."""

    def __init__(self, path: Path) -> None:
        self.connection = sqlite3.connect(path)

    def __enter__(self) -> sqlite3.Connection:
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


def _is_sqlite_backup(connection: sqlite3.Connection) -> bool:
    try:
        connection.execute("SELECT count(*) FROM django_migrations").fetchone()
    except sqlite3.DatabaseError:
        return False
    return True


def _is_postgres(database: Mapping[str, Any]) -> bool:
    return "postgresql" in str(database["ENGINE"])


def _sqlite_path(database: Mapping[str, Any]) -> Path:
    name = str(database["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        raise BackupError("An in-memory SQLite database cannot be backed up.")
    return Path(name)


def _libpq(database: Mapping[str, Any]) -> dict[str, Any]:
    """psycopg connection arguments for a Django PostgreSQL ``DATABASES`` entry."""
    options = {
        "dbname": database.get("NAME"),
        "user": database.get("USER"),
        "password": database.get("PASSWORD"),
        "host": database.get("HOST"),
        "port": database.get("PORT"),
    }
    return {key: value for key, value in options.items() if value not in (None, "")}


def _run(command: list[str], database: Mapping[str, Any], *, dbname_flag: bool = False) -> None:
    """Run a PostgreSQL client tool against ``database``; the password goes through
    the environment, never the command line."""
    tool = shutil.which(command[0])
    if tool is None:
        raise BackupError(
            f"{command[0]} is not on PATH: install PostgreSQL's client tools "
            "(Debian: postgresql-client) of the server's major version or newer."
        )
    params = _libpq(database)
    environment = {**os.environ, "PGCONNECT_TIMEOUT": "10"}
    for key, variable in (
        ("host", "PGHOST"),
        ("port", "PGPORT"),
        ("user", "PGUSER"),
        ("password", "PGPASSWORD"),
    ):
        if key in params:
            environment[variable] = str(params[key])
    dbname = ["--dbname", str(params["dbname"])]
    arguments = [tool, *command[1:-1], *dbname, command[-1]] if dbname_flag else [
        tool, *command[1:], *dbname
    ]  # fmt: skip
    finished = subprocess.run(  # noqa: S603 (fixed tool, our arguments)
        arguments, env=environment, capture_output=True, text=True, check=False
    )
    if finished.returncode != 0:
        detail = finished.stderr.strip().splitlines()[-1:] or [f"exit {finished.returncode}"]
        raise BackupError(f"{command[0]} failed: {detail[0]}")
