"""How a booking's status reads on the dashboard: a word and a sign, never colour alone."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from slotwise.bookings.models import BookingStatus

__all__ = ["STATUSES", "status_of"]

# (label, sign) of each status; the sign is decoration beside the word.
STATUSES: dict[str, tuple[Any, str]] = {
    BookingStatus.HELD: (gettext_lazy("Held during checkout"), "◔"),
    BookingStatus.PENDING: (gettext_lazy("Awaiting approval"), "?"),
    BookingStatus.CONFIRMED: (gettext_lazy("Confirmed"), "✓"),
    BookingStatus.COMPLETED: (gettext_lazy("Completed"), "●"),
    BookingStatus.NO_SHOW: (gettext_lazy("No-show"), "✗"),
    BookingStatus.CANCELLED: (gettext_lazy("Cancelled"), "⊘"),
}


def status_of(status: str) -> dict[str, Any]:
    """``{"code", "label", "sign"}`` for a template's status badge."""
    label, sign = STATUSES.get(status, (status, "•"))
    return {"code": status, "label": label, "sign": sign}
