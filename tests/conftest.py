"""Test setup: which database, no outbound network, tasks run inline.

``SLOTWISE_TEST_DATABASE`` picks the database:

- ``sqlite`` (the default) runs every test on a SQLite file in the temp
  directory, ``test_slotwise_<pid>.sqlite3``, in WAL mode as in production;
  tests marked ``postgres_only`` are skipped.
- ``postgres`` runs only the tests that use the database (and those marked
  ``postgres_only``) against PostgreSQL at ``SLOTWISE_TEST_DATABASE_URL``
  (default ``postgres://postgres@127.0.0.1:5432/postgres``), in a test
  database named ``test_slotwise_<pid>`` that pytest-django creates and drops,
  so concurrent runs never meet. If the server cannot be reached the run is
  skipped with one message, unless ``CI=true``, where that is a failure.

The cache, where the API's rate limits count, is in memory and emptied
before every test; tests/api/test_rate_limits.py tries the database cache
and Redis on purpose.
"""

import ipaddress
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/postgres"
POSTGRES_UNREACHABLE = pytest.StashKey[bool]()
DB_FIXTURES = {"db", "transactional_db", "django_db_reset_sequences", "client", "live_server"}


def database_mode() -> str:
    mode = os.environ.get("SLOTWISE_TEST_DATABASE", "sqlite").strip().lower() or "sqlite"
    if mode not in ("sqlite", "postgres"):
        raise pytest.UsageError(
            f"SLOTWISE_TEST_DATABASE must be 'sqlite' or 'postgres', not {mode!r}."
        )
    return mode


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def pytest_report_header(config: pytest.Config) -> str:
    return f"slotwise test database: {database_mode()}"


def pytest_configure(config: pytest.Config) -> None:
    """Choose the settings before Django loads them.

    Django opens its default connection while importing the models, so the
    database has to be in the environment before settings load: that is why
    this hook, not pytest.ini_options, names ``slotwise.settings``. The tests
    ignore the ``SLOTWISE_*`` variables of the shell they run in.
    """
    from django.conf import settings

    if settings.configured:
        raise pytest.UsageError(
            "Django settings were loaded before tests/conftest.py could choose them; "
            "unset DJANGO_SETTINGS_MODULE."
        )
    for name in [name for name in os.environ if name.startswith("SLOTWISE_")]:
        if not name.startswith("SLOTWISE_TEST_"):
            del os.environ[name]
    run = f"test_slotwise_{os.getpid()}"
    if database_mode() == "postgres":
        os.environ["SLOTWISE_DATABASE_URL"] = (
            os.environ.get("SLOTWISE_TEST_DATABASE_URL") or DEFAULT_POSTGRES_URL
        )
        test_name = run
    else:
        # A file, not memory: SQLite's shared-cache memory databases lock
        # differently from the WAL files slotwise runs on.
        scratch = Path(tempfile.gettempdir())
        os.environ["SLOTWISE_DATABASE_URL"] = f"sqlite:///{scratch / 'slotwise-unused.sqlite3'}"
        test_name = str(scratch / f"{run}.sqlite3")
    # Out of the database, so that counting requests never shows in query counts.
    os.environ["SLOTWISE_CACHE_URL"] = "locmem://slotwise-tests"
    os.environ["DJANGO_SETTINGS_MODULE"] = "slotwise.settings"

    settings.DATABASES["default"]["TEST"] = {"NAME": test_name}
    # Tasks run as they are enqueued; a test that needs the queue itself can
    # switch back with the `settings` fixture.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}


def pytest_sessionstart(session: pytest.Session) -> None:
    # The factory fixtures (make_org, make_service...) for every test; they
    # import models, so only once Django is set up.
    session.config.pluginmanager.import_plugin("tests.factories")
    if database_mode() != "postgres":
        return
    import psycopg
    from django.conf import settings

    database = settings.DATABASES["default"]
    try:
        psycopg.connect(
            host=database["HOST"] or None,
            port=database["PORT"] or None,
            user=database["USER"] or None,
            password=database["PASSWORD"] or None,
            dbname=database["NAME"],
            connect_timeout=3,
        ).close()
    except psycopg.OperationalError as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        if in_ci():
            pytest.exit(f"PostgreSQL is unreachable, and CI needs it: {reason}", returncode=3)
        session.config.stash[POSTGRES_UNREACHABLE] = True
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line(
                f"Skipping the PostgreSQL run (CI=true makes this an error): {reason}",
                yellow=True,
            )


def uses_database(item: pytest.Item) -> bool:
    fixtures = set(getattr(item, "fixturenames", ()))
    return item.get_closest_marker("django_db") is not None or bool(fixtures & DB_FIXTURES)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if database_mode() == "postgres":
        keep, drop = [], []
        unreachable = config.stash.get(POSTGRES_UNREACHABLE, False)
        for item in items:
            wanted = uses_database(item) or item.get_closest_marker("postgres_only")
            (keep if wanted and not unreachable else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL (SLOTWISE_TEST_DATABASE=postgres)")
    for item in items:
        if item.get_closest_marker("postgres_only"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _empty_cache() -> None:
    """No test inherits another's requests in the rate limit counts."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _every_organization() -> Iterator[None]:
    """Test code sees every organization's rows, as the operator's commands do.

    What the app runs still starts with no organization: each request
    (``TenantMiddleware``) and each background task enter their own, so a
    query that forgets its tenant fails in the tests as in production.
    """
    from slotwise.organizations.tenancy import unscoped

    with unscoped():
        yield


# Outbound network: tests talk to this machine only.

LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


class OutboundNetworkBlocked(OSError):
    """A test tried to reach a host other than this machine."""


def is_local_address(address: object) -> bool:
    """True for loopback addresses, ``localhost`` and Unix socket paths."""
    if isinstance(address, (str, bytes)):
        return True  # a Unix socket path
    if not isinstance(address, tuple) or not address:
        return False
    host = address[0]
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    host = host.strip("[]").lower()
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _refuse(address: object) -> None:
    raise OutboundNetworkBlocked(f"tests may not connect to {address!r}, only to this machine")


@pytest.fixture(autouse=True, scope="session")
def _no_outbound_network() -> Iterator[None]:
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_create_connection = socket.create_connection

    def connect(self: socket.socket, address: Any) -> None:
        if self.family != socket.AF_UNIX and not is_local_address(address):
            _refuse(address)
        real_connect(self, address)

    def connect_ex(self: socket.socket, address: Any) -> int:
        if self.family != socket.AF_UNIX and not is_local_address(address):
            _refuse(address)
        return real_connect_ex(self, address)

    def create_connection(address: Any, *args: Any, **kwargs: Any) -> socket.socket:
        if not is_local_address(address):
            _refuse(address)
        return real_create_connection(address, *args, **kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket.socket, "connect", connect)
        patch.setattr(socket.socket, "connect_ex", connect_ex)
        patch.setattr(socket, "create_connection", create_connection)
        yield
