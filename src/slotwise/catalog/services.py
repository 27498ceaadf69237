"""The catalog's operations: reading it for the slot finder, and changing it for staff.

The slot finder needs a service's rules and, per resource, its opening
hours. Hours are loaded for many schedules at once, restricted to the dates
asked about, in one query however many schedules and rules there are.

Staff operations (``create_*``, ``update_*``, ``access_*``, ``*_of``) take
the acting organization first and never see another one's rows: an id of
another organization is :class:`NotFound`, exactly like a missing one. Each
change is one transaction; invalid input raises an :class:`InvalidInput`
subclass carrying every complaint by field, and writes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, Model, OuterRef, Prefetch, QuerySet
from django.utils.text import slugify

from slotwise import scheduling
from slotwise.catalog.models import (
    Closure,
    DateOverride,
    DateOverrideHours,
    PaymentMode,
    Resource,
    ResourceKind,
    Schedule,
    Service,
    ServiceRequirement,
    WeeklyRule,
)
from slotwise.catalog.models.hours import MIDNIGHT
from slotwise.organizations.models import Organization
from slotwise.scheduling.refunds import PolicyError, parse_policy, policy_dict

__all__ = [
    "CatalogError",
    "ClosureInput",
    "DateOverrideInput",
    "InvalidInput",
    "InvalidResource",
    "InvalidSchedule",
    "InvalidService",
    "NotFound",
    "RequirementInput",
    "ScheduleHours",
    "WeeklyRuleInput",
    "access_resource",
    "access_schedule",
    "access_service",
    "bookable_offerings",
    "create_resource",
    "create_schedule",
    "create_service",
    "deactivate_resource",
    "load_hours",
    "resources_of",
    "schedules_of",
    "service_rules",
    "services_of",
    "update_resource",
    "update_schedule",
    "update_service",
]


def bookable_offerings() -> list[Organization]:
    """Organizations by name, each with ``bookable_services``: its active services
    by name. Two queries. Every organization's: what is offered is public."""
    active = Service.objects.with_scopes_disabled().filter(active=True).order_by("name", "id")
    return list(
        Organization.objects.order_by("name", "id").prefetch_related(
            Prefetch("services", queryset=active, to_attr="bookable_services")
        )
    )


def service_rules(service: Service, duration_minutes: int) -> scheduling.ServiceRules:
    """The core's view of ``service`` for a booking of ``duration_minutes``.

    The caller checks that the duration is one the service offers.
    """
    minutes = timedelta(minutes=1)
    return scheduling.ServiceRules(
        duration=duration_minutes * minutes,
        step=None if service.step_minutes is None else service.step_minutes * minutes,
        buffer_before=service.buffer_before_minutes * minutes,
        buffer_after=service.buffer_after_minutes * minutes,
        min_notice=service.min_notice_minutes * minutes,
        horizon=None if service.horizon_days is None else timedelta(days=service.horizon_days),
        seats_per_slot=service.seats_per_slot,
        limits=scheduling.Limits(
            bookings_per_day=service.max_bookings_per_day,
            minutes_per_day=service.max_minutes_per_day,
            bookings_per_week=service.max_bookings_per_week,
            minutes_per_week=service.max_minutes_per_week,
        ),
    )


@dataclass(frozen=True, slots=True)
class ScheduleHours:
    """One schedule's rows for a range of dates, not yet tied to a zone."""

    weekly: tuple[scheduling.WeeklyRule, ...] = ()
    overrides: tuple[scheduling.DateOverride, ...] = ()
    closures: tuple[scheduling.Closure, ...] = ()
    holidays: scheduling.HolidayCalendar | None = None

    def in_zone(self, zone: ZoneInfo) -> scheduling.Schedule:
        """The schedule as it applies to a resource in ``zone``."""
        return scheduling.Schedule(
            zone,
            weekly=self.weekly,
            overrides=self.overrides,
            closures=self.closures,
            holidays=self.holidays,
        )


def load_hours(
    holidays: dict[int, tuple[str, str]], first: date, last: date
) -> dict[int, ScheduleHours]:
    """Hours of the schedules keyed in ``holidays`` (id to country and subdivision).

    Only rows that can affect ``first`` to ``last`` are read, with two days'
    margin either side for resources in other zones than the customer's.
    One query whatever the number of schedules: it is on the path of every
    slot query, so weekly rules, overrides and closures come back together
    (``UNION ALL``) as plain rows.
    """
    ids = list(holidays)
    weekly: dict[int, list[scheduling.WeeklyRule]] = defaultdict(list)
    override_hours: dict[tuple[int, date], list[scheduling.Hours]] = {}
    closures: dict[int, list[scheduling.Closure]] = defaultdict(list)
    rows: list[tuple[Any, ...]] = []
    if ids:
        with connection.cursor() as cursor:
            cursor.execute(*_hours_query(ids, first - timedelta(days=2), last + timedelta(days=2)))
            rows = cursor.fetchall()
    for kind, schedule_id, weekday, start, end, day, until, reason, _ in rows:
        if kind == "w":
            weekly[schedule_id].append(
                scheduling.WeeklyRule(weekday, _time(start), _time(end), _date(day), _date(until))
            )
        elif kind == "o":
            # An override without hours comes back once, with empty hours
            # from the outer join: it closes the day.
            ranges = override_hours.setdefault((schedule_id, _date(day)), [])
            if start is not None:
                ranges.append((_time(start), _time(end)))
        else:
            closures[schedule_id].append(scheduling.Closure(_date(day), _date(until), reason))
    overrides: dict[int, list[scheduling.DateOverride]] = defaultdict(list)
    for (schedule_id, day), ranges in override_hours.items():
        overrides[schedule_id].append(scheduling.DateOverride(day, tuple(ranges)))

    return {
        schedule_id: ScheduleHours(
            weekly=tuple(weekly[schedule_id]),
            overrides=tuple(overrides[schedule_id]),
            closures=tuple(closures[schedule_id]),
            holidays=_holiday_calendar(*holidays[schedule_id]),
        )
        for schedule_id in ids
    }


def _hours_query(ids: list[int], lo: date, hi: date) -> tuple[str, list[Any]]:
    """Rows ``(kind, schedule, weekday, start, end, date, until, reason, id)`` of the
    weekly rules (``w``), overrides (``o``, one per hours range) and closures (``c``)
    of schedules ``ids`` that touch ``lo`` to ``hi``, in the order the core reads them."""
    q = connection.ops.quote_name
    weekly, override = WeeklyRule._meta.db_table, DateOverride._meta.db_table
    hours, closure = DateOverrideHours._meta.db_table, Closure._meta.db_table
    in_ids = ", ".join(["%s"] * len(ids))
    sql = (
        f"SELECT 'w', w.schedule_id, w.weekday, w.{q('start')}, w.{q('end')},"  # noqa: S608
        " w.valid_from, w.valid_until, NULL, w.id"
        f" FROM {weekly} w WHERE w.schedule_id IN ({in_ids})"
        " AND (w.valid_from IS NULL OR w.valid_from <= %s)"
        " AND (w.valid_until IS NULL OR w.valid_until >= %s)"
        " UNION ALL"
        f" SELECT 'o', o.schedule_id, NULL, h.{q('start')}, h.{q('end')}, o.{q('date')},"
        " NULL, NULL, o.id"
        f" FROM {override} o LEFT JOIN {hours} h ON h.override_id = o.id"
        f" WHERE o.schedule_id IN ({in_ids}) AND o.{q('date')} >= %s AND o.{q('date')} <= %s"
        " UNION ALL"
        f" SELECT 'c', c.schedule_id, NULL, NULL, NULL, c.{q('first')}, c.{q('last')},"
        " c.reason, c.id"
        f" FROM {closure} c"
        f" WHERE c.schedule_id IN ({in_ids}) AND c.{q('first')} <= %s AND c.{q('last')} >= %s"
        " ORDER BY 1, 3, 6, 4, 9"
    )
    low, high = connection.ops.adapt_datefield_value(lo), connection.ops.adapt_datefield_value(hi)
    return sql, [*ids, high, low, *ids, low, high, *ids, high, low]


def _time(value: time | str) -> time:
    """A time column's value: a ``time`` from PostgreSQL, ISO text from SQLite."""
    return value if isinstance(value, time) else time.fromisoformat(value)


def _date(value: date | str | None) -> date | None:
    """A date column's value (or NULL), as :func:`_time` for dates."""
    return date.fromisoformat(value) if isinstance(value, str) else value


def _holiday_calendar(country: str, subdivision: str) -> scheduling.HolidayCalendar | None:
    return scheduling.HolidayCalendar(country, subdivision or None) if country else None


# Staff operations: the catalog as an organization's staff change it.


class CatalogError(Exception):
    """A change to the catalog that cannot be made as asked; the message says why."""


class NotFound(CatalogError):
    """No such row in the acting organization (another organization's looks the same)."""


class InvalidInput(CatalogError):
    """Input the catalog refuses: ``errors`` maps each offending field to what is
    wrong with it (``{"weekly_rules.2.end": ["..."]}``); ``__all__`` holds the rest."""

    def __init__(self, errors: Mapping[str, list[str]]) -> None:
        self.errors = dict(errors)
        super().__init__(f"Check these fields: {', '.join(self.errors)}.")


class InvalidResource(InvalidInput):
    pass


class InvalidSchedule(InvalidInput):
    pass


class InvalidService(InvalidInput):
    pass


Errors = dict[str, list[str]]

RESOURCE_FIELDS = frozenset({"name", "kind", "capacity", "time_zone", "schedule_id", "active"})
SCHEDULE_FIELDS = frozenset({"name", "holiday_country", "holiday_subdivision"})
SCHEDULE_LISTS = frozenset({"weekly_rules", "overrides", "closures"})
SERVICE_FIELDS = frozenset(
    {
        "name",
        "slug",
        "durations",
        "step_minutes",
        "buffer_before_minutes",
        "buffer_after_minutes",
        "min_notice_minutes",
        "horizon_days",
        "seats_per_slot",
        "max_bookings_per_day",
        "max_minutes_per_day",
        "max_bookings_per_week",
        "max_minutes_per_week",
        "price_minor",
        "currency",
        "requires_approval",
        "reminder_minutes",
        "payment_mode",
        "deposit_percent",
        "deposit_minor",
        "cancellation_policy",
        "waitlist_mode",
        "offer_minutes",
        "active",
    }
)


@dataclass(frozen=True, slots=True)
class WeeklyRuleInput:
    """Open every ``weekday`` (0 is Monday) from ``start`` to ``end``; an ``end`` of
    ``time(0)`` is the end of the day."""

    weekday: int
    start: time
    end: time
    valid_from: date | None = None
    valid_until: date | None = None


@dataclass(frozen=True, slots=True)
class DateOverrideInput:
    """On ``date``, open during ``hours`` only; no hours closes the day."""

    date: date
    hours: tuple[tuple[time, time], ...] = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class ClosureInput:
    first: date
    last: date
    reason: str = ""


@dataclass(frozen=True, slots=True)
class RequirementInput:
    """One resource of ``kind`` per booking, from ``pool`` (resource ids) if given."""

    kind: str
    pool: tuple[int, ...] = ()


# Resources


def resources_of(organization: Organization) -> list[Resource]:
    return list(Resource.objects.filter(organization=organization).order_by("name", "id"))


def access_resource(organization: Organization, resource_id: int) -> Resource:
    """The resource ``resource_id`` of ``organization``, or :class:`NotFound`."""
    return _access(Resource.objects.all(), organization, resource_id, "resource")


@transaction.atomic
def create_resource(organization: Organization, fields: Mapping[str, Any]) -> Resource:
    """A new resource from ``fields`` (see :data:`RESOURCE_FIELDS`; ``name`` and
    ``kind`` are needed, the zone defaults to the organization's), or
    :class:`InvalidResource`."""
    resource = Resource(organization=organization, time_zone=organization.time_zone)
    _save_resource(resource, fields)
    return resource


@transaction.atomic
def update_resource(
    organization: Organization, resource_id: int, changes: Mapping[str, Any]
) -> Resource:
    """The resource with ``changes`` made, or :class:`NotFound` / :class:`InvalidResource`."""
    resource = _access(Resource.objects.select_for_update(), organization, resource_id, "resource")
    _save_resource(resource, changes)
    return resource


def deactivate_resource(organization: Organization, resource_id: int) -> Resource:
    """Take the resource out of every future slot; bookings on it stay as they are.

    Resources are never deleted: bookings keep pointing at them.
    """
    return update_resource(organization, resource_id, {"active": False})


def _save_resource(resource: Resource, fields: Mapping[str, Any]) -> None:
    _assign(resource, fields, RESOURCE_FIELDS, frozenset())
    errors: Errors = {}
    if resource.schedule_id is not None:
        schedule = Schedule.objects.filter(
            organization_id=resource.organization_id, pk=resource.schedule_id
        ).first()
        if schedule is None:
            errors["schedule_id"] = [f"There is no schedule {resource.schedule_id}."]
        # Validation below reads the schedule: the one found, or none.
        resource.schedule = schedule
    _full_clean(resource, errors, names={"schedule": "schedule_id"})
    if errors:
        raise InvalidResource(errors)
    resource.save()


# Schedules


def schedules_of(organization: Organization) -> list[Schedule]:
    """The organization's schedules by name, with their rules, overrides and closures."""
    return list(_schedules().filter(organization=organization).order_by("name", "id"))


def access_schedule(organization: Organization, schedule_id: int) -> Schedule:
    """The schedule ``schedule_id`` of ``organization`` with its rules, overrides and
    closures, or :class:`NotFound`."""
    return _access(_schedules(), organization, schedule_id, "schedule")


@transaction.atomic
def create_schedule(organization: Organization, fields: Mapping[str, Any]) -> Schedule:
    """A new schedule from ``fields``: ``name``, ``holiday_country``,
    ``holiday_subdivision``, and the lists ``weekly_rules``
    (:class:`WeeklyRuleInput`), ``overrides`` (:class:`DateOverrideInput`) and
    ``closures`` (:class:`ClosureInput`). Or :class:`InvalidSchedule`."""
    schedule = Schedule(organization=organization)
    _save_schedule(schedule, fields)
    return access_schedule(organization, schedule.pk)


@transaction.atomic
def update_schedule(
    organization: Organization,
    schedule_id: int,
    changes: Mapping[str, Any],
    *,
    only_for: frozenset[int] | None = None,
) -> Schedule:
    """The schedule with ``changes`` made (as for :func:`create_schedule`); a list
    given replaces that list whole. Or :class:`NotFound` / :class:`InvalidSchedule`.

    With ``only_for`` (a staff member's own resources), a schedule that serves
    none of them, or any other resource too, is :class:`NotFound`.
    """
    # Locked, so that two replacements of the same list cannot interleave.
    schedules = Schedule.objects.select_for_update()
    if only_for is not None:
        theirs = Resource.objects.filter(pk__in=only_for).values("schedule_id")
        shared = Resource.objects.filter(schedule=OuterRef("pk")).exclude(pk__in=only_for)
        schedules = schedules.filter(pk__in=theirs).exclude(Exists(shared))
    schedule = _access(schedules, organization, schedule_id, "schedule")
    _save_schedule(schedule, changes)
    return access_schedule(organization, schedule.pk)


def _schedules() -> QuerySet[Schedule]:
    return Schedule.objects.prefetch_related(
        Prefetch("weekly_rules", queryset=WeeklyRule.objects.order_by("weekday", "start", "id")),
        Prefetch(
            "overrides",
            queryset=DateOverride.objects.order_by("date").prefetch_related(
                Prefetch("hours", queryset=DateOverrideHours.objects.order_by("start", "id"))
            ),
        ),
        Prefetch("closures", queryset=Closure.objects.order_by("first", "last", "id")),
    )


def _save_schedule(schedule: Schedule, fields: Mapping[str, Any]) -> None:
    _assign(schedule, fields, SCHEDULE_FIELDS, SCHEDULE_LISTS)
    # None, like "", means no public holidays.
    schedule.holiday_country = schedule.holiday_country or ""
    schedule.holiday_subdivision = schedule.holiday_subdivision or ""
    lists = {name: fields[name] for name in SCHEDULE_LISTS & fields.keys()}
    errors = _holiday_errors(schedule.holiday_country, schedule.holiday_subdivision)
    # The model's own holiday check would only repeat, less clearly, what is wrong.
    holiday = frozenset({"holiday_country", "holiday_subdivision"}) if errors else frozenset()
    _full_clean(schedule, errors, exclude=holiday)
    rules = _weekly_rules(lists.get("weekly_rules", ()), errors)
    overrides = _overrides(lists.get("overrides", ()), errors)
    closures = _closures(lists.get("closures", ()), errors)
    for name, value in lists.items():
        if value is None:
            errors[name] = ["Give a list; an empty one removes them all."]
    if errors:
        raise InvalidSchedule(errors)
    schedule.save()
    if "weekly_rules" in lists:
        schedule.weekly_rules.all().delete()
        for rule in rules:
            rule.schedule = schedule
        WeeklyRule.objects.bulk_create(rules)
    if "overrides" in lists:
        schedule.overrides.all().delete()
        for override, _ in overrides:
            override.schedule = schedule
        DateOverride.objects.bulk_create(override for override, _ in overrides)
        for override, hours in overrides:
            for row in hours:
                row.override = override
        DateOverrideHours.objects.bulk_create(row for _, hours in overrides for row in hours)
    if "closures" in lists:
        schedule.closures.all().delete()
        for closure in closures:
            closure.schedule = schedule
        Closure.objects.bulk_create(closures)


def _holiday_errors(country: str, subdivision: str) -> Errors:
    if not country:
        if subdivision:
            return {"holiday_subdivision": ["A subdivision needs holiday_country too."]}
        return {}
    import holidays  # here, not at the top: loading it takes a moment

    known = holidays.list_supported_countries(include_aliases=False)
    if country not in known:
        return {
            "holiday_country": [
                f"There is no public-holiday calendar for {country[:10]!r}. "
                "Give an ISO 3166-1 alpha-2 code such as GB, or leave it empty."
            ]
        }
    if subdivision and subdivision not in known[country]:
        listed = ", ".join(known[country]) or "none"
        return {
            "holiday_subdivision": [
                f"{subdivision[:20]!r} is not a subdivision of {country}; "
                f"these are: {listed}. Leave it empty for the national holidays."
            ]
        }
    return {}


def _ends_after_start(start: time, end: time) -> bool:
    """As the hours tables' check constraint: ``end`` after ``start``, or 00:00 (24:00)."""
    return end == MIDNIGHT or end > start


_END_BEFORE_START = (
    "Must be after start (24:00 is the end of the day); "
    "split an opening past midnight into two, one on each day."
)


def _weekly_rules(rules: Sequence[WeeklyRuleInput] | None, errors: Errors) -> list[WeeklyRule]:
    rows = []
    for i, rule in enumerate(rules or ()):
        row = WeeklyRule(
            weekday=rule.weekday,
            start=rule.start,
            end=rule.end,
            valid_from=rule.valid_from,
            valid_until=rule.valid_until,
        )
        at = f"weekly_rules.{i}"
        _clean_fields(row, errors, at, exclude={"schedule"})
        if not _ends_after_start(rule.start, rule.end):
            errors.setdefault(f"{at}.end", []).append(_END_BEFORE_START)
        if rule.valid_from and rule.valid_until and rule.valid_until < rule.valid_from:
            errors.setdefault(f"{at}.valid_until", []).append("Must not be before valid_from.")
        rows.append(row)
    return rows


def _overrides(
    overrides: Sequence[DateOverrideInput] | None, errors: Errors
) -> list[tuple[DateOverride, list[DateOverrideHours]]]:
    rows = []
    seen: set[date] = set()
    for i, override in enumerate(overrides or ()):
        at = f"overrides.{i}"
        row = DateOverride(date=override.date, note=override.note)
        _clean_fields(row, errors, at, exclude={"schedule"})
        if override.date in seen:
            errors.setdefault(f"{at}.date", []).append(
                "Another override in the list has this date; give each date once."
            )
        seen.add(override.date)
        hours = []
        for j, (start, end) in enumerate(override.hours):
            if not _ends_after_start(start, end):
                errors.setdefault(f"{at}.hours.{j}.end", []).append(_END_BEFORE_START)
            hours.append(DateOverrideHours(start=start, end=end))
        rows.append((row, hours))
    return rows


def _closures(closures: Sequence[ClosureInput] | None, errors: Errors) -> list[Closure]:
    rows = []
    for i, closure in enumerate(closures or ()):
        at = f"closures.{i}"
        row = Closure(first=closure.first, last=closure.last, reason=closure.reason)
        _clean_fields(row, errors, at, exclude={"schedule"})
        if closure.last < closure.first:
            errors.setdefault(f"{at}.last", []).append("Must not be before first.")
        rows.append(row)
    return rows


# Services


def services_of(organization: Organization) -> list[Service]:
    """The organization's services by name, inactive ones included, with requirements."""
    return list(_services().filter(organization=organization).order_by("name", "id"))


def access_service(organization: Organization, service_id: int) -> Service:
    """The service ``service_id`` of ``organization`` with its requirements, or
    :class:`NotFound`."""
    return _access(_services(), organization, service_id, "service")


@transaction.atomic
def create_service(organization: Organization, fields: Mapping[str, Any]) -> Service:
    """A new service from ``fields`` (see :data:`SERVICE_FIELDS`, plus
    ``requirements``, a list of :class:`RequirementInput`), or :class:`InvalidService`.

    ``slug`` defaults to the name's, ``currency`` to the organization's.
    """
    service = Service(organization=organization, currency=organization.currency)
    if "slug" not in fields:
        service.slug = slugify(fields.get("name") or "")
    _save_service(service, fields)
    return access_service(organization, service.pk)


@transaction.atomic
def update_service(
    organization: Organization, service_id: int, changes: Mapping[str, Any]
) -> Service:
    """The service with ``changes`` made; ``requirements``, if given, replace the
    old ones whole. Or :class:`NotFound` / :class:`InvalidService`."""
    service = _access(Service.objects.select_for_update(), organization, service_id, "service")
    _save_service(service, changes)
    return access_service(organization, service.pk)


def _check_payment_terms(service: Service, errors: Errors) -> None:
    """A deposit is a share or an amount, never both; asking for payment needs a price.
    A policy is stored in its one normal form (tiers in order); ``{}`` is none."""
    if service.payment_mode == PaymentMode.DEPOSIT:
        if (service.deposit_percent is None) == (service.deposit_minor is None):
            errors["deposit_percent"] = [
                "A deposit is either deposit_percent (1 to 100) or deposit_minor, not both "
                "and not neither."
            ]
        elif service.deposit_percent is not None and not 1 <= service.deposit_percent <= 100:
            errors["deposit_percent"] = ["Give a share of the price from 1 to 100."]
        elif service.deposit_minor is not None and service.deposit_minor < 1:
            errors["deposit_minor"] = ["Give a deposit of at least 1 minor unit."]
    else:
        service.deposit_percent = service.deposit_minor = None
    if service.payment_mode in (PaymentMode.DEPOSIT, PaymentMode.FULL) and not service.price_minor:
        errors["payment_mode"] = ["A service without a price cannot ask for payment."]
    if service.cancellation_policy and "cancellation_policy" not in errors:
        try:
            service.cancellation_policy = policy_dict(parse_policy(service.cancellation_policy))
        except PolicyError as error:
            errors["cancellation_policy"] = [str(error)]


def _services() -> QuerySet[Service]:
    pool = Prefetch("pool", queryset=Resource.objects.only("id").order_by("id"))
    return Service.objects.prefetch_related(
        Prefetch(
            "requirements",
            queryset=ServiceRequirement.objects.order_by("ordering").prefetch_related(pool),
        )
    )


def _save_service(service: Service, fields: Mapping[str, Any]) -> None:
    _assign(service, fields, SERVICE_FIELDS, frozenset({"requirements"}))
    errors: Errors = {}
    if (
        service.slug
        and Service.objects.filter(organization_id=service.organization_id, slug=service.slug)
        .exclude(pk=service.pk)
        .exists()
    ):
        errors["slug"] = [f"Another service of this organization has the slug {service.slug!r}."]
    _full_clean(service, errors, exclude=set(errors))
    _check_payment_terms(service, errors)
    requirements = fields.get("requirements", ())
    if requirements is None:
        errors["requirements"] = ["Give a list; an empty one removes them all."]
    else:
        _check_requirements(service.organization_id, requirements, errors)
    if errors:
        raise InvalidService(errors)
    try:
        with transaction.atomic():
            service.save()
    except IntegrityError as exc:
        # Checked above; only a service saved meanwhile with the same slug gets here.
        raise InvalidService(
            {"slug": [f"Another service of this organization has the slug {service.slug!r}."]}
        ) from exc
    if "requirements" in fields:
        service.requirements.all().delete()
        for ordering, need in enumerate(requirements):
            requirement = ServiceRequirement.objects.create(
                service=service, kind=need.kind, ordering=ordering
            )
            requirement.pool.set(sorted(set(need.pool)))


def _check_requirements(
    organization_id: int, requirements: Sequence[RequirementInput], errors: Errors
) -> None:
    wanted = {pk for need in requirements for pk in need.pool}
    kinds = dict(
        Resource.objects.filter(organization_id=organization_id, pk__in=wanted).values_list(
            "pk", "kind"
        )
    )
    for i, need in enumerate(requirements):
        at = f"requirements.{i}"
        if need.kind not in ResourceKind.values:
            errors[f"{at}.kind"] = [f"Choose one of {', '.join(ResourceKind.values)}."]
            continue
        for pk in need.pool:
            if pk not in kinds:
                message = f"There is no resource {pk}."
            elif kinds[pk] != need.kind:
                message = f"Resource {pk} is a {kinds[pk]}, not a {need.kind}."
            else:
                continue
            errors.setdefault(f"{at}.pool", []).append(message)


# Shared by the staff operations


def _access[M: Model](queryset: QuerySet[M], organization: Organization, pk: int, thing: str) -> M:
    found = queryset.filter(organization=organization, pk=pk).first()
    if found is None:
        raise NotFound(f"There is no {thing} {pk}.")
    return found


def _assign(
    row: Model, fields: Mapping[str, Any], settable: frozenset[str], lists: frozenset[str]
) -> None:
    """Set the ``settable`` fields given; ``lists`` are the caller's to save."""
    unknown = fields.keys() - settable - lists
    if unknown:
        raise TypeError(f"{type(row).__name__} has no settable fields {sorted(unknown)}")
    for name in settable & fields.keys():
        setattr(row, name, fields[name])


def _full_clean(
    row: Model,
    errors: Errors,
    *,
    exclude: set[str] | frozenset[str] = frozenset(),
    names: Mapping[str, str] | None = None,
) -> None:
    """Add what ``row.full_clean()`` finds wrong to ``errors``, leaving out the
    fields in ``exclude`` (already reported) and naming fields as ``names`` say."""
    try:
        row.full_clean(exclude=list(exclude))
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            if field not in exclude:
                errors.setdefault((names or {}).get(field, field), []).extend(messages)


def _clean_fields(row: Model, errors: Errors, at: str, *, exclude: set[str]) -> None:
    """As :func:`_full_clean` for a row of a list: its fields only, keyed ``at.field``.

    A list's constraints are checked by the caller, without a query per row.
    """
    try:
        row.clean_fields(exclude=list(exclude))
    except ValidationError as exc:
        for field, messages in exc.message_dict.items():
            errors.setdefault(f"{at}.{field}", []).extend(messages)
