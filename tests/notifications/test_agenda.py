"""Each morning, members who asked get the day's bookings of their resources."""

from datetime import UTC, datetime, timedelta

import pytest

from slotwise.accounts.models import Membership
from slotwise.accounts.permissions import Role
from slotwise.bookings import services
from slotwise.notifications import dispatch
from slotwise.notifications.agenda import plan_agendas
from slotwise.notifications.models import Message, MessageKind, MessageStatus

pytestmark = pytest.mark.django_db

BOOKED_AT = datetime(2026, 5, 1, 12, tzinfo=UTC)
# Monday 1 June 2026 in New York (EDT, UTC-4): 07:00 local is 11:00 UTC.
MORNING = datetime(2026, 6, 1, 11, tzinfo=UTC)
ADA = services.Customer(
    name="Ada", email="ada@example.com", phone="+15551234567", time_zone="America/New_York"
)


@pytest.fixture
def ann(make_org, make_member, make_resource, make_service):
    org = make_org(time_zone="Europe/London")
    user = make_member(org, Role.STAFF, email="ann@example.com")
    Membership.objects.filter(user=user).update(daily_agenda=True)
    resource = make_resource(org, name="Ann", user=user, time_zone="America/New_York")
    service = make_service(org, name="Portrait session", needs=[("person", [resource])])
    for hour in (14, 17):  # 10:00 and 13:00 in New York
        start = datetime(2026, 6, 1, hour, tzinfo=UTC)
        services.book(service, start=start, customer=ADA, now=BOOKED_AT)
    # The next day's booking is not on this agenda.
    services.book(service, start=datetime(2026, 6, 2, 14, tzinfo=UTC), customer=ADA, now=BOOKED_AT)
    return user


def test_the_agenda_goes_out_once_in_the_members_morning(ann, smtp_server):
    assert plan_agendas(MORNING - timedelta(seconds=1)) == 0  # 06:59 in New York
    assert plan_agendas(MORNING) == 1
    assert plan_agendas(MORNING + timedelta(hours=3)) == 0  # once a day
    dispatch.deliver_due(MORNING)
    [agenda] = [
        m
        for m in smtp_server.inbox.received
        if m["To"] == "ann@example.com" and "Your bookings" in m["Subject"]
    ]
    assert agenda["Subject"] == "Your bookings on Mon 1 Jun (America/New_York): 2"
    body = agenda.get_payload()[0].get_payload(decode=True).decode()
    assert body.index("10:00") < body.index("13:00")
    assert "Portrait session, Ada (+15551234567)" in body
    assert "Tuesday" not in body
    # The next morning brings the next day's agenda.
    assert plan_agendas(MORNING + timedelta(days=1)) == 1


def test_a_day_with_nothing_booked_sends_nothing(ann, smtp_server):
    quiet = MORNING + timedelta(days=2)  # Wednesday 3 June
    assert plan_agendas(quiet) == 1
    dispatch.deliver_due(quiet)
    agenda = Message.objects.get(kind=MessageKind.AGENDA)
    assert (agenda.status, agenda.last_error) == (
        MessageStatus.SKIPPED,
        "Nothing is booked that day.",
    )
    assert not [m for m in smtp_server.inbox.received if "Your bookings" in m["Subject"]]


def test_only_members_who_asked_get_an_agenda(ann):
    Membership.objects.filter(user=ann).update(daily_agenda=False)
    assert plan_agendas(MORNING) == 0
