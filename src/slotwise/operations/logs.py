"""Logs a machine can read: one JSON object per line, each with its request's id.

Every request gets an id: the ``X-Request-ID`` a proxy in front set (nginx's
``$request_id``, a load balancer's), if it looks like one, or a new random
one. It is sent back in the response's ``X-Request-ID`` and added to every
log record made while the request runs, so a customer's complaint, the
proxy's access log and our records meet on one value.

``SLOTWISE_LOG_FORMAT=json`` (the production default) writes records with
:class:`JsonFormatter`; ``plain`` writes them for people, with the id too.
"""

from __future__ import annotations

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime

from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

__all__ = ["HEADER", "JsonFormatter", "RequestIdFilter", "RequestIdMiddleware", "current"]

HEADER = "X-Request-ID"
ACCEPTED = re.compile(r"[A-Za-z0-9._:-]{8,128}")
"""What a proxy's id may look like to be kept; anything else is replaced."""

_current: ContextVar[str | None] = ContextVar("slotwise_request_id", default=None)

# Attributes every LogRecord has; the rest were passed by the caller in `extra`.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "request_id",
    "taskName",
}


def current() -> str | None:
    """The id of the request being handled, if any."""
    return _current.get()


class RequestIdMiddleware:
    """Give each request an id, for its log records and its response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        offered = request.headers.get(HEADER, "")
        request_id = offered if ACCEPTED.fullmatch(offered) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        # Kept until the response is closed (request_finished, below): Django logs a
        # request's 4xx and 5xx after the middleware has returned.
        _current.set(request_id)
        response = self.get_response(request)
        response[HEADER] = request_id
        return response


@receiver(request_finished, dispatch_uid="slotwise-request-id-finished")
def _forget(**kwargs: object) -> None:
    _current.set(None)


class RequestIdFilter(logging.Filter):
    """Add ``request_id`` (``-`` outside a request) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _current.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id", ...}``, one line per record;
    what the caller passed in ``extra`` is kept, tracebacks go in ``exception``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _current.get() or "-",
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value if _plain(value) else repr(value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _plain(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)
