"""A real Stripe-compatible server for the payment tests: localstripe on 127.0.0.1.

One server runs for the whole session (see :mod:`tests.payments.localstripe`);
``localstripe`` empties it before each test and points
``settings.SLOTWISE_STRIPE`` at it.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import IO, NoReturn

import pytest
import time_machine

from slotwise import config
from tests.payments.flows import NOW, POLICY
from tests.payments.localstripe import LocalStripe

REPO_DIR = Path(__file__).resolve().parents[2]
STARTUP_SECONDS = 15


@pytest.fixture(scope="session")
def localstripe_url() -> Iterator[str]:
    """Start localstripe; its address, until the session ends."""
    with tempfile.TemporaryFile(mode="w+", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "tests.payments.localstripe"],
            cwd=REPO_DIR,
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            url = _wait_until_ready(process, stderr)
            yield url
        finally:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _wait_until_ready(process: subprocess.Popen[str], stderr: IO[str]) -> str:
    def fail(why: str) -> NoReturn:
        stderr.seek(0)
        pytest.fail(f"localstripe {why}:\n{stderr.read()}", pytrace=False)

    assert process.stdout is not None
    port = process.stdout.readline().strip()
    if not port.isdigit():
        fail("did not start")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            with urllib.request.urlopen(f"{url}/js.stripe.com/v3/", timeout=1):  # noqa: S310
                return url
        except (urllib.error.URLError, ConnectionError):
            if process.poll() is not None or time.monotonic() > deadline:
                fail("does not answer")
            time.sleep(0.05)


@pytest.fixture
def localstripe(localstripe_url: str, settings) -> LocalStripe:
    """An empty localstripe, and slotwise's Stripe settings pointing at it."""
    server = LocalStripe(localstripe_url)
    server.flush()
    settings.SLOTWISE_STRIPE = config.Stripe(
        secret_key=server.secret_key,
        publishable_key=server.publishable_key,
        webhook_secret=server.webhook_secret,
        api_url=server.url,
    )
    return server


@pytest.fixture
def clock():
    """The clock stopped at :data:`~tests.payments.flows.NOW`, for moving by hand."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def org(make_org, make_resource):
    """An organization paid through Stripe, in euros, with one person (Ann)."""
    org = make_org(payment_provider="stripe", currency="EUR")
    make_resource(org, name="Ann")
    return org


@pytest.fixture
def paid_service(org, make_service):
    """50.00 EUR paid in full when booking, refunded by :data:`~tests.payments.flows.POLICY`."""
    return make_service(org, price_minor=5000, payment_mode="full", cancellation_policy=POLICY)
