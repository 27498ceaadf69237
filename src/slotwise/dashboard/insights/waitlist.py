"""The waitlist page: who waits, the offers out, and what the waitlist brought back.

Everything comes from the staff waitlist API's own operations
(:mod:`slotwise.waitlist.api`), called with the member as the caller, so the
page shows exactly what the API shows them.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from slotwise.accounts.permissions import Permission
from slotwise.catalog.models import Service
from slotwise.dashboard.access import member_page, navigation
from slotwise.money import format_minor
from slotwise.waitlist import api


class WaitlistFilter(forms.Form):
    service = forms.TypedChoiceField(label=gettext_lazy("Service"), coerce=int, required=False)
    days = forms.TypedChoiceField(
        label=gettext_lazy("Recovered over"),
        coerce=int,
        required=False,
        choices=[
            (30, gettext_lazy("Last 30 days")),
            (90, gettext_lazy("Last 90 days")),
            (365, gettext_lazy("Last 365 days")),
        ],
    )

    def __init__(self, *args: Any, services: list[Service], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["service"].choices = [("", gettext_lazy("All services"))] + [
            (s.pk, s.name) for s in services
        ]


def _instant(text: str | None, zone: ZoneInfo) -> datetime | None:
    return None if not text else datetime.fromisoformat(text).astimezone(zone)


@require_GET
@member_page(Permission.BOOKINGS_READ)
def waitlist(request: HttpRequest) -> HttpResponse:
    caller = request.caller  # type: ignore[attr-defined]
    services = list(Service.objects.filter(organization=caller.organization).order_by("name"))
    form = WaitlistFilter(request.GET or None, services=services)
    context: dict[str, Any] = {"caller": caller, "nav": navigation(request, caller), "form": form}
    if request.GET and not form.is_valid():
        return render(request, "dashboard/insights/waitlist.html", context, status=400)
    data = form.cleaned_data if form.is_bound else {}
    service_id, days = data.get("service") or None, data.get("days") or 30
    zone = ZoneInfo(caller.organization.time_zone)
    request.auth = caller  # type: ignore[attr-defined]  # what the staff API's operations read
    queue = api.staff_waitlist(request, api.DayQuery(service_id=service_id))
    for entry in queue:
        entry["slot"] = _instant(entry["slot_start"], zone)
        if entry["offer"]:
            entry["offer"]["expires"] = _instant(entry["offer"]["expires_at"], zone)
    offers = [o for o in api.staff_offers(request) if service_id in (None, o["service"]["id"])]
    for offer in offers:
        offer["starts"] = _instant(offer["start_utc"], zone)
        offer["expires"] = _instant(offer["expires_at"], zone)
    today = timezone.now().astimezone(zone).date()
    start: date = today - timedelta(days=days - 1)
    recovered = api.recovered(request, api.PeriodQuery(start=start, end=today))
    context.update(
        zone=zone,
        queue=queue,
        offers=offers,
        recovered=recovered,
        revenue=[format_minor(v, c) for c, v in sorted(recovered["revenue_minor"].items())],
        start=start,
        today=today,
    )
    return render(request, "dashboard/insights/waitlist.html", context)
