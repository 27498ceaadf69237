"""Who may show a slotwise page in a frame: nobody, unless an organization says so.

Every response forbids framing twice over, from settings: the
Content-Security-Policy says ``frame-ancestors 'none'`` and
``X-Frame-Options`` says ``DENY``. A page an organization embeds on its own
site, such as its booking page, is decorated with :func:`embeddable`:

    def organization_from_slug(request, slug):
        return get_object_or_404(Organization, slug=slug)

    @embeddable(organization_from_slug)
    def booking_page(request, slug): ...

Its response then allows exactly the sites in that organization's
``embed_origins`` as frame ancestors, or still none when it lists none.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import wraps
from inspect import iscoroutinefunction
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponseBase
from django.utils.csp import CSP
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csp import csp_override, csp_report_only_override

from slotwise.organizations.models import Organization
from slotwise.organizations.validators import MAX_EMBED_ORIGINS, validate_embed_origin

__all__ = ["embeddable", "frame_ancestors"]

logger = logging.getLogger(__name__)

View = Callable[..., HttpResponseBase]


def frame_ancestors(organization: Organization) -> list[str]:
    """The sources for ``frame-ancestors`` on ``organization``'s embeddable pages.

    Only origins that pass validation are used, even if a row was written
    without it: a stored ``"https://a.example; script-src *"`` must never
    become part of a header.
    """
    stored = organization.embed_origins
    origins = []
    for origin in stored[:MAX_EMBED_ORIGINS] if isinstance(stored, list) else []:
        try:
            validate_embed_origin(origin)
        except ValidationError:
            logger.warning(
                "organization %s: ignoring invalid embed origin %r", organization.pk, origin
            )
            continue
        origins.append(origin)
    return origins or [CSP.NONE]


def embeddable(get_organization: Callable[..., Organization]) -> Callable[[View], View]:
    """Let the decorated view be framed by the sites of the organization it shows.

    ``get_organization`` is called with the view's arguments before the view,
    and may raise ``Http404``; the response then keeps the default policy.
    The response's policy is the site-wide ``SECURE_CSP`` with
    ``frame-ancestors`` replaced by that organization's origins (``'none'``
    if it lists none); ``X-Frame-Options``, which cannot name sites, is left
    out only when there are origins. Nonces keep working as on any page.
    Synchronous views only.
    """

    def decorator(view: View) -> View:
        if iscoroutinefunction(view):
            raise TypeError(f"{view.__qualname__}: embeddable() takes synchronous views only.")

        @wraps(view)
        def embeddable_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            ancestors = frame_ancestors(get_organization(request, *args, **kwargs))
            # Built per request from the settings, so no organization's origins
            # outlive its own response.
            handler = csp_override(_with_ancestors(settings.SECURE_CSP, ancestors))(view)
            report_only = settings.SECURE_CSP_REPORT_ONLY
            if report_only and "frame-ancestors" in report_only:
                handler = csp_report_only_override(_with_ancestors(report_only, ancestors))(handler)
            if ancestors != [CSP.NONE]:
                handler = xframe_options_exempt(handler)
            return handler(request, *args, **kwargs)

        return embeddable_view

    return decorator


def _with_ancestors(policy: dict[str, Any] | None, ancestors: list[str]) -> dict[str, Any]:
    return {**(policy or {}), "frame-ancestors": ancestors}
