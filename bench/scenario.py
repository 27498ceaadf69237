"""The benchmark's scenario, built the same way every run (fixed seed).

One provider in Europe/Berlin, open 07:00 to 12:00 and 13:00 to 22:00 every
day (a lunch break), a 30-minute service on a 15-minute grid with 10 minutes
of preparation and 5 of clean-up, 500 existing 20-minute bookings (blocked
with the same buffers) and 100 external busy events spread over 30 days that
include the European spring-forward, shown to a customer in America/New_York.
"""

import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from slotwise.scheduling import (
    Busy,
    ResourceCalendar,
    Schedule,
    ServiceRules,
    WeeklyRule,
)

PROVIDER_ZONE = ZoneInfo("Europe/Berlin")
CUSTOMER_ZONE = ZoneInfo("America/New_York")
FIRST = date(2026, 3, 16)
LAST = FIRST + timedelta(days=29)
NOW = datetime(2026, 3, 15, 12, tzinfo=UTC)
HOURS = ((time(7), time(12)), (time(13), time(22)))
SERVICE = ServiceRules(
    duration=timedelta(minutes=30),
    step=timedelta(minutes=15),
    buffer_before=timedelta(minutes=10),
    buffer_after=timedelta(minutes=5),
    min_notice=timedelta(hours=2),
    horizon=timedelta(days=60),
)
BOOKINGS = 500
EVENTS = 100


def busy_entries(seed: int = 7) -> list[Busy]:
    """500 non-overlapping bookings (blocked ranges) and 100 external events."""
    rng = random.Random(seed)
    free_starts = []
    for n in range(30):
        day = FIRST + timedelta(days=n)
        for start, end in HOURS:
            t = datetime.combine(day, start, PROVIDER_ZONE)
            stop = datetime.combine(day, end, PROVIDER_ZONE)
            while t + timedelta(minutes=35) <= stop:
                free_starts.append(t + SERVICE.buffer_before)
                t += timedelta(minutes=35)
    entries = [
        Busy.between(
            start - SERVICE.buffer_before, start + timedelta(minutes=20) + SERVICE.buffer_after
        )
        for start in sorted(rng.sample(free_starts, BOOKINGS))
    ]
    origin = datetime.combine(FIRST, time(0), PROVIDER_ZONE)
    for _ in range(EVENTS):
        start = origin + timedelta(minutes=15 * rng.randrange(30 * 96))
        entries.append(
            Busy.between(
                start, start + timedelta(minutes=rng.choice((30, 60, 90, 120))), units=None
            )
        )
    return entries


def resource(seed: int = 7) -> ResourceCalendar:
    schedule = Schedule(
        PROVIDER_ZONE,
        weekly=tuple(WeeklyRule(d, s, e) for d in range(7) for s, e in HOURS),
    )
    return ResourceCalendar("provider", schedule, busy=tuple(busy_entries(seed)))
