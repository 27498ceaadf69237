"""Recurring bookings: every occurrence checked, all or nothing or what is free.

The provider works Monday to Friday, 09:00 to 12:00 and 13:00 to 17:00 in
London; 1 June 2026 is a Monday.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotwise.bookings import series as recurring
from slotwise.bookings import services
from slotwise.bookings.models import Booking, BookingStatus, CancelledBy

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2026, 6, 1)
NOW = datetime(2026, 5, 1, tzinfo=UTC)
CUSTOMER = services.Customer("Ada", "ada@example.com", "Europe/Paris")


def london(hour, day=MONDAY):
    return datetime.combine(day, time(hour), LONDON)


def series(service, rrule, start=None, **kwargs):
    return recurring.book_series(service, first_start=start or london(14), rrule=rrule,
                                customer=CUSTOMER, now=NOW, **kwargs)  # fmt: skip


@pytest.fixture
def org(make_org):
    return make_org()


@pytest.fixture
def ann(org, make_resource):
    return make_resource(org, name="Ann")


@pytest.fixture
def service(org, ann, make_service):
    return make_service(org)


def test_a_weekly_1400_stays_1400_across_the_october_change(service):
    booked = series(service, "FREQ=WEEKLY;COUNT=8", start=london(14, date(2026, 10, 12)))
    walls = {b.starts_at.astimezone(LONDON).strftime("%H:%M") for b in booked.bookings}
    offsets = {b.starts_at.astimezone(LONDON).utcoffset() for b in booked.bookings}
    assert walls == {"14:00"}
    assert offsets == {timedelta(hours=1), timedelta(0)}
    assert len(booked.bookings) == 8
    assert booked.series.time_zone == "Europe/London"
    assert booked.bookings[0].series == booked.series


def test_all_or_nothing_books_nothing_when_one_date_is_taken(service, ann, make_booking):
    make_booking(service, [ann], london(14, MONDAY + timedelta(weeks=2)))
    with pytest.raises(recurring.SeriesUnavailable) as refused:
        series(service, "FREQ=WEEKLY;COUNT=4")
    assert [s.wall.date() for s in refused.value.skipped] == [MONDAY + timedelta(weeks=2)]
    assert Booking.objects.count() == 1


def test_book_what_is_free_lists_the_skipped_dates(service, ann, make_booking, make_closure):
    make_booking(service, [ann], london(14, MONDAY + timedelta(weeks=1)))
    make_closure(ann.schedule, MONDAY + timedelta(weeks=3), MONDAY + timedelta(weeks=3))
    booked = series(service, "FREQ=WEEKLY;COUNT=5", all_or_nothing=False)
    assert [b.starts_at.date() for b in booked.bookings] == [
        MONDAY, MONDAY + timedelta(weeks=2), MONDAY + timedelta(weeks=4)
    ]  # fmt: skip
    assert [s.wall.date() for s in booked.skipped] == [
        MONDAY + timedelta(weeks=1), MONDAY + timedelta(weeks=3)
    ]  # fmt: skip


def test_the_series_counts_its_own_occurrences_toward_weekly_limits(org, ann, make_service):
    once_a_week = make_service(org, max_bookings_per_week=1)
    booked = series(once_a_week, "FREQ=DAILY;COUNT=5", all_or_nothing=False)
    assert len(booked.bookings) == 1
    assert len(booked.skipped) == 4


def test_monthly_second_tuesday(service):
    booked = series(service, "FREQ=MONTHLY;BYDAY=2TU;COUNT=3", start=london(10, date(2026, 6, 9)))
    assert [b.starts_at.date() for b in booked.bookings] == [
        date(2026, 6, 9), date(2026, 7, 14), date(2026, 8, 11)
    ]  # fmt: skip


def test_bad_rules_are_refused_before_anything_is_written(service):
    with pytest.raises(recurring.InvalidRecurrence, match="neither COUNT nor UNTIL"):
        series(service, "FREQ=WEEKLY")
    with pytest.raises(recurring.InvalidRecurrence):
        series(service, "FREQ=WEEKLY;BYDAY=TU;COUNT=2")  # the first start is a Monday
    assert not Booking.objects.exists()


def test_cancel_one_following_or_all(service):
    booked = series(service, "FREQ=WEEKLY;COUNT=5")
    starts = [b.starts_at for b in booked.bookings]
    by = CancelledBy.CUSTOMER
    one = recurring.cancel_series(booked.series, scope="one", occurrence=starts[1], by=by, now=NOW)
    assert [b.starts_at for b in one] == [starts[1]]
    following = recurring.cancel_series(
        booked.series, scope="following", occurrence=starts[3], by=by, now=NOW
    )
    assert [b.starts_at for b in following] == starts[3:]
    rest = recurring.cancel_series(booked.series, scope="all", by=by, now=NOW)
    assert [b.starts_at for b in rest] == [starts[0], starts[2]]
    assert not Booking.objects.exclude(status=BookingStatus.CANCELLED).exists()
    with pytest.raises(services.InvalidTransition):
        recurring.cancel_series(booked.series, scope="all", by=by, now=NOW)


def test_the_series_manage_token_finds_it(service):
    booked = series(service, "FREQ=WEEKLY;COUNT=2")
    assert recurring.series_for_token(booked.token) == booked.series
    with pytest.raises(services.BookingNotFound):
        recurring.series_for_token("x" * 43)
