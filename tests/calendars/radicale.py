"""Radicale, a real CalDAV server, for the calendar tests.

:func:`serve` runs ``python -m radicale`` on 127.0.0.1 with everything in a
directory of its own: a config file, a htpasswd file with one user
(:data:`USERNAME` / :data:`PASSWORD`, stored in plain text) and the
collections. Each user may only touch their own collections (``owner_only``).
:meth:`Radicale.make_calendar` creates a calendar with MKCALENDAR, as a
provider's own calendar app would, and returns it as a ``caldav`` calendar
for adding "the provider's own" events directly::

    with serve(tmp_path) as radicale:
        calendar = radicale.make_calendar("Work")
        calendar.add_event(ICS)
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import caldav

USERNAME = "ann"
PASSWORD = "secret"
STARTUP_SECONDS = 15

CONFIG = """\
[server]
hosts = 127.0.0.1:{port}

[auth]
type = htpasswd
htpasswd_filename = {users}
htpasswd_encryption = plain
# A wrong password is answered at once, not after Radicale's default second.
delay = 0

[rights]
type = owner_only

[storage]
filesystem_folder = {collections}

[web]
type = none

[logging]
level = warning
"""


@dataclass
class Radicale:
    url: str  # the server's root, e.g. http://127.0.0.1:5232/
    username: str = USERNAME
    password: str = PASSWORD
    _client: caldav.DAVClient | None = field(default=None, repr=False)

    @property
    def principal_url(self) -> str:
        return f"{self.url}{self.username}/"

    def client(self) -> caldav.DAVClient:
        """A caldav client logged in as the user, closed when the server stops."""
        if self._client is None:
            self._client = caldav.DAVClient(
                self.url, username=self.username, password=self.password, enable_rfc6764=False
            )
        return self._client

    def make_calendar(self, name: str) -> caldav.Calendar:
        """A new, empty calendar of the user's, named ``name``, under a fresh URL."""
        return self.client().principal().make_calendar(name=name)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


@contextmanager
def serve(directory: Path) -> Iterator[Radicale]:
    """Run Radicale with its files in ``directory`` until the block ends."""
    port = free_port()
    users = directory / "users"
    users.write_text(f"{USERNAME}:{PASSWORD}\n", encoding="utf-8")
    config = directory / "config"
    config.write_text(
        CONFIG.format(port=port, users=users, collections=directory / "collections"),
        encoding="utf-8",
    )
    log = directory / "radicale.log"
    with log.open("w", encoding="utf-8") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "radicale", "--config", str(config)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    radicale = Radicale(url=f"http://127.0.0.1:{port}/")
    try:
        _wait_until_ready(process, radicale.url, log)
        yield radicale
    finally:
        radicale.close()
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (as of now)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_until_ready(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (our own http URL)
                return
        except urllib.error.HTTPError:
            return  # it answers, if only to say who may come in
        except (urllib.error.URLError, ConnectionError) as exc:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(
                    f"Radicale did not start ({exc}):\n{log.read_text(encoding='utf-8')}"
                ) from exc
            time.sleep(0.05)
