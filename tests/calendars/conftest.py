"""A real HTTP server on 127.0.0.1 that serves calendar feeds to the code under test.

``feed_server`` starts one per test. Files under ``tests/calendars/feeds`` are
served at ``/feeds/<name>`` with an ``ETag`` and a ``Last-Modified``, and
answer ``304`` to a request that names them; any other path answers what
the test sets with :meth:`FeedServer.answer`, else ``404``::

    def test_reads_google(feed_server):
        fetched = ics.fetch(feed_server.url("/feeds/google.ics"))
        feed_server.answer("/private/basic.ics", status=500)
        assert feed_server.requests[0].headers["user-agent"] == "slotwise"
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.calendars.radicale import Radicale, serve

FEEDS = Path(__file__).parent / "feeds"
FEEDS_MODIFIED = "Sun, 01 Mar 2026 09:15:12 GMT"


@dataclass(frozen=True)
class Answer:
    """What the server answers on one path."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    etag: str = ""
    """Sent as ``ETag``; a request whose ``If-None-Match`` names it gets ``304``."""
    last_modified: str = ""
    """Sent as ``Last-Modified``; without ``If-None-Match``, an equal
    ``If-Modified-Since`` gets ``304``."""
    send_length: bool = True
    """False: no ``Content-Length``, the body ends when the connection closes."""
    hang: bool = False
    """Read the request and never answer."""
    drip: float = 0.0
    """Seconds between the body's bytes, sent one at a time."""


@dataclass(frozen=True)
class Seen:
    """A request the server received; header names in lower case."""

    method: str
    path: str
    headers: dict[str, str]


class FeedServer:
    """A threaded ``http.server`` on 127.0.0.1 and a free port."""

    def __init__(self) -> None:
        self.requests: list[Seen] = []
        self._answers: dict[str, Answer] = {}
        self._stopping = threading.Event()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, path: str, answer: Answer | None = None, **fields: Any) -> str:
        """Set what ``path`` answers (an :class:`Answer` and/or its fields); return its URL."""
        self._answers[path] = replace(answer or Answer(), **fields)
        return self.url(path)

    def redirect(self, path: str, to: str, status: int = 302) -> str:
        return self.answer(path, status=status, headers={"Location": to})

    def answer_for(self, path: str) -> Answer:
        if path in self._answers:
            return self._answers[path]
        name = path.removeprefix("/feeds/")
        if path.startswith("/feeds/") and "/" not in name and (FEEDS / name).is_file():
            body = (FEEDS / name).read_bytes()
            return Answer(
                body=body,
                headers={"Content-Type": "text/calendar; charset=utf-8"},
                etag=f'"{hashlib.sha256(body).hexdigest()[:16]}"',
                last_modified=FEEDS_MODIFIED,
            )
        return Answer(status=404, body=b"Not Found")

    def wait_for_stop(self, seconds: float) -> bool:
        return self._stopping.wait(seconds)

    def close(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


def _handler(feeds: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            headers = {name.lower(): value for name, value in self.headers.items()}
            feeds.requests.append(Seen("GET", self.path, headers))
            answer = feeds.answer_for(self.path)
            if answer.hang:
                feeds.wait_for_stop(30)
                self.close_connection = True
                return
            if _not_modified(answer, headers):
                self.send_response(304)
                self._validators(answer)
                self.end_headers()
                return
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self._validators(answer)
            if answer.send_length:
                self.send_header("Content-Length", str(len(answer.body)))
            self.end_headers()
            try:
                if not answer.drip:
                    self.wfile.write(answer.body)
                    return
                for i in range(len(answer.body)):
                    if feeds.wait_for_stop(answer.drip):
                        return
                    self.wfile.write(answer.body[i : i + 1])
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up, as it should

        def _validators(self, answer: Answer) -> None:
            if answer.etag:
                self.send_header("ETag", answer.etag)
            if answer.last_modified:
                self.send_header("Last-Modified", answer.last_modified)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


def _not_modified(answer: Answer, headers: dict[str, str]) -> bool:
    if answer.status != 200:
        return False
    if "if-none-match" in headers:
        names = [tag.strip() for tag in headers["if-none-match"].split(",")]
        return bool(answer.etag) and (answer.etag in names or "*" in names)
    since = headers.get("if-modified-since")
    return bool(answer.last_modified) and since == answer.last_modified


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    server = FeedServer()
    try:
        yield server
    finally:
        server.close()


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (for a refused connection)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def radicale(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Radicale]:
    """A real CalDAV server (Radicale) on 127.0.0.1 for the session; user ann."""
    with serve(tmp_path_factory.mktemp("radicale")) as server:
        yield server


@pytest.fixture
def org(make_org):
    return make_org()


@pytest.fixture
def ann(org, make_resource):
    """A person of ``org`` (London, office hours) whose calendars get connected."""
    return make_resource(org, name="Ann")


@pytest.fixture
def owner(org, make_member):
    """A client signed in as an owner of ``org``."""
    from django.test import Client

    from slotwise.accounts.permissions import Role

    client = Client()
    client.force_login(make_member(org, Role.OWNER, mfa=True))
    return client
