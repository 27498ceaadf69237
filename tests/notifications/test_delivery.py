"""Delivery through a real SMTP server: exactly once, late only while it makes sense,
retried through refusals and outages, shared safely between workers."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from icalendar import Calendar

from slotwise.bookings import services
from slotwise.bookings.models import CancelledBy
from slotwise.notifications import dispatch
from slotwise.notifications.models import Message, MessageKind, MessageStatus

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
TEN = datetime(2026, 6, 1, 9, tzinfo=UTC)  # Monday, 10:00 in London
ADA = services.Customer(name="Ada", email="ada@example.com", time_zone="Asia/Kathmandu")


@pytest.fixture
def service(make_org, make_resource, make_service):
    org = make_org(time_zone="Europe/London")
    make_resource(org, name="Ann")
    return make_service(org, name="Portrait session")


@pytest.fixture
def no_task_runner(settings):
    """Tasks are queued, not run as they are enqueued: the test runs the workers."""
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}


def calendar_of(received):
    [part] = [p for p in received.walk() if p.get_content_type() == "text/calendar"]
    return Calendar.from_ical(part.get_payload(decode=True))


@pytest.mark.django_db
def test_a_confirmation_reaches_the_smtp_server_once(service, smtp_server):
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    done = dispatch.deliver_due(NOW)
    assert (done.sent, done.retried) == (1, 0)
    [received] = smtp_server.inbox.received
    confirmation = Message.objects.get(kind=MessageKind.CONFIRMATION)
    assert received["Message-ID"] == confirmation.message_id
    assert received["To"] == "ada@example.com"
    # 09:00 UTC in Kathmandu, UTC+05:45.
    assert "14:45" in received.as_string()
    calendar = calendar_of(received)
    assert str(calendar["METHOD"]) == "REQUEST"
    [event] = calendar.walk("VEVENT")
    assert event.decoded("DTSTART") == TEN
    confirmation.refresh_from_db()
    assert (confirmation.status, confirmation.attempts) == (MessageStatus.SENT, 1)
    # Nothing else is due yet, and nothing is sent twice.
    assert dispatch.deliver_due(NOW).handled == 0
    assert len(smtp_server.inbox.received) == 1
    assert booking.messages.filter(status=MessageStatus.PENDING).count() == 2


@pytest.mark.django_db
def test_reminders_go_out_when_due_and_never_after_the_start(service, smtp_server):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    dispatch.deliver_due(NOW)
    assert dispatch.deliver_due(TEN - timedelta(days=1, seconds=1)).handled == 0
    assert dispatch.deliver_due(TEN - timedelta(days=1)).sent == 1
    # The worker was down past the 1-hour reminder's moment, and past the start.
    done = dispatch.deliver_due(TEN + timedelta(minutes=1))
    assert (done.sent, done.skipped) == (0, 1)
    assert len(smtp_server.inbox.received) == 2


@pytest.mark.django_db
def test_a_late_reminder_is_still_sent_before_the_start(service, smtp_server):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    done = dispatch.deliver_due(TEN - timedelta(minutes=30))
    assert done.sent == 3  # confirmation, and both reminders, late but useful


@pytest.mark.django_db
def test_a_rescheduled_booking_is_reminded_of_its_new_time_only(service, smtp_server):
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    later = TEN + timedelta(hours=4)
    services.reschedule(booking, start=later, now=NOW)
    dispatch.deliver_due(NOW)
    methods = [str(calendar_of(m)["METHOD"]) for m in smtp_server.inbox.received]
    assert methods == ["REQUEST", "REQUEST"]
    sequences = [
        int(calendar_of(m).walk("VEVENT")[0]["SEQUENCE"]) for m in smtp_server.inbox.received
    ]
    assert sequences[1] > sequences[0]
    done = dispatch.deliver_due(later - timedelta(hours=1))
    assert done.sent == 2  # the new start's two reminders; the old ones were skipped
    skipped = Message.objects.filter(kind=MessageKind.REMINDER, status=MessageStatus.SKIPPED)
    assert skipped.count() == 2


@pytest.mark.django_db
def test_a_cancellation_cancels_the_calendar_event(service, smtp_server):
    booking, _ = services.book(service, start=TEN, customer=ADA, now=NOW)
    services.cancel(booking, by=CancelledBy.CUSTOMER, now=NOW)
    dispatch.deliver_due(NOW)
    first, second = (calendar_of(m) for m in smtp_server.inbox.received)
    assert (str(first["METHOD"]), str(second["METHOD"])) == ("REQUEST", "CANCEL")
    assert first.walk("VEVENT")[0]["UID"] == second.walk("VEVENT")[0]["UID"]
    assert dispatch.deliver_due(TEN - timedelta(hours=1)).sent == 0


@pytest.mark.django_db
def test_a_refusing_server_gets_the_message_later_exactly_once(service, smtp_server):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    smtp_server.inbox.refuse = True
    assert dispatch.deliver_due(NOW).retried == 1
    message = Message.objects.get(kind=MessageKind.CONFIRMATION)
    assert message.status == MessageStatus.PENDING
    assert "451" in message.last_error
    assert timedelta(seconds=24) <= message.next_attempt_at - NOW <= timedelta(seconds=36)
    smtp_server.inbox.refuse = False
    assert dispatch.deliver_due(NOW + timedelta(seconds=10)).handled == 0  # not yet
    assert dispatch.deliver_due(NOW + timedelta(minutes=1)).sent == 1
    assert smtp_server.inbox.message_ids() == [message.message_id]


@pytest.mark.django_db
def test_a_server_down_for_a_while_loses_nothing(service, smtp_server):
    for hour in (0, 1, 4):
        services.book(service, start=TEN + timedelta(hours=hour), customer=ADA, now=NOW)
    smtp_server.stop()
    moment = NOW
    for _ in range(3):
        assert dispatch.deliver_due(moment).retried == 3
        moment += timedelta(minutes=10)
    smtp_server.start()
    assert dispatch.deliver_due(moment).sent == 3
    confirmations = Message.objects.filter(kind=MessageKind.CONFIRMATION)
    assert sorted(smtp_server.inbox.message_ids()) == sorted(m.message_id for m in confirmations)


@pytest.mark.django_db
def test_after_the_last_attempt_a_message_is_marked_failed(service, smtp_server):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    smtp_server.stop()
    moment = NOW
    for _ in range(dispatch.MAX_ATTEMPTS):
        dispatch.deliver_due(moment)
        moment += dispatch.LONGEST_RETRY * 2
    message = Message.objects.get(kind=MessageKind.CONFIRMATION)
    assert (message.status, message.attempts) == (MessageStatus.FAILED, dispatch.MAX_ATTEMPTS)
    assert dispatch.deliver_due(moment).handled == 0


@pytest.mark.django_db
def test_a_worker_that_dies_mid_batch_leaves_its_messages_to_the_next(service, smtp_server):
    services.book(service, start=TEN, customer=ADA, now=NOW)
    claimed = dispatch._claim(NOW, dispatch.BATCH)  # ... and the worker is killed here
    assert [m.kind for m in claimed] == [MessageKind.CONFIRMATION]
    assert dispatch.deliver_due(NOW + timedelta(minutes=1)).handled == 0  # still claimed
    assert dispatch.deliver_due(NOW + dispatch.LEASE).sent == 1
    assert len(smtp_server.inbox.received) == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_nothing_twice(service, smtp_server, no_task_runner):
    for day in range(10):
        for hour in (0, 1, 3, 4, 5, 6):
            start = TEN + timedelta(days=day, hours=hour)
            if start.weekday() < 5:
                services.book(service, start=start, customer=ADA, now=NOW)
    expected = Message.objects.filter(kind=MessageKind.CONFIRMATION).count()
    assert Message.objects.filter(status=MessageStatus.SENT).count() == 0
    errors = []

    def work():
        from django.db import connection

        try:
            while dispatch.deliver_due(NOW, batch=5).handled:
                pass
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    workers = [threading.Thread(target=work) for _ in range(2)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert errors == []
    ids = smtp_server.inbox.message_ids()
    assert len(ids) == len(set(ids)) == expected


KILLED_WORKER = """
import sys
import django
django.setup()
from slotwise.notifications.dispatch import deliver_due
print("started", flush=True)
deliver_due()
"""


@pytest.mark.django_db(transaction=True)
def test_a_worker_process_killed_mid_batch_loses_nothing(service, smtp_server, no_task_runner):
    import os
    import subprocess
    import sys
    import time

    from django.db import connection
    from django.utils import timezone

    for hour in (0, 1, 3, 4, 5, 6):
        services.book(service, start=TEN + timedelta(hours=hour), customer=ADA, now=NOW)
    expected = set(
        Message.objects.filter(kind=MessageKind.CONFIRMATION).values_list("message_id", flat=True)
    )
    assert smtp_server.inbox.received == []
    db = connection.settings_dict
    url = (
        f"sqlite:///{db['NAME']}"
        if connection.vendor == "sqlite"
        else f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLOTWISE_")}
    env.update(
        DJANGO_SETTINGS_MODULE="slotwise.settings",
        SLOTWISE_DATABASE_URL=url,
        SLOTWISE_SMTP_URL=f"smtp://127.0.0.1:{smtp_server.port}",
        SLOTWISE_CACHE_URL="locmem://",
        SLOTWISE_LOG_LEVEL="ERROR",
    )
    smtp_server.inbox.delay = 0.3
    worker = subprocess.Popen(
        [sys.executable, "-c", KILLED_WORKER], env=env, stdout=subprocess.PIPE, text=True
    )
    assert worker.stdout is not None
    assert worker.stdout.readline().strip() == "started"
    deadline = time.monotonic() + 30
    while len(smtp_server.inbox.received) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    worker.kill()
    worker.wait()
    worker.stdout.close()
    smtp_server.inbox.delay = 0
    delivered_before = len(set(smtp_server.inbox.message_ids()))
    assert 2 <= delivered_before < len(expected)
    # The next worker takes over once the dead one's claims run out.
    dispatch.deliver_due(timezone.now() + dispatch.LEASE)
    assert set(smtp_server.inbox.message_ids()) == expected
    assert not Message.objects.filter(
        kind=MessageKind.CONFIRMATION, status__in=[MessageStatus.PENDING, MessageStatus.SENDING]
    ).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("start", "customer_zone"),
    [
        # London springs forward at 01:00 UTC on Sunday 29 March 2026: for 10:00
        # BST on the Monday the day-before reminder falls at 10:00 BST on Sunday.
        (datetime(2026, 3, 30, 9, tzinfo=UTC), "Europe/London"),
        # London falls back at 01:00 UTC on Sunday 25 October 2026: for 10:00 GMT
        # on the Monday the day-before reminder falls at 10:00 GMT on Sunday.
        (datetime(2026, 10, 26, 10, tzinfo=UTC), "Europe/London"),
        # New York springs forward on 8 March 2026: a 10:00 London booking on
        # Monday 9 March is 06:00 EDT; the reminder falls at 05:00 EST on Sunday.
        (datetime(2026, 3, 9, 10, tzinfo=UTC), "America/New_York"),
    ],
    ids=["spring-forward", "fall-back", "customer-zone-springs-forward"],
)
def test_reminders_are_a_real_day_and_hour_ahead_across_a_clock_change(
    service, smtp_server, start, customer_zone
):
    customer = services.Customer(name="Ada", email="ada@example.com", time_zone=customer_zone)
    booked_at = start - timedelta(days=5)
    booking, _ = services.book(service, start=start, customer=customer, now=booked_at)
    dispatch.deliver_due(booked_at)  # the confirmation
    day, hour = start - timedelta(hours=24), start - timedelta(hours=1)
    for due in (day, hour):
        with time_machine.travel(due - timedelta(seconds=1), tick=False):
            assert dispatch.deliver_due().sent == 0
        with time_machine.travel(due, tick=False):
            assert dispatch.deliver_due().sent == 1
    sent = booking.messages.filter(kind=MessageKind.REMINDER, status=MessageStatus.SENT)
    assert sorted(sent.values_list("due_at", flat=True)) == [day, hour]
