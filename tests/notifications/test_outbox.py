"""The outbox: which messages a booking change writes, and when they fall due."""

from datetime import UTC, datetime, timedelta

import pytest

from slotwise.bookings import services
from slotwise.bookings.models import BookingStatus, CancelledBy
from slotwise.notifications.models import Message, MessageKind, MessageStatus

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
# Monday 1 June 2026, 10:00 in London (BST).
TEN = datetime(2026, 6, 1, 9, tzinfo=UTC)
ADA = services.Customer(name="Ada", email="ada@example.com", time_zone="Asia/Tokyo")


@pytest.fixture
def org(make_org):
    return make_org(time_zone="Europe/London")


@pytest.fixture
def service(org, make_resource, make_service):
    make_resource(org, name="Ann")
    return make_service(org)


def messages(booking):
    return sorted((m.kind, m.status, m.due_at) for m in Message.objects.filter(booking=booking))


def test_a_booking_is_confirmed_at_once_and_reminded_a_day_and_an_hour_ahead(service):
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    assert messages(booking) == sorted(
        [
            (MessageKind.CONFIRMATION, MessageStatus.PENDING, NOW),
            (MessageKind.REMINDER, MessageStatus.PENDING, TEN - timedelta(days=1)),
            (MessageKind.REMINDER, MessageStatus.PENDING, TEN - timedelta(hours=1)),
        ]
    )
    assert {m.recipient for m in Message.objects.all()} == {"ada@example.com"}


def test_a_booking_three_hours_ahead_gets_only_the_one_hour_reminder(service):
    now = TEN - timedelta(hours=3)
    booking, _ = services.book(service, start=TEN, customer=ADA, now=now)
    reminders = Message.objects.filter(booking=booking, kind=MessageKind.REMINDER)
    assert [m.due_at for m in reminders] == [TEN - timedelta(hours=1)]


def test_each_service_chooses_its_reminders(service):
    service.reminder_minutes = [2 * 24 * 60]
    service.save()
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    reminders = Message.objects.filter(booking=booking, kind=MessageKind.REMINDER)
    assert [m.context["minutes_before"] for m in reminders] == [2880]


def test_rescheduling_moves_the_reminders_and_tells_the_customer(service):
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    later = TEN + timedelta(hours=4)
    services.reschedule(booking, start=later, now=NOW + timedelta(minutes=5))
    rows = Message.objects.filter(booking=booking)
    pending_reminders = rows.filter(kind=MessageKind.REMINDER, status=MessageStatus.PENDING)
    assert sorted(m.due_at for m in pending_reminders) == [
        later - timedelta(days=1),
        later - timedelta(hours=1),
    ]
    assert rows.filter(kind=MessageKind.REMINDER, status=MessageStatus.SKIPPED).count() == 2
    [notice] = rows.filter(kind=MessageKind.RESCHEDULE)
    assert notice.context["old_start"] == TEN.isoformat()
    assert notice.context["sequence"] > rows.get(kind=MessageKind.CONFIRMATION).context["sequence"]


def test_cancelling_removes_the_reminders_and_tells_the_customer(service):
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    services.cancel(booking, by=CancelledBy.CUSTOMER, now=NOW, reason="Ill")
    rows = Message.objects.filter(booking=booking)
    assert not rows.filter(kind=MessageKind.REMINDER, status=MessageStatus.PENDING).exists()
    assert rows.get(kind=MessageKind.CANCELLATION).context["reason"] == "Ill"


def test_a_hold_given_up_sends_nothing(service):
    held, _ = services.book(service, start=TEN, customer=ADA, now=NOW, hold=True)
    services.cancel(held, by=CancelledBy.CUSTOMER, now=NOW)
    assert not Message.objects.filter(booking=held).exists()


def test_a_confirmed_hold_is_confirmed_and_reminded(service):
    held, _ = services.book(service, start=TEN, customer=ADA, now=NOW, hold=True)
    services.confirm_hold(held, now=NOW + timedelta(minutes=2))
    kinds = sorted(m.kind for m in Message.objects.filter(booking=held))
    assert kinds == [MessageKind.CONFIRMATION, MessageKind.REMINDER, MessageKind.REMINDER]


def test_a_booking_awaiting_approval_is_acknowledged_then_approved_and_reminded(service):
    service.requires_approval = True
    service.save()
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    assert [m.kind for m in Message.objects.filter(booking=booking)] == [
        MessageKind.REQUEST_RECEIVED
    ]
    services.approve(booking, now=NOW + timedelta(hours=1))
    kinds = sorted(m.kind for m in Message.objects.filter(booking=booking))
    assert kinds == sorted(
        [
            MessageKind.REQUEST_RECEIVED,
            MessageKind.APPROVED,
            MessageKind.REMINDER,
            MessageKind.REMINDER,
        ]
    )


def test_a_declined_request_is_told_so(service):
    service.requires_approval = True
    service.save()
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    services.reject(booking, now=NOW, reason="Fully booked that week")
    declined = Message.objects.get(booking=booking, kind=MessageKind.DECLINED)
    assert declined.context["reason"] == "Fully booked that week"


def test_a_refused_booking_writes_no_message(service, make_booking):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    with pytest.raises(services.SlotUnavailable):
        services.book(service, start=TEN, customer=ADA, now=NOW)
    assert Message.objects.filter(kind=MessageKind.CONFIRMATION).count() == 1


def test_completion_skips_what_is_left(service):
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    services.mark(booking, BookingStatus.NO_SHOW, now=TEN + timedelta(minutes=20))
    assert not Message.objects.filter(
        booking=booking, kind=MessageKind.REMINDER, status=MessageStatus.PENDING
    ).exists()
