"""Server-rendered pages. The front page: every organization, leading to its booking page."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from slotwise.catalog.services import bookable_offerings


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    """Every organization with its bookable services, each linking to its booking page."""
    return render(request, "web/home.html", {"organizations": bookable_offerings()})
