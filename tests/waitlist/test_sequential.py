"""Sequential waitlists end to end: a freed slot is held for one waiting customer at a
time, offered by email, claimed once, passed on when not claimed, and everyone's
again when no one is left."""

from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from slotwise.bookings import services as bookings
from slotwise.bookings.models import Booking, CancelledBy
from slotwise.notifications import dispatch
from slotwise.notifications.models import Message, MessageKind, MessageStatus
from slotwise.waitlist import tasks
from slotwise.waitlist.models import WaitlistEntry
from slotwise.waitlist.services import offer_until
from tests.waitlist.conftest import (
    ELEVEN,
    TEN,
    book,
    cancel,
    claim,
    csrf_post,
    entry,
    free_starts,
    join,
    link,
    mails,
    offer_token,
    offers_to,
    post,
    subject,
    text,
    try_booking,
    utc,
)

# Real commits: offers are made after the change that frees a slot commits.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _stopped(clock):
    return clock


@pytest.fixture
def taken(client, service):
    """Ada's booking of Monday 10:00, which the waitlist wants."""
    return book(client, service, TEN, "Ada")


def test_a_cancellation_offers_the_slot_to_the_first_in_line_whose_link_claims_it_once(
    client, service, taken, inbox
):
    bob = join(client, service, "Bob", slot_start=TEN)
    cy = join(client, service, "Cy", slot_start=TEN)
    assert (bob["offer"], cy["offer"]) == (None, None)

    cancel(client, taken)

    [offer] = offers_to(inbox, "Bob")
    assert offers_to(inbox, "Cy") == []
    assert "10:00" in text(offer)  # Bob's time, in London
    assert "kept for you until" in text(offer)
    held = entry(client, bob)["offer"]
    assert (held["status"], held["mode"], held["start_utc"]) == ("open", "sequential", utc(TEN))
    assert held["expires_at"] == "2026-05-01T12:30:00Z"
    assert entry(client, cy)["offer"] is None

    # The browser of the email: the page, then its button.
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(link(offer))
    assert page.status_code == 200
    assert "Claim this slot" in page.content.decode()
    claimed = csrf_post(browser, link(offer))
    assert claimed.status_code == 200, claimed.content
    assert "It is booked" in claimed.content.decode()

    [confirmation] = mails(inbox, "Bob", "Confirmed:")
    assert "Portrait session" in subject(confirmation)
    booking = Booking.objects.get(customer_email="bob@example.com")
    assert (booking.status, booking.starts_at) == ("confirmed", TEN)
    assert entry(client, bob)["status"] == "booked"

    again = claim(client, offer_token(offer))
    assert again.status_code == 410
    assert again.json()["type"] == "urn:slotwise:problem:offer-closed"
    assert again.json()["offer_status"] == "claimed"
    revisited = browser.get(link(offer)).content.decode()
    assert "Claim this slot" not in revisited
    assert "See your booking" in revisited
    # Cy waits on, and is not offered the slot Bob took.
    assert entry(client, cy)["status"] == "waiting"
    assert offers_to(inbox, "Cy") == []


def test_the_api_claims_an_offer_and_answers_the_booking(client, service, taken, inbox):
    join(client, service, "Bob", slot_start=TEN)
    cancel(client, taken)
    [offer] = offers_to(inbox, "Bob")

    read = client.get(f"/api/v1/waitlist/offers/{offer_token(offer)}")
    assert read.status_code == 200
    assert read.json()["start"] == "2026-06-01T10:00:00+01:00"
    claimed = claim(client, offer_token(offer))

    assert claimed.status_code == 201, claimed.content
    body = claimed.json()
    assert (body["status"], body["start_utc"]) == ("confirmed", utc(TEN))
    manage = client.get(f"/api/v1/bookings/manage/{body['manage_token']}")
    assert manage.json()["customer"]["email"] == "bob@example.com"
    assert len(mails(inbox, "Bob", "Confirmed:")) == 1
    assert claim(client, offer_token(offer)).json()["offer_status"] == "claimed"


def test_while_the_slot_is_offered_the_public_can_neither_see_nor_book_it(
    client, service, taken, inbox
):
    join(client, service, "Bob", slot_start=TEN)
    assert utc(TEN) not in free_starts(client, service)
    cancel(client, taken)
    assert offers_to(inbox, "Bob")

    refused = try_booking(client, service, TEN, "Eve")

    assert refused.status_code == 409
    assert refused.json()["type"] == "urn:slotwise:problem:slot-unavailable"
    starts = free_starts(client, service)
    assert utc(TEN) not in starts
    assert utc(ELEVEN) in starts


def test_priority_goes_first_then_who_joined_first(client, clock, service, taken, inbox):
    join(client, service, "Bob", slot_start=TEN)
    clock.shift(60)
    join(client, service, "Cy", slot_start=TEN)
    clock.shift(60)
    dee = join(client, service, "Dee", slot_start=TEN)
    WaitlistEntry.objects.filter(pk=dee["id"]).update(priority=5)

    cancel(client, taken)

    assert [m["To"] for m in inbox.received if "claim it" in subject(m)] == ["dee@example.com"]


def test_an_offer_not_claimed_lapses_to_the_next_and_then_the_slot_is_everyones(
    client, clock, service, taken, inbox
):
    bob = join(client, service, "Bob", slot_start=TEN)
    cy = join(client, service, "Cy", slot_start=TEN)
    cancel(client, taken)
    [to_bob] = offers_to(inbox, "Bob")

    clock.shift(timedelta(minutes=29))
    tasks.sweep.call()
    assert offers_to(inbox, "Cy") == []  # not yet
    clock.shift(timedelta(minutes=1))
    tasks.sweep.call()

    [to_cy] = offers_to(inbox, "Cy")
    lapsed = claim(client, offer_token(to_bob))
    assert (lapsed.status_code, lapsed.json()["offer_status"]) == (410, "expired")
    assert entry(client, bob)["status"] == "waiting"  # for other slots, not this one
    assert utc(TEN) not in free_starts(client, service)

    clock.shift(timedelta(minutes=30))
    tasks.sweep.call()

    assert claim(client, offer_token(to_cy)).json()["offer_status"] == "expired"
    assert len(offers_to(inbox, "Bob")) == 1  # never offered the same slot twice
    assert (entry(client, bob)["offer"], entry(client, cy)["offer"]) == (None, None)
    assert utc(TEN) in free_starts(client, service)
    assert book(client, service, TEN, "Eve")["status"] == "confirmed"


def test_a_claim_after_the_offer_ended_is_refused_even_before_the_sweep(
    client, clock, service, taken, inbox
):
    join(client, service, "Bob", slot_start=TEN)
    cancel(client, taken)
    [to_bob] = offers_to(inbox, "Bob")
    clock.shift(timedelta(minutes=30))

    late = claim(client, offer_token(to_bob))

    assert (late.status_code, late.json()["offer_status"]) == (410, "expired")
    page = Client().get(link(to_bob)).content.decode()
    assert "This offer has ended" in page
    assert "Claim this slot" not in page
    assert not Booking.objects.filter(customer_email="bob@example.com", status="confirmed")


def test_a_lapsed_hold_is_let_go_by_the_next_booking_even_before_the_sweep(
    client, clock, service, taken, inbox
):
    bob = join(client, service, "Bob", slot_start=TEN)
    cancel(client, taken)
    [to_bob] = offers_to(inbox, "Bob")
    clock.shift(timedelta(minutes=31))

    assert book(client, service, TEN, "Eve")["status"] == "confirmed"

    assert entry(client, bob)["offer"] is None
    assert claim(client, offer_token(to_bob)).json()["offer_status"] == "expired"


def test_an_offer_email_not_sent_before_the_offer_ended_is_not_sent_late(
    client, clock, service, taken, inbox
):
    join(client, service, "Bob", slot_start=TEN)
    inbox.refuse = True
    cancel(client, taken)
    assert offers_to(inbox, "Bob") == []
    inbox.refuse = False

    clock.shift(timedelta(minutes=31))
    tasks.sweep.call()
    done = dispatch.deliver_due()

    assert done.skipped == 1
    assert offers_to(inbox, "Bob") == []
    offer = Message.objects.get(kind=MessageKind.WAITLIST_OFFER)
    assert (offer.status, offer.last_error) == (MessageStatus.SKIPPED, "The offer has ended.")


@pytest.mark.parametrize(
    ("before_start", "offered_for"),
    [
        (timedelta(days=30), timedelta(minutes=30)),
        (timedelta(hours=2), timedelta(minutes=30)),  # a third: 40 minutes
        (timedelta(hours=1), timedelta(minutes=20)),
        (timedelta(minutes=15), timedelta(minutes=5)),
        (timedelta(minutes=14), None),
        (timedelta(0), None),
    ],
)
def test_an_offer_lasts_a_third_of_the_time_left_and_none_under_five_minutes(
    service, before_start, offered_for
):
    now = TEN - before_start
    ends = offer_until(service, TEN, now)
    assert (ends - now if ends else None) == offered_for


def test_a_slot_an_hour_away_is_offered_for_twenty_minutes(client, clock, service, inbox):
    clock.move_to(datetime(2026, 6, 1, 8, tzinfo=UTC))  # 09:00 in London
    ada = book(client, service, TEN, "Ada")
    bob = join(client, service, "Bob", slot_start=TEN)

    cancel(client, ada)

    offer = entry(client, bob)["offer"]
    assert offer["expires_at"] == "2026-06-01T08:20:00Z"
    assert "until Monday 1 June 2026, 09:20 (Europe/London" in text(offers_to(inbox, "Bob")[0])


def test_a_slot_too_close_to_offer_is_left_to_the_public(client, clock, service, inbox):
    clock.move_to(TEN - timedelta(minutes=12))
    ada = book(client, service, TEN, "Ada")
    bob = join(client, service, "Bob", slot_start=TEN)

    cancel(client, ada)
    tasks.sweep.call()

    assert entry(client, bob)["offer"] is None
    assert offers_to(inbox, "Bob") == []
    assert book(client, service, TEN, "Eve")["status"] == "confirmed"


def test_leaving_while_holding_an_offer_passes_the_slot_to_the_next(client, service, taken, inbox):
    bob = join(client, service, "Bob", slot_start=TEN)
    join(client, service, "Cy", slot_start=TEN)
    cancel(client, taken)
    [to_bob] = offers_to(inbox, "Bob")

    left = post(client, f"/api/v1/waitlist/{bob['token']}/leave")

    assert left.status_code == 200
    assert (left.json()["status"], left.json()["offer"]) == ("left", None)
    [to_cy] = offers_to(inbox, "Cy")
    withdrawn = claim(client, offer_token(to_bob))
    assert (withdrawn.status_code, withdrawn.json()["offer_status"]) == (410, "withdrawn")
    assert claim(client, offer_token(to_cy)).status_code == 201


def test_a_booking_moved_away_frees_its_old_slot_to_the_waitlist(client, service, taken, inbox):
    join(client, service, "Bob", slot_start=TEN)

    moved = post(
        client,
        f"/api/v1/bookings/manage/{taken['manage_token']}/reschedule",
        {"start": ELEVEN.isoformat()},
    )

    assert moved.status_code == 200, moved.content
    [offer] = offers_to(inbox, "Bob")
    assert claim(client, offer_token(offer)).json()["start_utc"] == utc(TEN)


def test_joining_when_a_matching_slot_is_free_offers_it_at_once(client, service, inbox):
    bob = join(client, service, "Bob", slot_start=TEN)

    assert entry(client, bob)["offer"]["start_utc"] == utc(TEN)
    assert len(offers_to(inbox, "Bob")) == 1
    assert len(mails(inbox, "Bob", "You are on the waitlist")) == 1


def test_a_freed_slot_goes_to_the_first_entry_it_suits_not_the_first_in_line(
    client, service, inbox
):
    book(client, service, TEN, "Ada")
    abe = book(client, service, ELEVEN, "Abe")
    join(client, service, "Bob", slot_start=TEN)
    join(client, service, "Cy", slot_start=ELEVEN)

    cancel(client, abe)

    assert offers_to(inbox, "Bob") == []
    [to_cy] = offers_to(inbox, "Cy")
    assert claim(client, offer_token(to_cy)).json()["start_utc"] == utc(ELEVEN)


def test_a_paid_slot_offered_is_held_while_the_claimant_pays(
    client, make_org, make_resource, make_service, make_booking, localstripe, inbox
):
    org = make_org(payment_provider="stripe", currency="EUR")
    ann = make_resource(org, name="Ann")
    paid = make_service(org, name="Portrait session", price_minor=5000, payment_mode="full")
    ada = make_booking(paid, [ann], TEN)
    join(client, paid, "Bob", slot_start=TEN)

    bookings.cancel(ada, by=CancelledBy.CUSTOMER, now=timezone.now())

    [offer] = offers_to(inbox, "Bob")
    claimed = claim(client, offer_token(offer))
    assert claimed.status_code == 201, claimed.content
    answer = claimed.json()
    assert (answer["status"], answer["payment"]["due_minor"]) == ("held", 5000)
    assert try_booking(client, paid, TEN, "Eve").status_code == 409
    localstripe.pay(answer["payment"]["checkout"]["reference"], "4242424242424242")
    confirmed = post(client, f"/api/v1/bookings/manage/{answer['manage_token']}/confirm")
    assert confirmed.status_code == 200, confirmed.content
    assert confirmed.json()["status"] == "confirmed"
    assert len(mails(inbox, "Bob", "Confirmed:")) == 1
