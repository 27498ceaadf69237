"""Broadcast waitlists end to end: a freed slot is offered to everyone it suits at once,
nothing is held, the first claim books it and the others hear it is gone."""

from datetime import timedelta

import pytest

from slotwise.bookings.models import Booking
from slotwise.waitlist import tasks
from tests.waitlist.conftest import (
    ELEVEN,
    TEN,
    book,
    cancel,
    claim,
    entry,
    free_starts,
    join,
    link,
    mails,
    offer_token,
    offers_to,
    text,
    utc,
)

pytestmark = pytest.mark.django_db(transaction=True)

WHOLE_MONDAY = {"first_day": "2026-06-01", "last_day": "2026-06-01"}


@pytest.fixture(autouse=True)
def _stopped(clock):
    return clock


@pytest.fixture
def service(org, make_service):
    return make_service(org, name="Portrait session", waitlist_mode="broadcast")


@pytest.fixture
def taken(client, service):
    """Ada's booking of Monday 10:00 and Abe's of 11:00."""
    return book(client, service, TEN, "Ada"), book(client, service, ELEVEN, "Abe")


def test_everyone_the_slot_suits_is_offered_it_and_the_first_claim_books_it(
    client, service, taken, inbox
):
    bob = join(client, service, "Bob", slot_start=TEN)
    cy = join(client, service, "Cy", window=WHOLE_MONDAY | {"earliest": "10:00", "latest": "10:30"})
    join(client, service, "Dee", slot_start=ELEVEN)
    # Kei waits for the same morning, seen from Tokyo: 10:00 in London is 18:00 there.
    join(client, service, "Kei", window=WHOLE_MONDAY | {"earliest": "18:00", "latest": "18:30"},
         zone="Asia/Tokyo")  # fmt: skip
    assert inbox.received
    assert not any("claim it" in m["Subject"] for m in inbox.received)

    cancel(client, taken[0])

    offered = {name: offers_to(inbox, name) for name in ("Bob", "Cy", "Dee", "Kei")}
    assert [len(offered[name]) for name in offered] == [1, 1, 0, 1]
    assert "the first to claim it gets it" in text(offered["Bob"][0])
    assert len({link(mail[0]) for mail in offered.values() if mail}) == 3  # one each
    assert utc(TEN) in free_starts(client, service)  # nothing is held

    first = claim(client, offer_token(offered["Cy"][0]))
    assert first.status_code == 201, first.content
    assert first.json()["status"] == "confirmed"
    assert len(mails(inbox, "Cy", "Confirmed:")) == 1

    second = claim(client, offer_token(offered["Bob"][0]))
    assert second.status_code == 410
    assert second.json()["offer_status"] == "gone"
    for name in ("Bob", "Kei"):
        [taken_mail] = mails(inbox, name, "was taken")
        assert "You are still on the waitlist." in text(taken_mail)
    assert mails(inbox, "Cy", "was taken") == []
    assert (entry(client, bob)["status"], entry(client, cy)["status"]) == ("waiting", "booked")
    assert Booking.objects.filter(starts_at=TEN, status="confirmed").count() == 1
    assert utc(TEN) not in free_starts(client, service)


def test_the_public_may_book_the_slot_meanwhile_and_the_claims_then_find_it_gone(
    client, service, taken, inbox
):
    bob = join(client, service, "Bob", slot_start=TEN)
    join(client, service, "Cy", slot_start=TEN)
    cancel(client, taken[0])
    [to_bob], [to_cy] = offers_to(inbox, "Bob"), offers_to(inbox, "Cy")

    assert book(client, service, TEN, "Eve")["status"] == "confirmed"

    gone = claim(client, offer_token(to_bob))
    assert (gone.status_code, gone.json()["offer_status"]) == (410, "gone")
    assert client.get(f"/api/v1/waitlist/offers/{offer_token(to_bob)}").json()["status"] == "gone"
    assert entry(client, bob)["offer"] is None
    assert len(mails(inbox, "Bob", "was taken")) == 1
    assert claim(client, offer_token(to_bob)).json()["offer_status"] == "gone"
    assert claim(client, offer_token(to_cy)).json()["offer_status"] == "gone"
    assert Booking.objects.filter(starts_at=TEN).exclude(status="cancelled").count() == 1


def test_offers_not_claimed_lapse_at_their_end_holding_nothing(
    client, clock, service, taken, inbox
):
    bob = join(client, service, "Bob", slot_start=TEN)
    join(client, service, "Cy", slot_start=TEN)
    cancel(client, taken[0])
    [to_bob] = offers_to(inbox, "Bob")
    assert entry(client, bob)["offer"]["expires_at"] == "2026-05-01T12:30:00Z"

    clock.shift(timedelta(minutes=30))
    tasks.sweep.call()

    lapsed = claim(client, offer_token(to_bob))
    assert (lapsed.status_code, lapsed.json()["offer_status"]) == (410, "expired")
    assert (entry(client, bob)["status"], entry(client, bob)["offer"]) == ("waiting", None)
    assert len(offers_to(inbox, "Bob")) == 1  # not offered the same slot again
    assert mails(inbox, "Bob", "was taken") == []
    assert utc(TEN) in free_starts(client, service)
    assert book(client, service, TEN, "Eve")["status"] == "confirmed"


def test_a_later_slot_is_offered_to_those_who_let_an_earlier_one_go(
    client, clock, service, taken, inbox
):
    join(client, service, "Bob", window=WHOLE_MONDAY | {"earliest": "10:00", "latest": "11:00"})
    cancel(client, taken[0])
    clock.shift(timedelta(minutes=30))
    tasks.sweep.call()

    cancel(client, taken[1])

    first, second = offers_to(inbox, "Bob")
    assert claim(client, offer_token(first)).json()["offer_status"] == "expired"
    assert claim(client, offer_token(second)).json()["start_utc"] == utc(ELEVEN)
