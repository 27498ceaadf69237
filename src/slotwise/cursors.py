"""Page cursors for lists ordered by an instant, then an id.

A cursor is the last row's instant (in microseconds since 1970) and id,
base64url-encoded: opaque to clients, cheap to check, and valid on any page
of the same list.

    >>> decode(encode(datetime(2026, 6, 1, 9, tzinfo=UTC), 42))
    (datetime.datetime(2026, 6, 1, 9, 0, tzinfo=datetime.timezone.utc), 42)
"""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta

__all__ = ["MAX_ID", "decode", "encode"]

MAX_ID = 2**63 - 1
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_CURSOR = re.compile(r"(-?[0-9]{1,19})\.([0-9]{1,19})")


def encode(moment: datetime, pk: int) -> str:
    micros = (moment - _EPOCH) // _MICROSECOND
    return base64.urlsafe_b64encode(f"{micros}.{pk}".encode()).decode().rstrip("=")


def decode(cursor: str) -> tuple[datetime, int] | None:
    """The instant and id of ``cursor``, or ``None`` if no page could have given it."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except ValueError:  # not base64 (binascii.Error), not ASCII
        return None
    match = _CURSOR.fullmatch(text)
    if match is None or int(match[2]) > MAX_ID:
        return None
    try:
        return _EPOCH + int(match[1]) * _MICROSECOND, int(match[2])
    except OverflowError:
        return None
