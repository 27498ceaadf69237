"""A real SMTP server for the notification tests: aiosmtpd on 127.0.0.1.

``smtp_server`` starts one, points slotwise's ``MAILERS`` at it, and gives an
:class:`Inbox` with what it received. The inbox can refuse mail for a while
(``refuse = True`` answers 451, try later) and the server can be stopped and
started again on the same port.
"""

from __future__ import annotations

import asyncio
import email
import socket
import threading
from collections.abc import Iterator
from email.message import Message as EmailMessage

import pytest
from aiosmtpd.controller import Controller

from slotwise import config


class Inbox:
    def __init__(self) -> None:
        self.received: list[EmailMessage] = []
        self.refuse = False
        self.delay = 0.0
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse:
            return "451 4.3.0 Try again later"
        if self.delay:
            await asyncio.sleep(self.delay)
        with self._lock:
            self.received.append(email.message_from_bytes(envelope.original_content))
        return "250 OK"

    def message_ids(self) -> list[str]:
        return [m["Message-ID"] for m in self.received]


class SmtpServer:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def smtp_server(settings) -> Iterator[SmtpServer]:
    server = SmtpServer(Inbox())
    server.start()
    settings.MAILERS = config.mailers(f"smtp://127.0.0.1:{server.port}")
    try:
        yield server
    finally:
        server.stop()
