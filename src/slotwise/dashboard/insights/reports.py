"""The reports page: bookings, no-shows and utilisation over weeks or months, and a CSV."""

from __future__ import annotations

import csv
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from slotwise.accounts.permissions import Permission
from slotwise.bookings.models import BookingStatus
from slotwise.dashboard.access import member_page, navigation
from slotwise.dashboard.insights.figures import DEFAULT_RANGE, STATUSES, Report, build_report

CHART_HEIGHT = 160
SLOT = 60


class RangeForm(forms.Form):
    range = forms.ChoiceField(
        label=gettext_lazy("Period"),
        choices=[
            ("4w", gettext_lazy("Last 4 weeks")),
            ("12w", gettext_lazy("Last 12 weeks")),
            ("12m", gettext_lazy("Last 12 months")),
        ],
        required=False,
    )


def _choice(request: HttpRequest) -> tuple[RangeForm, str | None]:
    form = RangeForm(request.GET or {"range": DEFAULT_RANGE})
    if not form.is_valid():
        return form, None
    return form, form.cleaned_data["range"] or DEFAULT_RANGE


def _bars(report: Report) -> dict[str, Any]:
    """Heights of the stacked bars (created, by status) and of the no-show bars."""
    top = max([row.created_total for row in report.rows] + [1])
    top_no_show = max([row.no_shows for row in report.rows] + [1])
    columns = []
    for n, row in enumerate(report.rows):
        y = CHART_HEIGHT
        parts = []
        for status in STATUSES:
            height = round(CHART_HEIGHT * row.created[status] / top, 2)
            if height:
                y -= height
                parts.append({"status": status, "y": round(y, 2), "height": height,
                              "count": row.created[status]})  # fmt: skip
        no_show_height = round(CHART_HEIGHT * row.no_shows / top_no_show, 2)
        columns.append({
            "row": row, "x": n * SLOT + 10, "label_x": n * SLOT + SLOT // 2, "parts": parts,
            "counts": [row.created[s] for s in STATUSES],
            "no_show_y": CHART_HEIGHT - no_show_height, "no_show_height": no_show_height,
        })  # fmt: skip
    return {"columns": columns, "width": max(len(columns), 1) * SLOT, "height": CHART_HEIGHT}


@require_GET
@member_page(Permission.BOOKINGS_READ)
def reports(request: HttpRequest) -> HttpResponse:
    caller = request.caller  # type: ignore[attr-defined]
    form, choice = _choice(request)
    context: dict[str, Any] = {"caller": caller, "nav": navigation(request, caller), "form": form}
    if choice is None:
        return render(request, "dashboard/insights/reports.html", context, status=400)
    report = build_report(caller.organization, choice, timezone.now(), within=caller.resource_ids)
    utilisation = [
        {"u": u, "width": round(u.percent or 0, 2), "y": n * 28}
        for n, u in enumerate(report.utilisation)
    ]
    context.update(
        report=report,
        choice=choice,
        statuses=[(s, BookingStatus(s).label) for s in STATUSES],
        chart=_bars(report),
        utilisation=utilisation,
        utilisation_height=max(len(utilisation), 1) * 28,
        own_only=caller.resource_ids is not None,
    )
    return render(request, "dashboard/insights/reports.html", context)


@require_GET
@member_page(Permission.BOOKINGS_READ)
def reports_csv(request: HttpRequest) -> HttpResponse:
    """The tables of the reports page as one CSV: ``report, period, resource, measure, value``."""
    caller = request.caller  # type: ignore[attr-defined]
    form, choice = _choice(request)
    if choice is None:
        context = {"caller": caller, "nav": navigation(request, caller), "form": form}
        return render(request, "dashboard/insights/reports.html", context, status=400)
    report = build_report(caller.organization, choice, timezone.now(), within=caller.resource_ids)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="reports-{choice}.csv"'
    out = csv.writer(response)
    out.writerow(["report", "period", "resource", "measure", "value"])
    for row in report.rows:
        start = row.period.start.isoformat()
        for status in STATUSES:
            out.writerow(["bookings_created", start, "", status, row.created[status]])
        out.writerow(["no_shows", start, "", "due", row.due])
        out.writerow(["no_shows", start, "", "no_show", row.no_shows])
    period = f"{report.first.isoformat()}/{report.last.isoformat()}"
    for u in report.utilisation:
        name = _cell(u.resource.name)
        out.writerow(["utilisation", period, name, "open_minutes", u.open_minutes])
        out.writerow(["utilisation", period, name, "booked_minutes", u.booked_minutes])
    return response


def _cell(text: str) -> str:
    """A name a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
