"""Running slotwise's own commands as subprocesses against the tests' database."""

from __future__ import annotations

import os
import socket
import time
import urllib.request
from pathlib import Path

import pytest

from tests.notifications.conftest import smtp_server  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def process_env(tmp_path) -> dict[str, str]:
    """The environment of a ``slotwise`` subprocess using the database under test
    (whose rows it sees only when committed: use ``transaction=True``)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        url = f"sqlite:///{database['NAME']}"
    else:
        url = (
            f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}"
            f"/{database['NAME']}"
        )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLOTWISE", "PROMETHEUS"))}
    return env | {
        "DJANGO_SETTINGS_MODULE": "slotwise.settings",
        "SLOTWISE_DATABASE_URL": url,
        "SLOTWISE_VAR_DIR": str(tmp_path),
        "SLOTWISE_RATE_LIMITS": "off",
    }


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as answer:  # noqa: S310 (our own server)
        return answer.read().decode()


def wait_until_up(base: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            get(f"{base}/healthz")
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"{base} did not start")
