"""API keys: issued (the key shown once), listed and revoked through the same services
as ``/api/v1/staff/api-keys``."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from slotwise.accounts.permissions import API_KEY_SCOPES, Permission
from slotwise.dashboard.access import member_page
from slotwise.dashboard.integrations.common import add_service_errors, caller_of, page
from slotwise.organizations.models import ApiKey
from slotwise.organizations.services import ApiKeyNotFound, issue_api_key, revoke_api_key

SCOPE_LABELS = {
    "read": gettext_lazy("Read the catalog and bookings"),
    "write": gettext_lazy("Read and change the catalog and bookings"),
}


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("Name"),
        max_length=100,
        help_text=gettext_lazy("Who or what holds the key, such as “Front desk tablet”."),
    )
    scopes = forms.MultipleChoiceField(
        label=gettext_lazy("What the key may do"),
        choices=[
            (s, f"{SCOPE_LABELS[s]} ({s})" if s in SCOPE_LABELS else s) for s in API_KEY_SCOPES
        ],
        widget=forms.CheckboxSelectMultiple,
        initial=["read"],
    )
    expires_on = forms.DateField(
        label=gettext_lazy("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=gettext_lazy(
            "The key works until the end of this day. Empty: one year from now."
        ),
    )
    never_expires = forms.BooleanField(label=gettext_lazy("Never expires"), required=False)

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("expires_on") and data.get("never_expires"):
            self.add_error("expires_on", gettext("Give a date or tick “never expires”, not both."))
        return data


@member_page(Permission.API_KEYS_MANAGE)
@require_http_methods(["GET", "POST"])
def api_keys(request: HttpRequest) -> HttpResponse:
    """The keys; a POST issues one and shows it this once (the page is never cached)."""
    if request.method != "POST":
        return _page(request, ApiKeyForm())
    form = ApiKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)
    organization = caller_of(request).organization
    data = form.cleaned_data
    expires_at: datetime | str | None = "default"
    if data["never_expires"]:
        expires_at = None
    elif data["expires_on"]:
        # Until the end of the day chosen, in the organization's zone.
        day_after = data["expires_on"] + timedelta(days=1)
        expires_at = datetime.combine(day_after, time(0), ZoneInfo(organization.time_zone))
    try:
        api_key, key = issue_api_key(
            organization,
            data["name"],
            scopes=data["scopes"],
            expires_at=expires_at,  # type: ignore[arg-type]
            now=timezone.now(),
        )
    except ValidationError as error:
        add_service_errors(form, error, fields={"expires_at": "expires_on"})
        return _page(request, form, status=400)
    return _page(request, ApiKeyForm(), issued=(api_key, key))


@member_page(Permission.API_KEYS_MANAGE)
@require_POST
def revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    organization = caller_of(request).organization
    api_key = ApiKey.objects.filter(organization=organization, pk=key_id).first()
    if api_key is None:
        raise Http404
    try:
        revoke_api_key(organization, api_key.prefix, now=timezone.now())
    except ApiKeyNotFound:
        raise Http404 from None
    messages.success(request, gettext("The key %(name)s is revoked.") % {"name": api_key.name})
    return redirect("dashboard:api-keys")


def _page(
    request: HttpRequest,
    form: ApiKeyForm,
    *,
    issued: tuple[ApiKey, str] | None = None,
    status: int = 200,
) -> HttpResponse:
    organization = caller_of(request).organization
    now = timezone.now()
    keys = ApiKey.objects.filter(organization=organization).order_by("-created_at", "-pk")
    return page(
        request,
        "dashboard/integrations/api_keys.html",
        {
            "keys": [
                {
                    "key": k,
                    "live": k.revoked_at is None and (k.expires_at is None or k.expires_at > now),
                }
                for k in keys
            ],
            "form": form,
            "issued": issued,
        },
        status=status,
    )
