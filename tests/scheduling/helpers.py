"""Small builders shared by the scheduling tests."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slotwise.scheduling import (
    ResourceCalendar,
    Schedule,
    ServiceRules,
    WeeklyRule,
    find_slots,
)

LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


def every_day(*hours: tuple[time, time]) -> tuple[WeeklyRule, ...]:
    return tuple(WeeklyRule(weekday, start, end) for weekday in range(7) for start, end in hours)


def calendar(zone: str, *hours: tuple[time, time], **kwargs) -> ResourceCalendar:
    busy = kwargs.pop("busy", ())
    capacity = kwargs.pop("capacity", 1)
    schedule = Schedule(ZoneInfo(zone), weekly=every_day(*hours), **kwargs)
    return ResourceCalendar("r", schedule, capacity=capacity, busy=busy)


def rules(minutes: int = 60, **kwargs) -> ServiceRules:
    for name in ("step", "buffer_before", "buffer_after", "min_notice", "horizon"):
        if name in kwargs and isinstance(kwargs[name], int):
            kwargs[name] = timedelta(minutes=kwargs[name])
    return ServiceRules(duration=timedelta(minutes=minutes), **kwargs)


def starts(
    resource: ResourceCalendar,
    day: date,
    *,
    service: ServiceRules | None = None,
    zone: str | None = None,
    now: datetime = LONG_AGO,
    seats: int = 1,
) -> list[str]:
    """ISO starts of one customer date, in the customer's zone (the provider's by default)."""
    (result,) = find_slots(
        service or rules(),
        [[resource]],
        first=day,
        last=day,
        zone=ZoneInfo(zone or resource.schedule.zone.key),
        now=now,
        seats=seats,
    )
    return [slot.start_iso() for slot in result.slots]


def at(text: str) -> datetime:
    """An aware instant from ISO text with an offset."""
    moment = datetime.fromisoformat(text)
    assert moment.tzinfo is not None
    return moment
