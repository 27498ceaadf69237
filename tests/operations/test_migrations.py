"""Migrations that can run while the previous version is still serving.

A deployment migrates first and then replaces the running code, so for a
while the old code runs against the new schema, and every migration runs
against tables that live traffic is writing. On PostgreSQL each migration's
SQL (``sqlmigrate``) must therefore avoid what blocks those writes for long
or breaks the old code:

- ``index``: ``CREATE INDEX`` on an existing table without ``CONCURRENTLY``
  (writes wait for the whole build; use ``AddIndexConcurrently`` in a
  non-atomic migration);
- ``unique``: a ``UNIQUE`` column or ``UNIQUE``/``EXCLUDE`` constraint added
  to an existing table (the same, for its index);
- ``validate``: a foreign key or check constraint added to an existing table
  without ``NOT VALID`` (the whole table is scanned under lock);
- ``not-null``: ``SET NOT NULL`` on an existing column (a scan under lock);
- ``rewrite``: ``ALTER COLUMN ... TYPE`` (the table is rewritten under lock);
- ``old-inserts``: a ``NOT NULL`` column whose default is dropped again (the
  old code's inserts, which do not name it, fail: give it ``db_default``);
- ``breaks-old-code``: ``DROP COLUMN``, ``DROP TABLE`` or ``RENAME`` (release
  the code that stops using it first, drop it in a later release).

Migrations written before this check are listed in :data:`KNOWN` with what
they do; nothing may be added there.
"""

from __future__ import annotations

import io
import re

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]

# (app, migration) -> the problems it has; all were applied before there was live
# traffic to protect. Do not add to this list: write the migration the safe way.
KNOWN: dict[tuple[str, str], set[str]] = {
    ("accounts", "0002_membership_notifications"): {"old-inserts"},
    ("accounts", "0003_membership_daily_agenda"): {"old-inserts"},
    ("bookings", "0002_booking_engine"): {"index", "old-inserts", "unique", "validate"},
    ("bookings", "0004_series_manage_token"): {"index", "unique"},
    ("bookings", "0006_booking_reschedules_booking_terms"): {"old-inserts"},
    ("calendars", "0002_connections_copies_feeds"): {"index", "old-inserts"},
    ("catalog", "0002_service_requires_approval"): {"old-inserts"},
    ("catalog", "0003_resource_user"): {"index"},
    ("catalog", "0004_service_reminder_minutes"): {"old-inserts"},
    ("catalog", "0005_service_payment_terms"): {"old-inserts", "validate"},
    ("catalog", "0006_service_waitlist"): {"old-inserts"},
    ("notifications", "0003_agenda"): {"index", "validate"},
    ("organizations", "0003_organization_embed_origins"): {"old-inserts"},
    ("organizations", "0004_api_key_scopes_expiry"): {"old-inserts"},
    ("organizations", "0005_organization_payment_provider"): {"old-inserts"},
}

RULES = {
    "index": re.compile(r'^CREATE (UNIQUE )?INDEX (?!CONCURRENTLY)"[^"]+" ON "(?P<table>[^"]+)"'),
    "unique": re.compile(
        r'^ALTER TABLE "(?P<table>[^"]+)" ADD '
        r'(COLUMN .* UNIQUE|CONSTRAINT "[^"]+" (UNIQUE|EXCLUDE))'
    ),
    "validate": re.compile(
        r'^ALTER TABLE "(?P<table>[^"]+)" ADD CONSTRAINT "[^"]+" (FOREIGN KEY|CHECK)(?!.*NOT VALID)'
    ),
    "not-null": re.compile(r'^ALTER TABLE "(?P<table>[^"]+)" ALTER COLUMN "[^"]+" SET NOT NULL'),
    "rewrite": re.compile(r'^ALTER TABLE "(?P<table>[^"]+)" ALTER COLUMN "[^"]+" TYPE'),
    "breaks-old-code": re.compile(
        r'^(ALTER TABLE "(?P<table>[^"]+)" (DROP COLUMN|RENAME)'
        r'|DROP TABLE|ALTER TABLE "[^"]+" RENAME TO)'
    ),
}
CREATED = re.compile(r'^CREATE TABLE "(?P<table>[^"]+)"')
ADDED_NOT_NULL = re.compile(
    r'^ALTER TABLE "(?P<table>[^"]+)" ADD COLUMN "(?P<column>[^"]+)" .*NOT NULL'
)
DROPPED_DEFAULT = re.compile(
    r'^ALTER TABLE "(?P<table>[^"]+)" ALTER COLUMN "(?P<column>[^"]+)" DROP DEFAULT'
)


def problems(sql: str) -> set[str]:
    """What in one migration's SQL would block writes or break the old code."""
    created: set[str] = set()
    not_null: set[tuple[str, str]] = set()
    found: set[str] = set()
    for line in (line.strip() for line in sql.splitlines()):
        if match := CREATED.match(line):
            created.add(match["table"])
            continue
        if (match := ADDED_NOT_NULL.match(line)) and match["table"] not in created:
            not_null.add((match["table"], match["column"]))
        if (match := DROPPED_DEFAULT.match(line)) and (
            match["table"],
            match["column"],
        ) in not_null:
            found.add("old-inserts")
        for name, rule in RULES.items():
            match = rule.match(line)
            if match and (match.groupdict().get("table") or "") not in created:
                found.add(name)
    return found


def _slotwise_migrations() -> list[tuple[str, str]]:
    loader = MigrationLoader(connection, ignore_no_migrations=True)
    ours = {c.label for c in apps.get_app_configs() if c.name.startswith("slotwise.")}
    return [key for key in loader.graph.nodes if key[0] in ours]


def _sql(app: str, name: str) -> str:
    """The SQL of one migration, as against a database migrated to the latest state:
    some operations (replacing a foreign key) depend on what exists."""
    out = io.StringIO()
    call_command("sqlmigrate", app, name, stdout=out)
    return out.getvalue()


def test_every_migration_can_run_under_live_traffic():
    found = {}
    for app, name in sorted(_slotwise_migrations()):
        if name == "0001_initial":
            continue  # creates its tables: nobody is using them yet
        if seen := problems(_sql(app, name)):
            found[(app, name)] = seen

    assert found == KNOWN


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ('CREATE INDEX "i" ON "bookings_booking" ("status");', {"index"}),
        ('CREATE INDEX CONCURRENTLY "i" ON "bookings_booking" ("status");', set()),
        ('CREATE TABLE "new_t" ("id" bigint);\nCREATE INDEX "i" ON "new_t" ("id");', set()),
        ('ALTER TABLE "bookings_series" ADD COLUMN "h" varchar(64) NULL UNIQUE;', {"unique"}),
        (
            'ALTER TABLE "a" ADD CONSTRAINT "f" FOREIGN KEY ("b") REFERENCES "b" ("id");',
            {"validate"},
        ),
        ('ALTER TABLE "a" ADD CONSTRAINT "f" CHECK ("x" > 0) NOT VALID;', set()),
        ('ALTER TABLE "a" ALTER COLUMN "x" SET NOT NULL;', {"not-null"}),
        ('ALTER TABLE "a" ALTER COLUMN "x" TYPE bigint USING "x"::bigint;', {"rewrite"}),
        ('ALTER TABLE "a" DROP COLUMN "x" CASCADE;', {"breaks-old-code"}),
        ('ALTER TABLE "a" RENAME COLUMN "x" TO "y";', {"breaks-old-code"}),
        (
            'ALTER TABLE "bookings_booking" ADD COLUMN "n" integer DEFAULT 0 NOT NULL;\n'
            'ALTER TABLE "bookings_booking" ALTER COLUMN "n" DROP DEFAULT;',
            {"old-inserts"},
        ),
        ('ALTER TABLE "bookings_booking" ADD COLUMN "n" integer DEFAULT 0 NOT NULL;', set()),
        ('ALTER TABLE "bookings_booking" ADD COLUMN "n" integer NULL;', set()),
    ],
)
def test_what_counts_as_unsafe(sql, expected):
    assert problems(sql) == expected
