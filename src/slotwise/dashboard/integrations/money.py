"""Payments: the provider the organization takes payment with (as the settings API
shows it), the refunds and fees that failed, and the ledger's CSV export."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from slotwise.accounts.permissions import Permission
from slotwise.dashboard.access import member_page
from slotwise.dashboard.integrations.common import caller_of, page
from slotwise.money import format_minor
from slotwise.payments import providers
from slotwise.payments.models import EntryStatus, LedgerEntry

ATTENTION_SHOWN = 500


@member_page(Permission.PAYMENTS_MANAGE)
@require_GET
def payments(request: HttpRequest) -> HttpResponse:
    organization = caller_of(request).organization
    choices = [(name, providers.get(name)) for name in providers.names()]
    failed = LedgerEntry.objects.filter(organization=organization, status=EntryStatus.FAILED)
    today = timezone.now().astimezone(ZoneInfo(organization.time_zone)).date()
    return page(
        request,
        "dashboard/integrations/payments.html",
        {
            "current": organization.payment_provider,
            "providers": [
                {"name": n, "label": p.label, "online": p.online, "configured": p.configured()}
                for n, p in choices
            ],
            "attention": [
                {"entry": e, "amount": format_minor(e.amount_minor, e.currency)}
                for e in failed.order_by("-created_at", "-pk")[:ATTENTION_SHOWN]
            ],
            "export_start": today.replace(day=1).isoformat(),
            "export_end": today.isoformat(),
        },
    )
