"""What each notification email says, in the customer's zone, with a calendar file
that parses back and a link that opens the booking."""

# ruff: noqa: RUF001 (the en dash is the range sign the texts print)

import email
import email.policy
import re
from datetime import UTC, datetime
from html import unescape

import icalendar
import pytest
import time_machine
from django.core import mail
from django.utils import translation

from slotwise.bookings.models import BookingStatus, CancelledBy
from slotwise.bookings.services import hash_token
from slotwise.notifications.emails import build_email, calendar_uid
from slotwise.notifications.models import CUSTOMER_KINDS, Message, MessageKind

pytestmark = pytest.mark.django_db

START = datetime(2026, 6, 1, 9, tzinfo=UTC)  # 18:00 in Tokyo
CREATED = datetime(2026, 5, 1, 8, 15, tzinfo=UTC)
TOKYO = "Monday 1 June 2026, 18:00–19:00 (Asia/Tokyo, UTC+09:00)"
INVITES = (MessageKind.CONFIRMATION, MessageKind.APPROVED, MessageKind.RESCHEDULE)
WITHDRAWALS = (MessageKind.CANCELLATION, MessageKind.DECLINED)
NO_CALENDAR = (MessageKind.REMINDER, MessageKind.REQUEST_RECEIVED)


@pytest.fixture
def make_customer_booking(make_org, make_resource, make_service, make_booking):
    def make(*, zone="Asia/Tokyo", start=START, org_zone="Europe/London", **fields):
        org = make_org(name="Harbour & Pine", time_zone=org_zone, locale="en-GB")
        service = make_service(org, name="Portrait session")
        booking = make_booking(service, [make_resource(org)], start)
        booking.customer_name = "Ada Lovelace"
        booking.customer_email = "ada@example.com"
        booking.customer_time_zone = zone
        booking.manage_token_hash = hash_token(f"the-customers-own-manage-token-{booking.pk}")
        for name, value in fields.items():
            setattr(booking, name, value)
        booking.save()
        return booking

    return make


@pytest.fixture
def booking(make_customer_booking):
    return make_customer_booking()


def message(booking, kind, **context):
    return Message(
        organization_id=booking.organization_id,
        booking=booking,
        kind=kind,
        recipient=booking.customer_email,
        context=context,
        created_at=CREATED,
        due_at=CREATED,
        next_attempt_at=CREATED,
    )


def html_text(email_message):
    [(html, mimetype)] = email_message.alternatives
    assert mimetype == "text/html"
    return html


def calendar_of(email_message):
    """The parsed calendar file, from the message as it goes over the wire."""
    parsed = email.message_from_bytes(
        email_message.message().as_bytes(), policy=email.policy.default
    )
    parts = [part for part in parsed.walk() if part.get_content_type() == "text/calendar"]
    if not parts:
        return None, None
    [part] = parts
    return part, icalendar.Calendar.from_ical(part.get_content())


@pytest.mark.parametrize(
    ("kind", "subject"),
    [
        (MessageKind.CONFIRMATION, "Confirmed: Portrait session on Mon 1 Jun, 18:00 (Asia/Tokyo)"),
        (MessageKind.REQUEST_RECEIVED,
         "Request received: Portrait session on Mon 1 Jun, 18:00 (Asia/Tokyo)"),
        (MessageKind.APPROVED, "Approved: Portrait session on Mon 1 Jun, 18:00 (Asia/Tokyo)"),
        (MessageKind.DECLINED, "Declined: Portrait session on Mon 1 Jun, 18:00 (Asia/Tokyo)"),
        (MessageKind.REMINDER, "Reminder: Portrait session on Mon 1 Jun, 18:00 (Asia/Tokyo)"),
        (MessageKind.CANCELLATION, "Cancelled: Portrait session on Mon 1 Jun, 18:00 (Asia/Tokyo)"),
        (MessageKind.RESCHEDULE, "Moved: Portrait session, now on Mon 1 Jun, 18:00 (Asia/Tokyo)"),
    ],
)  # fmt: skip
def test_each_kind_has_its_subject_and_says_when_in_both_bodies(booking, kind, subject):
    built = build_email(message(booking, kind))

    assert built.subject == subject
    assert "Hello Ada Lovelace," in built.body
    label = {MessageKind.DECLINED: "Requested", MessageKind.CANCELLATION: "Was on"}
    assert f"\n{label.get(kind, 'When')}: {TOKYO}\n" in built.body
    assert "Portrait session" in built.body
    html = html_text(built)
    assert TOKYO in html
    assert "Harbour &amp; Pine" in html
    assert "Harbour & Pine" in built.body  # the text body is not HTML-escaped
    assert "&amp;" not in built.body


def test_the_headers_name_the_recipient_sender_and_a_stable_message_id(booking, settings):
    settings.DEFAULT_FROM_EMAIL = "Bookings <bookings@example.com>"
    saved = message(booking, MessageKind.CONFIRMATION)
    saved.save()
    first = build_email(saved)
    retry = build_email(Message.objects.get(pk=saved.pk))

    assert first.to == retry.to == ["ada@example.com"]
    assert first.from_email == "Bookings <bookings@example.com>"
    assert first.message()["Message-ID"] == saved.message_id
    assert retry.message()["Message-ID"] == saved.message_id


def test_building_sends_nothing(booking):
    build_email(message(booking, MessageKind.CONFIRMATION))
    assert mail.outbox == []


@pytest.mark.parametrize(
    ("zone", "expected"),
    [
        ("Asia/Kathmandu", "Monday 1 June 2026, 14:45–15:45 (Asia/Kathmandu, UTC+05:45)"),
        ("Asia/Kolkata", "Monday 1 June 2026, 14:30–15:30 (Asia/Kolkata, UTC+05:30)"),
        ("America/St_Johns", "Monday 1 June 2026, 06:30–07:30 (America/St_Johns, UTC-02:30)"),
        ("", "Monday 1 June 2026, 10:00–11:00 (Europe/London, UTC+01:00)"),  # the organization's
    ],
)
def test_times_are_in_the_customers_zone_with_its_offset(make_customer_booking, zone, expected):
    built = build_email(message(make_customer_booking(zone=zone), MessageKind.CONFIRMATION))

    assert expected in built.body
    assert expected in html_text(built)
    assert built.subject.endswith(f"({expected.split('(')[1].split(',')[0]})")


def test_a_reschedule_across_the_clock_change_gives_each_time_its_own_offset(
    make_customer_booking,
):
    # Moved from the Saturday before the clocks go back to the Monday after.
    moved = make_customer_booking(
        zone="Europe/London", start=datetime(2026, 10, 26, 10, tzinfo=UTC)
    )
    built = build_email(
        message(moved, MessageKind.RESCHEDULE, old_start="2026-10-24T09:00:00+00:00", sequence=2)
    )

    assert built.subject == "Moved: Portrait session, now on Mon 26 Oct, 10:00 (Europe/London)"
    assert "When: Monday 26 October 2026, 10:00–11:00 (Europe/London, UTC+00:00)" in built.body
    assert "Previously: Saturday 24 October 2026, 10:00 (Europe/London, UTC+01:00)" in built.body
    assert "Saturday 24 October 2026, 10:00 (Europe/London, UTC+01:00)" in html_text(built)
    _, calendar = calendar_of(built)
    [event] = calendar.events
    assert event.decoded("dtstart") == datetime(2026, 10, 26, 10, tzinfo=UTC)
    assert event["sequence"] == 2


def test_a_booking_the_clocks_change_during_names_both_offsets(make_customer_booking):
    overnight = make_customer_booking(
        zone="Europe/London", start=datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    )
    built = build_email(message(overnight, MessageKind.CONFIRMATION))

    expected = "Sunday 25 October 2026, 01:30 UTC+01:00 – 01:30 UTC+00:00 (Europe/London)"
    assert expected in built.body
    assert expected in unescape(html_text(built))


@pytest.mark.parametrize("kind", [k for k in CUSTOMER_KINDS if k not in WITHDRAWALS])
def test_the_link_opens_the_booking(booking, client, kind):
    built = build_email(message(booking, kind))

    [url] = set(re.findall(r"https?://\S+", built.body))
    assert url.startswith("http://127.0.0.1:8000/manage/m")
    assert f'href="{url}"' in html_text(built)
    with time_machine.travel(datetime(2026, 5, 1, 12, tzinfo=UTC), tick=False):
        page = client.get(url.removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200
    assert "Portrait session" in page.text
    assert TOKYO in page.text
    assert "Cancel booking" in page.text


@pytest.mark.parametrize("kind", WITHDRAWALS)
def test_a_cancelled_or_declined_booking_has_no_link_and_says_so(booking, kind):
    built = build_email(message(booking, kind, reason="The studio is flooded."))

    assert "/manage/" not in built.body
    assert "/manage/" not in html_text(built)
    assert "There is nothing left to manage for this booking." in built.body
    assert "Reason: The studio is flooded." in built.body
    assert "The studio is flooded." in html_text(built)


def test_a_cancellation_says_who_cancelled(make_customer_booking):
    by_customer = make_customer_booking(
        status=BookingStatus.CANCELLED, cancelled_by=CancelledBy.CUSTOMER
    )
    by_staff = make_customer_booking(status=BookingStatus.CANCELLED, cancelled_by=CancelledBy.STAFF)

    mine = build_email(message(by_customer, MessageKind.CANCELLATION)).body
    theirs = build_email(message(by_staff, MessageKind.CANCELLATION)).body

    assert "is cancelled, as you asked." in mine
    assert "Harbour & Pine has cancelled your booking of Portrait session." in theirs


@pytest.mark.parametrize(
    ("minutes", "says"),
    [(1440, "starts in 1 day."), (120, "starts in 2 hours."), (90, "starts in 90 minutes."),
     (None, "is coming up.")],
)  # fmt: skip
def test_a_reminder_says_how_soon(booking, minutes, says):
    context = {} if minutes is None else {"minutes_before": minutes}
    built = build_email(message(booking, MessageKind.REMINDER, **context))

    assert f"A reminder: your booking of Portrait session with Harbour & Pine {says}" in built.body


def test_what_the_customer_typed_is_escaped_in_html(make_customer_booking):
    booking = make_customer_booking(customer_name="<script>alert(1)</script>")
    built = build_email(message(booking, MessageKind.DECLINED, reason="<b>no</b>"))

    assert "<script>" not in html_text(built)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_text(built)
    assert "&lt;b&gt;no&lt;/b&gt;" in html_text(built)
    assert "Reason: <b>no</b>" in built.body


def test_the_organizations_language_is_used_and_the_callers_kept(booking):
    with translation.override("fr"):
        build_email(message(booking, MessageKind.CONFIRMATION))
        assert translation.get_language() == "fr"
    assert 'lang="en-gb"' in html_text(build_email(message(booking, MessageKind.CONFIRMATION)))


# The calendar file


@pytest.mark.parametrize(
    ("kind", "method", "status"),
    [
        (MessageKind.CONFIRMATION, "REQUEST", "CONFIRMED"),
        (MessageKind.APPROVED, "REQUEST", "CONFIRMED"),
        (MessageKind.RESCHEDULE, "REQUEST", "CONFIRMED"),
        (MessageKind.CANCELLATION, "CANCEL", "CANCELLED"),
        (MessageKind.DECLINED, "CANCEL", "CANCELLED"),
    ],
)
def test_the_calendar_file_invites_or_withdraws(booking, settings, kind, method, status):
    settings.DEFAULT_FROM_EMAIL = "Bookings <bookings@example.com>"
    built = build_email(message(booking, kind, sequence=4))

    part, calendar = calendar_of(built)
    assert part.get_filename() == "booking.ics"
    assert part.get_content_disposition() == "attachment"
    assert part.get_param("method") == method
    assert part.get_content_charset() == "utf-8"
    assert calendar["method"] == method
    [event] = calendar.events
    assert str(event["uid"]) == f"booking-{booking.pk}@{booking.organization.slug}.slotwise"
    assert event["sequence"] == 4
    assert event["status"] == status
    assert event.decoded("dtstart") == START
    assert event.decoded("dtstart").utcoffset().total_seconds() == 0
    assert event.decoded("dtend") == datetime(2026, 6, 1, 10, tzinfo=UTC)
    assert event.decoded("dtstamp") == CREATED
    assert "dtstart:20260601t090000z" in event.to_ical().decode().lower()
    assert str(event["summary"]) == "Portrait session with Harbour & Pine"
    assert str(event["organizer"]) == "mailto:bookings@example.com"
    assert event["organizer"].params["CN"] == "Harbour & Pine"
    assert str(event["attendee"]) == "mailto:ada@example.com"
    assert event["attendee"].params["CN"] == "Ada Lovelace"


@pytest.mark.parametrize("kind", NO_CALENDAR)
def test_a_reminder_or_a_request_carries_no_calendar_file(booking, kind):
    built = build_email(message(booking, kind))

    assert built.attachments == []
    assert calendar_of(built) == (None, None)


def test_one_booking_is_one_calendar_event_in_every_message(booking, make_customer_booking):
    uids = set()
    for kind in (*INVITES, *WITHDRAWALS):
        _, calendar = calendar_of(build_email(message(booking, kind)))
        uids.add(str(calendar.events[0]["uid"]))
    other = make_customer_booking()

    assert uids == {calendar_uid(booking)}
    assert calendar_uid(other) != calendar_uid(booking)


def test_the_sequence_defaults_to_zero(booking):
    _, calendar = calendar_of(build_email(message(booking, MessageKind.CONFIRMATION)))
    assert calendar.events[0]["sequence"] == 0
