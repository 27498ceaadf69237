"""The booking engine's operations, one transaction each, on SQLite and PostgreSQL.

The provider works Monday to Friday, 09:00 to 12:00 and 13:00 to 17:00 in
London (UTC+1 in June); 1 June 2026 is a Monday.
"""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotwise.bookings import services
from slotwise.bookings.models import Allocation, Booking, BookingStatus, CancelledBy
from slotwise.catalog.models import ResourceKind

pytestmark = pytest.mark.django_db

LONDON = ZoneInfo("Europe/London")
MONDAY = date(2026, 6, 1)
NOW = datetime(2026, 5, 1, tzinfo=UTC)
CUSTOMER = services.Customer("Ada", "ada@example.com", "Europe/Paris")


def london(hour, minute=0, day=MONDAY):
    return datetime.combine(day, time(hour, minute), LONDON)


def book(service, start, **kwargs):
    return services.book(service, start=start, customer=CUSTOMER, now=kwargs.pop("now", NOW),
                         **kwargs)  # fmt: skip


@pytest.fixture
def org(make_org):
    return make_org()


@pytest.fixture
def ann(org, make_resource):
    return make_resource(org, name="Ann")


@pytest.fixture
def service(org, ann, make_service):
    return make_service(org)


def test_a_booking_takes_its_slot_and_a_second_one_is_refused(service, ann):
    booking, token = book(service, london(10))
    assert booking.status == BookingStatus.CONFIRMED
    assert len(token) >= 43  # 256 bits, URL-safe
    assert booking.manage_token_hash == services.hash_token(token)
    (allocation,) = booking.allocations.all()
    assert (allocation.resource, allocation.exclusive) == (ann, True)
    with pytest.raises(services.SlotUnavailable):
        book(service, london(10))
    assert Booking.objects.count() == 1


@pytest.mark.parametrize(
    ("start", "refusal"),
    [
        (london(10, 7), "not-on-grid"),
        (london(12), "closed"),
        (datetime(2026, 6, 1, 10), "naive"),  # noqa: DTZ001 (the case under test)
        (datetime(2026, 4, 1, 9, tzinfo=UTC), "in-past"),
    ],
    ids=["off-grid", "lunch", "naive", "past"],
)
def test_refused_starts_write_nothing(service, start, refusal):
    with pytest.raises(services.StartRefused) as refused:
        book(service, start)
    assert refused.value.refusal == refusal
    assert not Booking.objects.exists()


def test_a_hold_blocks_until_it_expires_then_anyone_may_book(service):
    held, _ = book(service, london(10), hold=True)
    assert held.status == BookingStatus.HELD
    assert held.expires_at == NOW + timedelta(minutes=services.HOLD_MINUTES)
    with pytest.raises(services.SlotUnavailable):
        book(service, london(10), now=NOW + timedelta(minutes=9))
    later = NOW + timedelta(minutes=10)
    taken, _ = book(service, london(10), now=later)
    held.refresh_from_db()
    assert (held.status, held.cancelled_by) == (BookingStatus.CANCELLED, CancelledBy.SYSTEM)
    assert not held.allocations.exists()
    with pytest.raises(services.InvalidTransition):
        services.confirm_hold(held, now=later)
    assert taken.status == BookingStatus.CONFIRMED


def test_confirming_a_hold_in_time(service):
    held, _ = book(service, london(10), hold=True)
    confirmed = services.confirm_hold(held, now=NOW + timedelta(minutes=5))
    assert confirmed.status == BookingStatus.CONFIRMED
    assert confirmed.expires_at is None


def test_an_expired_hold_cannot_be_confirmed(service):
    held, _ = book(service, london(10), hold=True)
    with pytest.raises(services.HoldExpired):
        services.confirm_hold(held, now=NOW + timedelta(minutes=11))


def test_pending_bookings_block_and_approval_rechecks(org, ann, service, make_busy):
    service.requires_approval = True
    service.save()
    pending, _ = book(service, london(10))
    assert pending.status == BookingStatus.PENDING
    with pytest.raises(services.SlotUnavailable):
        book(service, london(10))
    # The provider's own calendar now says busy then: approval must not confirm it.
    make_busy(ann, london(10), london(11))
    with pytest.raises(services.SlotUnavailable):
        services.approve(pending, now=NOW)
    pending.refresh_from_db()
    assert pending.status == BookingStatus.PENDING
    rejected = services.reject(pending, now=NOW, reason="Away that day")
    assert (rejected.status, rejected.cancelled_by) == (BookingStatus.CANCELLED, CancelledBy.STAFF)


def test_approval_confirms_what_still_fits(service):
    service.requires_approval = True
    service.save()
    pending, _ = book(service, london(10))
    assert services.approve(pending, now=NOW + timedelta(days=20)).status == "confirmed"
    with pytest.raises(services.InvalidTransition):
        services.approve(pending, now=NOW)


def test_cancel_frees_the_slot_and_records_who_and_why(service):
    booking, _ = book(service, london(10))
    services.cancel(booking, by=CancelledBy.CUSTOMER, now=NOW, reason="Ill")
    booking.refresh_from_db()
    assert (booking.status, booking.cancelled_by, booking.cancel_reason) == (
        "cancelled", "customer", "Ill"
    )  # fmt: skip
    assert book(service, london(10))[0].status == BookingStatus.CONFIRMED
    with pytest.raises(services.InvalidTransition):
        services.cancel(booking, by=CancelledBy.CUSTOMER, now=NOW)
    assert [e.action for e in booking.events.all()] == ["booking.created", "booking.cancelled"]


def test_reschedule_moves_the_booking_and_keeps_its_identity(service):
    booking, _ = book(service, london(10))
    moved = services.reschedule(booking, start=london(14), now=NOW)
    assert (moved.pk, moved.starts_at) == (booking.pk, london(14))
    assert book(service, london(10))[0].status == BookingStatus.CONFIRMED
    assert datetime.fromisoformat(moved.events.last().data["old"][0]) == london(10)


def test_reschedule_into_an_overlapping_slot_of_its_own(org, ann, make_service):
    long = make_service(org, durations=[120], step_minutes=60)
    booking, _ = book(long, london(9))
    assert services.reschedule(booking, start=london(10), now=NOW).starts_at == london(10)


def test_reschedule_to_a_taken_slot_leaves_the_booking_where_it_was(service):
    booking, _ = book(service, london(10))
    book(service, london(14))
    with pytest.raises(services.SlotUnavailable):
        services.reschedule(booking, start=london(14), now=NOW)
    booking.refresh_from_db()
    assert booking.starts_at == london(10)
    assert booking.allocations.get().blocked_start == london(10)


def test_any_available_provider_is_the_least_booked_that_day(org, ann, make_resource, service):
    bob = make_resource(org, name="Bob")
    first, _ = book(service, london(9))
    second, _ = book(service, london(10))
    third, _ = book(service, london(11))
    assert [b.allocations.get().resource for b in (first, second, third)] == [ann, bob, ann]


def test_person_and_room_are_taken_together(org, ann, make_resource, make_service):
    room = make_resource(org, name="Room", kind=ResourceKind.ROOM)
    session = make_service(org, needs=[(ResourceKind.PERSON, None), (ResourceKind.ROOM, None)])
    booking, _ = book(session, london(10))
    assert {a.resource for a in booking.allocations.all()} == {ann, room}


def test_seats_on_a_table_for_six(org, make_resource, make_service):
    table = make_resource(org, name="Table", kind=ResourceKind.TABLE, capacity=6)
    dinner = make_service(org, needs=[(ResourceKind.TABLE, None)])
    book(dinner, london(10), seats=4)
    with pytest.raises(services.SlotUnavailable):
        book(dinner, london(10), seats=3)
    booking, _ = book(dinner, london(10), seats=2)
    assert booking.allocations.get(resource=table).units == 2
    assert not booking.allocations.get().exclusive


def test_a_class_sells_its_seats_and_no_more(org, make_resource, make_service):
    make_resource(org, name="Studio", kind=ResourceKind.ROOM)
    yoga = make_service(org, needs=[(ResourceKind.ROOM, None)], seats_per_slot=3)
    book(yoga, london(10), seats=2)
    book(yoga, london(10), seats=1)
    with pytest.raises(services.SlotUnavailable):
        book(yoga, london(10), seats=1)
    assert Allocation.objects.filter(exclusive=True).count() == 0


def test_daily_limit_is_rechecked_when_booking(org, ann, make_service):
    limited = make_service(org, max_bookings_per_day=1)
    book(limited, london(9))
    with pytest.raises(services.SlotUnavailable):
        book(limited, london(14))
    assert book(limited, london(9, day=MONDAY + timedelta(days=1)))[0]


def test_marking_how_it_went(service):
    booking, _ = book(service, london(10))
    with pytest.raises(services.InvalidTransition):
        services.mark(booking, BookingStatus.NO_SHOW, now=NOW)
    after = london(11)
    assert services.mark(booking, BookingStatus.NO_SHOW, now=after).status == "no_show"
    with pytest.raises(services.InvalidTransition):
        services.mark(booking, BookingStatus.COMPLETED, now=after)


def test_release_expired_holds(service):
    book(service, london(10), hold=True)
    book(service, london(11))
    assert services.release_expired_holds(NOW + timedelta(minutes=10)) == 1
    assert Booking.objects.filter(status=BookingStatus.HELD).count() == 0


@pytest.mark.postgres_only
def test_the_database_refuses_overlapping_exclusive_allocations(service, ann, make_booking):
    from django.db import IntegrityError, transaction

    first = make_booking(service, [ann], london(10))
    first.allocations.update(exclusive=True)
    second = make_booking(service, [], london(10, 30))
    overlapping = Allocation(
        organization_id=second.organization_id, booking=second, resource=ann,
        blocked_start=london(10, 30), blocked_end=london(11, 30),
    )  # fmt: skip
    overlapping.save()  # not exclusive: capacity is the lock's business
    with pytest.raises(IntegrityError, match="allocation_no_overlap"), transaction.atomic():
        Allocation.objects.filter(pk=overlapping.pk).update(exclusive=True)
    touching = Allocation.objects.create(
        organization_id=second.organization_id, booking=second, resource=ann,
        blocked_start=london(11), blocked_end=london(12), exclusive=True,
    )  # fmt: skip
    assert touching.pk


def test_a_hold_asks_the_worker_to_release_it_when_it_expires(
    service, settings, django_capture_on_commit_callbacks
):
    from django.tasks import default_task_backend

    from slotwise.bookings.tasks import release_hold

    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    with django_capture_on_commit_callbacks(execute=True):
        held, _ = book(service, london(10), hold=True)
    (queued,) = default_task_backend.results
    assert queued.task.func is release_hold.func
    assert queued.args == [held.pk]
    assert queued.task.run_after == held.expires_at
    assert not services.release_hold(held.pk, now=NOW + timedelta(minutes=9))
    assert services.release_hold(held.pk, now=NOW + timedelta(minutes=10))
    held.refresh_from_db()
    assert held.status == BookingStatus.CANCELLED


def test_a_resource_deactivated_between_the_first_check_and_the_lock_is_not_taken(
    org, ann, make_resource, service
):
    from django.db import transaction

    bob = make_resource(org, name="Bob")
    read = services._unlocked(service)
    ann.active = False
    ann.save()
    with transaction.atomic():
        locked = services._lock_service(service, NOW, read)
    assert set(locked.resources) == {bob.pk}
