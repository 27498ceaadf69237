"""``/dashboard/hours``: an organization's schedules, and the editor of one.

Saving goes through :func:`slotwise.catalog.services.create_schedule` and
:func:`~slotwise.catalog.services.update_schedule`, as the staff API's
schedule operations do: owners and admins change any schedule; a staff
member only one that is theirs alone (their own hours, their time off).
"""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.dates import WEEKDAYS
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from slotwise.accounts.access import Caller, Forbidden
from slotwise.accounts.permissions import Permission
from slotwise.catalog import services
from slotwise.catalog.models import Resource, Schedule
from slotwise.dashboard.access import member_page
from slotwise.dashboard.editors.common import caller_of, page, require_write
from slotwise.dashboard.editors.hours_form import HoursForm, holiday_countries


@require_http_methods(["GET"])
@member_page(Permission.CATALOG_READ)
def schedule_list(request: HttpRequest) -> HttpResponse:
    caller = caller_of(request)
    schedules = services.schedules_of(caller.organization)
    users = _resources_by_schedule(caller)
    rows = [
        {
            "schedule": schedule,
            "resources": users.get(schedule.pk, []),
            "days": _week(schedule),
        }
        for schedule in schedules
    ]
    return page(request, "hours_list.html", {"rows": rows})


@require_http_methods(["GET", "POST"])
@member_page(Permission.CATALOG_READ)
def schedule_new(request: HttpRequest) -> HttpResponse:
    caller = caller_of(request)
    if request.method == "POST":
        require_write(request)
        form = HoursForm.from_post(request.POST)
        fields = form.clean()
        if fields is not None:
            try:
                schedule = services.create_schedule(caller.organization, fields)
            except services.InvalidSchedule as error:
                form.take(error.errors)
            else:
                messages.success(request, _("The schedule “%s” is saved.") % schedule.name)
                return HttpResponseRedirect(reverse("dashboard:hours-edit", args=[schedule.pk]))
        return _editor(request, form, None, can_save=True, status=400)
    return _editor(request, HoursForm(), None, can_save=caller.can(Permission.CATALOG_WRITE))


@require_http_methods(["GET", "POST"])
@member_page(Permission.CATALOG_READ)
def schedule_edit(request: HttpRequest, schedule_id: int) -> HttpResponse:
    caller = caller_of(request)
    try:
        schedule = services.access_schedule(caller.organization, schedule_id)
    except services.NotFound as error:
        raise Http404(str(error)) from error
    can_save = _may_change(caller, schedule)
    if request.method == "POST":
        if not can_save:
            raise Forbidden("This needs the catalog:write permission.")
        form = HoursForm.from_post(request.POST)
        fields = form.clean()
        if fields is not None:
            only_for = (
                None if caller.can(Permission.CATALOG_WRITE) else caller.resource_ids or frozenset()
            )
            try:
                saved = services.update_schedule(
                    caller.organization, schedule.pk, fields, only_for=only_for
                )
            except services.NotFound as error:
                raise Forbidden(str(error)) from error
            except services.InvalidSchedule as error:
                form.take(error.errors)
            else:
                messages.success(request, _("The schedule “%s” is saved.") % saved.name)
                return HttpResponseRedirect(reverse("dashboard:hours-edit", args=[saved.pk]))
        return _editor(request, form, schedule, can_save=True, status=400)
    return _editor(request, HoursForm.of(schedule), schedule, can_save=can_save)


def _editor(
    request: HttpRequest,
    form: HoursForm,
    schedule: Schedule | None,
    *,
    can_save: bool,
    status: int = 200,
) -> HttpResponse:
    caller = caller_of(request)
    resources = (
        list(Resource.objects.filter(schedule=schedule).order_by("name", "id"))
        if schedule is not None
        else []
    )
    zones = sorted({r.time_zone for r in resources}) or [caller.organization.time_zone]
    return page(
        request,
        "hours_edit.html",
        {
            "form": form.with_spare_rows(),
            "schedule": schedule,
            "resources": resources,
            "zones": zones,
            "countries": holiday_countries(),
            "can_save": can_save,
            "has_errors": form.has_errors(),
        },
        status=status,
    )


def _may_change(caller: Caller, schedule: Schedule) -> bool:
    """Whether to offer saving: as the staff API's ``update_schedule`` allows it.

    The service layer decides again when the form is sent.
    """
    if caller.can(Permission.CATALOG_WRITE):
        return True
    if not caller.can(Permission.OWN_HOURS) or not caller.resource_ids:
        return False
    served = set(Resource.objects.filter(schedule=schedule).values_list("pk", flat=True))
    return bool(served) and served <= caller.resource_ids


def _resources_by_schedule(caller: Caller) -> dict[int, list[Resource]]:
    found: dict[int, list[Resource]] = {}
    for resource in services.resources_of(caller.organization):
        if resource.schedule_id is not None:
            found.setdefault(resource.schedule_id, []).append(resource)
    return found


def _week(schedule: Schedule) -> list[dict[str, object]]:
    """Each weekday's openings (undated rules only), for the list."""
    rules = [r for r in schedule.weekly_rules.all() if not (r.valid_from or r.valid_until)]
    return [
        {"label": label, "rules": [r for r in rules if r.weekday == weekday]}
        for weekday, label in WEEKDAYS.items()
    ]
