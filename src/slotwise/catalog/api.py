"""The staff API for the catalog: resources, their opening hours, and services.

Mounted at ``/api/v1/staff``. Every operation needs an organization API key
(``Authorization: Bearer <key>``) and sees only that organization's rows: an
id of another organization answers 404 ``not-found``, exactly as a missing
one does. Times are ``"HH:MM"`` on the wall clock of the resource's zone,
with ``"24:00"`` as the end of a day; dates are ISO 8601. A list in a PATCH
replaces the old list whole.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, time
from functools import wraps
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Path, Schema, Status
from pydantic import Field

from slotwise.accounts.access import Caller
from slotwise.accounts.permissions import Permission
from slotwise.api.problems import Problem, ValidationProblem, problem_response
from slotwise.catalog import services
from slotwise.catalog.models import (
    Closure,
    DateOverride,
    Resource,
    ResourceKind,
    Schedule,
    Service,
    WeeklyRule,
)
from slotwise.catalog.models.hours import MIDNIGHT
from slotwise.catalog.services import (
    CatalogError,
    InvalidInput,
    InvalidResource,
    InvalidSchedule,
    InvalidService,
    NotFound,
)
from slotwise.organizations.auth import StaffRouter, requires

router = StaffRouter(tags=["staff: catalog"])

# Problem type, status and title for each error a catalog operation can meet.
PROBLEMS: dict[type[CatalogError], tuple[str, int, str]] = {
    NotFound: ("not-found", 404, "Not found"),
    InvalidResource: ("invalid-resource", 400, "Invalid resource"),
    InvalidSchedule: ("invalid-schedule", 400, "Invalid schedule"),
    InvalidService: ("invalid-service", 400, "Invalid service"),
}

_MAX_ID = 2**63 - 1
_MAX_INT = 2**31 - 1  # PostgreSQL's integer: the widest column on every database
_YEAR_OF_MINUTES = 366 * 24 * 60

Id = Annotated[int, Field(ge=1, le=_MAX_ID)]
IdPath = Annotated[int, Path(ge=1, le=_MAX_ID)]
Count = Annotated[int, Field(ge=1, le=_MAX_INT)]
Limit = Annotated[int, Field(ge=0, le=_MAX_INT)]
Minutes = Annotated[int, Field(ge=0, le=_YEAR_OF_MINUTES, description="Minutes, a year at most.")]
Duration = Annotated[int, Field(ge=1, le=_YEAR_OF_MINUTES)]
Days = Annotated[int, Field(ge=0, le=3660, description="Days, ten years at most.")]
Start = Annotated[
    str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$", examples=["09:00"], description="HH:MM")
]
End = Annotated[
    str,
    Field(
        pattern=r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$",
        examples=["17:00"],
        description="HH:MM; 24:00 (or 00:00) is the end of the day.",
    ),
]

# Bodies and answers


class InvalidProblem(Problem):
    """Input the catalog refuses; ``errors`` maps each field (``weekly_rules.2.end``)
    to what is wrong with it."""

    errors: dict[str, list[str]]


class ResourceIn(Schema):
    name: str
    kind: ResourceKind
    capacity: Count = 1
    time_zone: str | None = Field(default=None, description="IANA zone; the organization's.")
    schedule_id: Id | None = Field(default=None, description="Its hours; none: never open.")
    active: bool = True


class ResourcePatch(Schema):
    name: str | None = None
    kind: ResourceKind | None = None
    capacity: Count | None = None
    time_zone: str | None = None
    schedule_id: Id | None = None
    active: bool | None = None


class ResourceOut(Schema):
    id: int
    name: str
    kind: ResourceKind
    capacity: int
    time_zone: str
    schedule_id: int | None
    active: bool


class WeeklyRuleIO(Schema):
    weekday: int = Field(ge=0, le=6, description="0 is Monday, 6 Sunday.")
    start: Start
    end: End
    valid_from: date | None = None
    valid_until: date | None = Field(default=None, description="Inclusive.")


class HoursIO(Schema):
    start: Start
    end: End


class DateOverrideIO(Schema):
    date: date
    hours: list[HoursIO] = Field(default_factory=list, description="Open only then; none: closed.")
    note: str = ""


class ClosureIO(Schema):
    first: date
    last: date = Field(description="Inclusive.")
    reason: str = ""


class ScheduleIn(Schema):
    name: str
    holiday_country: str = Field(
        default="", description="ISO 3166-1 alpha-2 (GB); its public holidays close."
    )
    holiday_subdivision: str = Field(default="", description="E.g. ENG for England.")
    weekly_rules: list[WeeklyRuleIO] = Field(default_factory=list)
    overrides: list[DateOverrideIO] = Field(
        default_factory=list, description="Special hours on a date; they beat everything else."
    )
    closures: list[ClosureIO] = Field(default_factory=list)


class SchedulePatch(Schema):
    name: str | None = None
    holiday_country: str | None = None
    holiday_subdivision: str | None = None
    weekly_rules: list[WeeklyRuleIO] | None = None
    overrides: list[DateOverrideIO] | None = None
    closures: list[ClosureIO] | None = None


class ScheduleOut(Schema):
    id: int
    name: str
    holiday_country: str
    holiday_subdivision: str
    weekly_rules: list[WeeklyRuleIO]
    overrides: list[DateOverrideIO]
    closures: list[ClosureIO]


class RequirementIO(Schema):
    kind: ResourceKind
    pool: list[Id] = Field(
        default_factory=list,
        description="Resource ids to choose from; none: every active one of the kind.",
    )


POLICY_HELP = (
    "Refund tiers by time before the start (the first that applies wins; none: 0 %), "
    "an optional lower share on the start's own calendar day, a processing fee kept from "
    "refunds, reschedule cutoff and limit, and the no-show fee. Copied onto each booking "
    "when it is made. {} refunds in full until the start."
)
POLICY_EXAMPLE = {
    "tiers": [
        {"before_minutes": 2880, "refund_percent": 100},
        {"before_minutes": 1440, "refund_percent": 50},
    ],
    "same_day_refund_percent": 0,
    "fee_minor": 0,
    "reschedule_cutoff_minutes": 1440,
    "max_reschedules": 2,
    "no_show_fee": {"percent": 100, "fixed_minor": 0},
}


class ServiceIn(Schema):
    name: str
    slug: str | None = Field(default=None, description="Default: from the name.")
    durations: list[Duration] = Field(min_length=1, description="Minutes, the default first.")
    step_minutes: Duration | None = Field(default=None, description="Default: the duration.")
    buffer_before_minutes: Minutes = 0
    buffer_after_minutes: Minutes = 0
    min_notice_minutes: Minutes = 0
    horizon_days: Days | None = Field(default=None, description="Default: no limit.")
    seats_per_slot: Count | None = Field(default=None, description="Set for a group service.")
    max_bookings_per_day: Limit | None = None
    max_minutes_per_day: Limit | None = None
    max_bookings_per_week: Limit | None = None
    max_minutes_per_week: Limit | None = None
    price_minor: Limit = Field(default=0, description="In minor units: cents, pence.")
    currency: str | None = Field(default=None, description="Default: the organization's.")
    requires_approval: bool = Field(
        default=False, description="Bookings wait as pending until staff approve them."
    )
    reminder_minutes: list[int] = Field(
        default_factory=lambda: [1440, 60],
        max_length=5,
        description="Reminders to customers, in minutes before the start; [] for none.",
    )
    payment_mode: Literal["none", "deposit", "full", "card"] = Field(
        default="none",
        description="What customers pay when booking: nothing, a deposit, the full price, "
        "or nothing but a saved card for a no-show or late-cancellation fee.",
    )
    deposit_percent: int | None = Field(default=None, description="A deposit's share, 1-100.")
    deposit_minor: Limit | None = Field(default=None, description="Or a fixed deposit.")
    cancellation_policy: dict[str, Any] = Field(
        default_factory=dict, description=POLICY_HELP, examples=[POLICY_EXAMPLE]
    )
    waitlist_mode: Literal["sequential", "broadcast", "off"] = Field(
        default="sequential",
        description="A freed slot is offered to one waiting customer at a time (held for "
        "them), or to all at once (first to claim wins); or there is no waitlist.",
    )
    offer_minutes: int = Field(default=30, ge=5, le=24 * 60, description="How long an offer lasts.")
    active: bool = True
    requirements: list[RequirementIO] = Field(
        default_factory=list, description="One resource from each per booking; none: no slots."
    )


class ServicePatch(Schema):
    name: str | None = None
    slug: str | None = None
    durations: list[Duration] | None = Field(default=None, min_length=1)
    step_minutes: Duration | None = None
    buffer_before_minutes: Minutes | None = None
    buffer_after_minutes: Minutes | None = None
    min_notice_minutes: Minutes | None = None
    horizon_days: Days | None = None
    seats_per_slot: Count | None = None
    max_bookings_per_day: Limit | None = None
    max_minutes_per_day: Limit | None = None
    max_bookings_per_week: Limit | None = None
    max_minutes_per_week: Limit | None = None
    price_minor: Limit | None = None
    currency: str | None = None
    requires_approval: bool | None = None
    reminder_minutes: list[int] | None = Field(default=None, max_length=5)
    payment_mode: Literal["none", "deposit", "full", "card"] | None = None
    deposit_percent: int | None = None
    deposit_minor: Limit | None = None
    cancellation_policy: dict[str, Any] | None = Field(default=None, description=POLICY_HELP)
    waitlist_mode: Literal["sequential", "broadcast", "off"] | None = None
    offer_minutes: int | None = Field(default=None, ge=5, le=24 * 60)
    active: bool | None = None
    requirements: list[RequirementIO] | None = None


class ServiceOut(Schema):
    id: int
    name: str
    slug: str
    durations: list[int]
    step_minutes: int | None
    buffer_before_minutes: int
    buffer_after_minutes: int
    min_notice_minutes: int
    horizon_days: int | None
    seats_per_slot: int | None
    max_bookings_per_day: int | None
    max_minutes_per_day: int | None
    max_bookings_per_week: int | None
    max_minutes_per_week: int | None
    price_minor: int
    currency: str
    requires_approval: bool
    reminder_minutes: list[int]
    payment_mode: str
    deposit_percent: int | None
    deposit_minor: int | None
    cancellation_policy: dict[str, Any]
    waitlist_mode: str
    offer_minutes: int
    active: bool
    requirements: list[RequirementIO]


# Errors


def _catalog_problems(view: Callable[..., Any]) -> Callable[..., Any]:
    """Answer a :class:`CatalogError` from the service layer as its problem."""

    @wraps(view)
    def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        try:
            return view(request, *args, **kwargs)
        except CatalogError as exc:
            kind, status, title = PROBLEMS[type(exc)]
            extra = {"errors": exc.errors} if isinstance(exc, InvalidInput) else {}
            return problem_response(status, kind, title, str(exc), **extra)

    return answer


router.add_decorator(_catalog_problems)

READ = {401: Problem, 404: Problem, 422: ValidationProblem}
CREATE = {400: InvalidProblem, 401: Problem, 422: ValidationProblem}
WRITE = {**CREATE, 404: Problem}

# Resources


@router.get("/resources", response={200: list[ResourceOut], 401: Problem}, summary="Resources")
@requires(Permission.CATALOG_READ)
def list_resources(request: HttpRequest) -> list[dict[str, Any]]:
    return [_resource(r) for r in services.resources_of(request.auth.organization)]


@router.post("/resources", response={201: ResourceOut, **CREATE}, summary="Add a resource")
@requires(Permission.CATALOG_WRITE)
def create_resource(request: HttpRequest, payload: ResourceIn) -> Status[dict[str, Any]]:
    fields = payload.model_dump(exclude_none=True)
    return Status(201, _resource(services.create_resource(request.auth.organization, fields)))


@router.get("/resources/{resource_id}", response={200: ResourceOut, **READ}, summary="A resource")
@requires(Permission.CATALOG_READ)
def read_resource(request: HttpRequest, resource_id: IdPath) -> dict[str, Any]:
    return _resource(services.access_resource(request.auth.organization, resource_id))


@router.patch(
    "/resources/{resource_id}", response={200: ResourceOut, **WRITE}, summary="Change a resource"
)
@requires(Permission.CATALOG_WRITE)
def update_resource(
    request: HttpRequest, resource_id: IdPath, payload: ResourcePatch
) -> dict[str, Any]:
    changes = payload.model_dump(exclude_unset=True)
    return _resource(services.update_resource(request.auth.organization, resource_id, changes))


@router.delete(
    "/resources/{resource_id}",
    response={200: ResourceOut, **READ},
    summary="Deactivate a resource",
)
@requires(Permission.CATALOG_WRITE)
def deactivate_resource(request: HttpRequest, resource_id: IdPath) -> dict[str, Any]:
    """Take the resource out of every future slot; it is kept (``active`` false),
    with its bookings. PATCH ``{"active": true}`` brings it back."""
    return _resource(services.deactivate_resource(request.auth.organization, resource_id))


# Schedules


@router.get("/schedules", response={200: list[ScheduleOut], 401: Problem}, summary="Schedules")
@requires(Permission.CATALOG_READ)
def list_schedules(request: HttpRequest) -> list[dict[str, Any]]:
    return [_schedule(s) for s in services.schedules_of(request.auth.organization)]


@router.post("/schedules", response={201: ScheduleOut, **CREATE}, summary="Add a schedule")
@requires(Permission.CATALOG_WRITE)
def create_schedule(request: HttpRequest, payload: ScheduleIn) -> Status[dict[str, Any]]:
    fields = _hours_fields(payload, payload.model_dump(exclude_none=True))
    return Status(201, _schedule(services.create_schedule(request.auth.organization, fields)))


@router.get("/schedules/{schedule_id}", response={200: ScheduleOut, **READ}, summary="A schedule")
@requires(Permission.CATALOG_READ)
def read_schedule(request: HttpRequest, schedule_id: IdPath) -> dict[str, Any]:
    return _schedule(services.access_schedule(request.auth.organization, schedule_id))


@router.patch(
    "/schedules/{schedule_id}", response={200: ScheduleOut, **WRITE}, summary="Change a schedule"
)
@requires(Permission.CATALOG_WRITE, Permission.OWN_HOURS)
def update_schedule(
    request: HttpRequest, schedule_id: IdPath, payload: SchedulePatch
) -> dict[str, Any]:
    """Change the fields given; ``weekly_rules``, ``overrides`` or ``closures``,
    if given, replace that list whole (``[]`` empties it). A staff member may
    change only a schedule that is theirs alone (time off, their hours)."""
    caller: Caller = request.auth
    only_for = None if caller.can(Permission.CATALOG_WRITE) else caller.resource_ids or frozenset()
    changes = _hours_fields(payload, payload.model_dump(exclude_unset=True))
    return _schedule(
        services.update_schedule(caller.organization, schedule_id, changes, only_for=only_for)
    )


# Services


@router.get("/services", response={200: list[ServiceOut], 401: Problem}, summary="Services")
@requires(Permission.CATALOG_READ)
def list_services(request: HttpRequest) -> list[dict[str, Any]]:
    return [_service(s) for s in services.services_of(request.auth.organization)]


@router.post("/services", response={201: ServiceOut, **CREATE}, summary="Add a service")
@requires(Permission.CATALOG_WRITE)
def create_service(request: HttpRequest, payload: ServiceIn) -> Status[dict[str, Any]]:
    fields = _service_fields(payload, payload.model_dump(exclude_none=True))
    return Status(201, _service(services.create_service(request.auth.organization, fields)))


@router.get("/services/{service_id}", response={200: ServiceOut, **READ}, summary="A service")
@requires(Permission.CATALOG_READ)
def read_service(request: HttpRequest, service_id: IdPath) -> dict[str, Any]:
    return _service(services.access_service(request.auth.organization, service_id))


@router.patch(
    "/services/{service_id}", response={200: ServiceOut, **WRITE}, summary="Change a service"
)
@requires(Permission.CATALOG_WRITE)
def update_service(
    request: HttpRequest, service_id: IdPath, payload: ServicePatch
) -> dict[str, Any]:
    """Change the fields given; ``requirements``, if given, replace the old ones whole."""
    changes = _service_fields(payload, payload.model_dump(exclude_unset=True))
    return _service(services.update_service(request.auth.organization, service_id, changes))


# From JSON to the service layer's input, and from rows to JSON


def _clock(text: str) -> time:
    """``"HH:MM"`` as a time; ``"24:00"`` is ``time(0)``, as the hours tables store it."""
    return MIDNIGHT if text == "24:00" else time.fromisoformat(text)


def _hhmm(moment: time, *, end: bool = False) -> str:
    return "24:00" if end and moment == MIDNIGHT else f"{moment:%H:%M}"


def _hours_fields(payload: ScheduleIn | SchedulePatch, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` with the lists of ``payload`` that it names as the service layer's input."""
    if payload.weekly_rules is not None and "weekly_rules" in fields:
        fields["weekly_rules"] = [
            services.WeeklyRuleInput(
                weekday=rule.weekday,
                start=_clock(rule.start),
                end=_clock(rule.end),
                valid_from=rule.valid_from,
                valid_until=rule.valid_until,
            )
            for rule in payload.weekly_rules
        ]
    if payload.overrides is not None and "overrides" in fields:
        fields["overrides"] = [
            services.DateOverrideInput(
                date=override.date,
                hours=tuple((_clock(h.start), _clock(h.end)) for h in override.hours),
                note=override.note,
            )
            for override in payload.overrides
        ]
    if payload.closures is not None and "closures" in fields:
        fields["closures"] = [
            services.ClosureInput(first=closure.first, last=closure.last, reason=closure.reason)
            for closure in payload.closures
        ]
    return fields


def _service_fields(payload: ServiceIn | ServicePatch, fields: dict[str, Any]) -> dict[str, Any]:
    """As :func:`_hours_fields`, for a service's requirements."""
    if payload.requirements is not None and "requirements" in fields:
        fields["requirements"] = [
            services.RequirementInput(kind=need.kind, pool=tuple(need.pool))
            for need in payload.requirements
        ]
    return fields


def _resource(resource: Resource) -> dict[str, Any]:
    return {
        "id": resource.pk,
        "name": resource.name,
        "kind": resource.kind,
        "capacity": resource.capacity,
        "time_zone": resource.time_zone,
        "schedule_id": resource.schedule_id,
        "active": resource.active,
    }


def _schedule(schedule: Schedule) -> dict[str, Any]:
    return {
        "id": schedule.pk,
        "name": schedule.name,
        "holiday_country": schedule.holiday_country,
        "holiday_subdivision": schedule.holiday_subdivision,
        "weekly_rules": [_weekly_rule(rule) for rule in schedule.weekly_rules.all()],
        "overrides": [_override(override) for override in schedule.overrides.all()],
        "closures": [_closure(closure) for closure in schedule.closures.all()],
    }


def _weekly_rule(rule: WeeklyRule) -> dict[str, Any]:
    return {
        "weekday": rule.weekday,
        "start": _hhmm(rule.start),
        "end": _hhmm(rule.end, end=True),
        "valid_from": rule.valid_from,
        "valid_until": rule.valid_until,
    }


def _override(override: DateOverride) -> dict[str, Any]:
    return {
        "date": override.date,
        "hours": [
            {"start": _hhmm(h.start), "end": _hhmm(h.end, end=True)} for h in override.hours.all()
        ],
        "note": override.note,
    }


def _closure(closure: Closure) -> dict[str, Any]:
    return {"first": closure.first, "last": closure.last, "reason": closure.reason}


def _service(service: Service) -> dict[str, Any]:
    return {
        **{name: getattr(service, name) for name in services.SERVICE_FIELDS},
        "id": service.pk,
        "requirements": [
            {"kind": need.kind, "pool": [resource.pk for resource in need.pool.all()]}
            for need in service.requirements.all()
        ],
    }
