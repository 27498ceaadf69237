"""A straightforward minute-by-minute slot finder: the baseline the core is measured against.

Marks every open minute and every busy minute of the window in arrays, then
checks each grid start minute by minute. Correct for the benchmark's
scenario (capacity 1, no limits), written the way such code usually is.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from slotwise.scheduling import ResourceCalendar, ServiceRules


def naive_slots(
    service: ServiceRules, calendar: ResourceCalendar, first, last, zone: ZoneInfo, now
):
    provider = calendar.schedule.zone
    origin = (
        int(datetime.combine(first - timedelta(days=2), datetime.min.time(), provider).timestamp())
        // 60
    )
    size = ((last - first).days + 5) * 1440
    opened = bytearray(size)
    busy = bytearray(size)
    starts = []
    step = int((service.step or service.duration).total_seconds()) // 60
    day = first - timedelta(days=1)
    while day <= last + timedelta(days=1):
        for rule in calendar.schedule.weekly:
            if rule.weekday != day.weekday():
                continue
            begin = datetime.combine(day, rule.start, provider)
            end = datetime.combine(
                day if rule.end.hour or rule.end.minute else day + timedelta(days=1),
                rule.end,
                provider,
            )
            a = int(begin.timestamp()) // 60 - origin
            b = int(end.timestamp()) // 60 - origin
            for m in range(a, b):
                opened[m] = 1
            starts.extend(range(a, b, step))
        day += timedelta(days=1)
    for entry in calendar.busy:
        a = max(entry.start // 60 - origin, 0)
        b = min(entry.end // 60 - origin, size)
        for m in range(a, b):
            busy[m] = 1
    duration = int(service.duration.total_seconds()) // 60
    before = int(service.buffer_before.total_seconds()) // 60
    after = int(service.buffer_after.total_seconds()) // 60
    earliest = (int((now + service.min_notice).timestamp()) // 60) - origin
    result: dict = {}
    for m in sorted(set(starts)):
        if m < earliest:
            continue
        if all(opened[m : m + duration]) and not any(busy[m - before : m + duration + after]):
            start = datetime.fromtimestamp((m + origin) * 60, zone)
            if first <= start.date() <= last:
                result.setdefault(start.date(), []).append(
                    (start, start + timedelta(minutes=duration))
                )
    return result
