"""Webhook endpoints: added (the secret shown once), changed, removed, given a new
secret, and their deliveries, through the same services as ``/api/v1/staff/webhooks``."""

from __future__ import annotations

import re

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from slotwise.accounts.permissions import Permission
from slotwise.dashboard.access import member_page
from slotwise.dashboard.integrations.common import add_service_errors, caller_of, page
from slotwise.webhooks import services
from slotwise.webhooks.models import WebhookEndpoint
from slotwise.webhooks.validators import EVENT_TYPES, MAX_URL_LENGTH

DELIVERIES_SHOWN = 25
_CURSOR = re.compile(r"[1-9][0-9]{0,18}")


class WebhookForm(forms.Form):
    url = forms.CharField(
        label=gettext_lazy("URL"),
        max_length=MAX_URL_LENGTH,
        help_text=gettext_lazy("Where your receiver runs, starting https://."),
    )
    description = forms.CharField(label=gettext_lazy("Description"), max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label=gettext_lazy("Events"),
        choices=[(e, e) for e in EVENT_TYPES],
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=gettext_lazy("None ticked: every event."),
    )
    active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)


@member_page(Permission.WEBHOOKS_MANAGE)
@require_http_methods(["GET", "POST"])
def webhooks(request: HttpRequest) -> HttpResponse:
    """The endpoints; a POST adds one and shows its secret this once."""
    if request.method != "POST":
        return _list(request, WebhookForm())
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _list(request, form, status=400)
    try:
        endpoint = services.create_endpoint(
            caller_of(request).organization, **form.cleaned_data, now=timezone.now()
        )
    except ValidationError as error:
        add_service_errors(form, error)
        return _list(request, form, status=400)
    return _list(request, WebhookForm(), secret_of=endpoint)


@member_page(Permission.WEBHOOKS_MANAGE)
@require_http_methods(["GET", "POST"])
def webhook(request: HttpRequest, webhook_id: int) -> HttpResponse:
    """One endpoint: change it, and its recent deliveries."""
    endpoint = _endpoint(request, webhook_id)
    if request.method != "POST":
        return _detail(request, endpoint, _form_of(endpoint))
    form = WebhookForm(request.POST)
    if not form.is_valid():
        return _detail(request, endpoint, form, status=400)
    try:
        services.update_endpoint(
            endpoint.organization, endpoint.pk, form.cleaned_data, now=timezone.now()
        )
    except services.WebhookNotFound:
        raise Http404 from None
    except ValidationError as error:
        add_service_errors(form, error)
        return _detail(request, endpoint, form, status=400)
    messages.success(request, gettext("The webhook endpoint is saved."))
    return redirect("dashboard:webhook", webhook_id=endpoint.pk)


@member_page(Permission.WEBHOOKS_MANAGE)
@require_POST
def rotate(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    try:
        endpoint = services.rotate_secret(endpoint.organization, endpoint.pk, now=timezone.now())
    except services.WebhookNotFound:
        raise Http404 from None
    return _detail(request, endpoint, _form_of(endpoint), secret_of=endpoint)


@member_page(Permission.WEBHOOKS_MANAGE)
@require_POST
def delete(request: HttpRequest, webhook_id: int) -> HttpResponse:
    endpoint = _endpoint(request, webhook_id)
    try:
        services.delete_endpoint(endpoint.organization, endpoint.pk, now=timezone.now())
    except services.WebhookNotFound:
        raise Http404 from None
    messages.success(
        request, gettext("The webhook endpoint %(url)s is removed.") % {"url": endpoint.url}
    )
    return redirect("dashboard:webhooks")


def _endpoint(request: HttpRequest, webhook_id: int) -> WebhookEndpoint:
    try:
        return services.endpoint_of(caller_of(request).organization, webhook_id)
    except services.WebhookNotFound:
        raise Http404 from None


def _form_of(endpoint: WebhookEndpoint) -> WebhookForm:
    return WebhookForm(
        initial={
            "url": endpoint.url,
            "description": endpoint.description,
            "events": endpoint.events,
            "active": endpoint.active,
        }
    )


def _list(
    request: HttpRequest,
    form: WebhookForm,
    *,
    secret_of: WebhookEndpoint | None = None,
    status: int = 200,
) -> HttpResponse:
    endpoints = WebhookEndpoint.objects.filter(organization=caller_of(request).organization)
    return page(
        request,
        "dashboard/integrations/webhooks.html",
        {"endpoints": endpoints.order_by("pk"), "form": form, "secret_of": secret_of},
        status=status,
    )


def _detail(
    request: HttpRequest,
    endpoint: WebhookEndpoint,
    form: WebhookForm,
    *,
    secret_of: WebhookEndpoint | None = None,
    status: int = 200,
) -> HttpResponse:
    cursor = request.GET.get("cursor")
    if cursor is not None and not _CURSOR.fullmatch(cursor):
        cursor = None
    deliveries = services.deliveries(endpoint, limit=DELIVERIES_SHOWN, cursor=cursor)
    return page(
        request,
        "dashboard/integrations/webhook.html",
        {"endpoint": endpoint, "form": form, "secret_of": secret_of, "deliveries": deliveries},
        status=status,
    )
