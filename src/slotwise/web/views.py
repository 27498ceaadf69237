"""Server-rendered pages. For now one: the front page, which shows what can be booked."""

from __future__ import annotations

from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_safe

from slotwise.availability.services import MAX_DAYS
from slotwise.catalog.services import bookable_offerings


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Every organization with its bookable services, each with a form that asks
    the API for its slots in a zone of the visitor's choosing."""
    today = timezone.now().date()
    first = (today.replace(day=1) + timedelta(days=32)).replace(day=1)
    last = (first + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    return render(
        request,
        "web/home.html",
        {
            "organizations": bookable_offerings(),
            "first": first,
            "last": last,
            "max_days": MAX_DAYS,
        },
    )
