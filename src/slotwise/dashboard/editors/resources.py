"""``/dashboard/resources``: the people, rooms, tables and equipment bookings occupy.

Adding, changing and deactivating go through :func:`create_resource`,
:func:`update_resource` and :func:`deactivate_resource` of
:mod:`slotwise.catalog.services`, as the staff API's resource operations do.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from slotwise.accounts.permissions import Permission
from slotwise.catalog import services
from slotwise.catalog.models import Resource, ResourceKind
from slotwise.dashboard.access import member_page
from slotwise.dashboard.editors.common import caller_of, page, require_write


class ResourceForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=ResourceKind.choices)
    capacity = forms.IntegerField(
        label=gettext_lazy("Capacity"),
        min_value=1,
        max_value=2**31 - 1,
        initial=1,
        help_text=gettext_lazy("How many bookings it takes at once: 6 for a table for six."),
    )
    time_zone = forms.ChoiceField(label=gettext_lazy("Time zone"))
    schedule_id = forms.TypedChoiceField(
        label=gettext_lazy("Opening hours"), coerce=int, empty_value=None, required=False
    )

    def __init__(self, *args: Any, schedules: list[Any], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["time_zone"].choices = [
            (z, z) for z in sorted(available_timezones() - {"localtime", "Factory", "posixrules"})
        ]
        self.fields["schedule_id"].choices = [
            ("", _("None: never open")),
            *((s.pk, s.name) for s in schedules),
        ]


@require_http_methods(["GET"])
@member_page(Permission.CATALOG_READ)
def resource_list(request: HttpRequest) -> HttpResponse:
    caller = caller_of(request)
    resources = services.resources_of(caller.organization)
    schedules = {s.pk: s for s in services.schedules_of(caller.organization)}
    rows = [{"resource": r, "schedule": schedules.get(r.schedule_id or 0)} for r in resources]
    return page(request, "resources_list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@member_page(Permission.CATALOG_READ)
def resource_new(request: HttpRequest) -> HttpResponse:
    caller = caller_of(request)
    schedules = services.schedules_of(caller.organization)
    if request.method == "POST":
        require_write(request)
        form = ResourceForm(request.POST, schedules=schedules)
        if form.is_valid():
            try:
                resource = services.create_resource(caller.organization, form.cleaned_data)
            except services.InvalidResource as error:
                _take(form, error.errors)
            else:
                messages.success(request, _("“%s” is saved.") % resource.name)
                return HttpResponseRedirect(reverse("dashboard:resources"))
        return page(request, "resource_edit.html", {"form": form}, status=400)
    form = ResourceForm(initial={"time_zone": caller.organization.time_zone}, schedules=schedules)
    return page(request, "resource_edit.html", {"form": form})


@require_http_methods(["GET", "POST"])
@member_page(Permission.CATALOG_READ)
def resource_edit(request: HttpRequest, resource_id: int) -> HttpResponse:
    caller = caller_of(request)
    resource = _resource(caller.organization, resource_id)
    schedules = services.schedules_of(caller.organization)
    context: dict[str, Any] = {"resource": resource}
    if request.method == "POST":
        require_write(request)
        form = ResourceForm(request.POST, schedules=schedules)
        if form.is_valid():
            try:
                services.update_resource(caller.organization, resource.pk, form.cleaned_data)
            except services.InvalidResource as error:
                _take(form, error.errors)
            else:
                messages.success(request, _("“%s” is saved.") % form.cleaned_data["name"])
                return HttpResponseRedirect(reverse("dashboard:resources"))
        return page(request, "resource_edit.html", {**context, "form": form}, status=400)
    initial = {
        "name": resource.name,
        "kind": resource.kind,
        "capacity": resource.capacity,
        "time_zone": resource.time_zone,
        "schedule_id": resource.schedule_id or "",
    }
    form = ResourceForm(initial=initial, schedules=schedules)
    return page(request, "resource_edit.html", {**context, "form": form})


@require_http_methods(["GET", "POST"])
@member_page(Permission.CATALOG_READ)
def resource_deactivate(request: HttpRequest, resource_id: int) -> HttpResponse:
    """POST takes the resource out of future slots; GET goes back to its page."""
    caller = caller_of(request)
    resource = _resource(caller.organization, resource_id)
    if request.method == "POST":
        require_write(request)
        services.deactivate_resource(caller.organization, resource.pk)
        messages.success(request, _("“%s” no longer takes bookings.") % resource.name)
        return HttpResponseRedirect(reverse("dashboard:resources"))
    return HttpResponseRedirect(reverse("dashboard:resource-edit", args=[resource.pk]))


def _resource(organization: Any, resource_id: int) -> Resource:
    try:
        return services.access_resource(organization, resource_id)
    except services.NotFound as error:
        raise Http404(str(error)) from error


def _take(form: ResourceForm, errors: dict[str, list[str]]) -> None:
    for field, messages_ in errors.items():
        for message in messages_:
            form.add_error(field if field in form.fields else None, message)
