"""The ledger as CSV, for reconciliation with what the provider reports.

One row per entry created in the period (by ``created_at``), oldest first,
amounts as signed decimals in the currency's own minor unit (JPY has none,
KWD three); then, per currency, the total charged, refunded and the net of
the succeeded entries. Pending and failed entries are listed but not summed:
the totals are what moved.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import datetime

from slotwise import money
from slotwise.organizations.models import Organization
from slotwise.payments.models import EntryKind, EntryStatus, LedgerEntry

__all__ = ["HEADER", "ledger_csv"]

HEADER = [
    "created_at",
    "settled_at",
    "booking",
    "kind",
    "reason",
    "status",
    "amount",
    "currency",
    "provider",
    "reference",
]


def ledger_csv(organization: Organization, since: datetime, until: datetime) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    charged: dict[str, int] = defaultdict(int)
    refunded: dict[str, int] = defaultdict(int)
    entries = LedgerEntry.objects.filter(
        organization=organization, created_at__gte=since, created_at__lt=until
    ).order_by("created_at", "pk")
    for entry in entries.iterator():
        sign = -1 if entry.kind == EntryKind.REFUND else 1
        writer.writerow(
            [
                entry.created_at.isoformat(),
                entry.settled_at.isoformat() if entry.settled_at else "",
                entry.booking_id,
                entry.kind,
                entry.reason,
                entry.status,
                money.to_major(sign * entry.amount_minor, entry.currency),
                entry.currency,
                entry.provider,
                _safe(entry.reference),
            ]
        )
        if entry.status == EntryStatus.SUCCEEDED:
            if entry.kind == EntryKind.REFUND:
                refunded[entry.currency] += entry.amount_minor
            else:
                charged[entry.currency] += entry.amount_minor
    for currency in sorted(set(charged) | set(refunded)):
        for label, amount in (
            ("total charged", charged[currency]),
            ("total refunded", -refunded[currency]),
            ("net", charged[currency] - refunded[currency]),
        ):
            writer.writerow(["", "", "", label, "", "", money.to_major(amount, currency),
                             currency, "", ""])  # fmt: skip
    return out.getvalue()


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
