"""`make load` keeps working: a short run with a small crowd finds nothing wrong."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.postgres_only  # the load test runs on PostgreSQL only


def test_a_short_load_run_reports_every_figure_and_finds_nothing_wrong():
    env = {
        **os.environ,
        "SLOTWISE_LOAD_CUSTOMERS": "30",
        "SLOTWISE_LOAD_SECONDS": "4",
    }
    done = subprocess.run(
        [sys.executable, "bench/load.py"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    figures = dict(line.split(": ", 1) for line in done.stdout.splitlines())
    for name in (
        "load_slots_p99_ms",
        "load_book_p99_ms",
        "load_requests_per_s",
        "overbooked_instants",
        "messages_lost",
        "messages_duplicated",
    ):
        assert name in figures
    assert figures["overbooked_instants"] == "0 instants"
    assert figures["messages_lost"] == "0 messages"
    assert figures["messages_duplicated"] == "0 messages"
    assert int(figures["messages_due"].split()[0]) > 0
