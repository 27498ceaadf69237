"""The waitlist under concurrency: claims racing public bookings and each other,
backfills running at once. Real threads, real commits, on the database the tests
run on; whatever the order, a slot is booked once and an entry holds one offer."""

import logging
import threading
from datetime import timedelta

import pytest
from django.db import IntegrityError, connections, transaction
from django.test import Client

from slotwise.bookings.models import Booking
from slotwise.waitlist import services as waitlist
from slotwise.waitlist import tasks
from slotwise.waitlist.models import Offer, WaitlistEntry
from tests.waitlist.conftest import (
    ELEVEN,
    TEN,
    book,
    cancel,
    claim,
    join,
    mails,
    offer_token,
    offers_to,
    post,
    try_booking,
)

pytestmark = pytest.mark.django_db(transaction=True)

MORNING = {"first_day": "2026-06-01", "last_day": "2026-06-01", "earliest": "10:00",
           "latest": "11:30"}  # fmt: skip
"""Monday 10:00 and 11:00 in London."""


@pytest.fixture(autouse=True)
def _setting(clock, settings, caplog):
    # Every customer here comes from 127.0.0.1: the limits are not what is tested.
    settings.SLOTWISE_RATE_LIMITS = None
    caplog.set_level(logging.ERROR)


@pytest.fixture
def no_errors(caplog):
    """Fails if anything, a task after commit included, logged an error."""
    yield
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []


def together(*actions):
    """Run ``actions`` in threads released at the same moment; their results, in order."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(n, action):
        try:
            barrier.wait()
            results[n] = action()
        except Exception as error:
            results[n] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(n, a)) for n, a in enumerate(actions)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def open_offers():
    return list(Offer.objects.filter(status="open").select_related("entry", "hold"))


def kept(start):
    return Booking.objects.filter(starts_at=start).exclude(status="cancelled")


@pytest.mark.usefixtures("no_errors")
def test_a_public_booker_and_two_claimants_racing_for_a_broadcast_slot_book_it_once(
    client, service, inbox
):
    service.waitlist_mode = "broadcast"
    service.save()
    ada = book(client, service, TEN, "Ada")
    join(client, service, "Bob", slot_start=TEN)
    join(client, service, "Cy", slot_start=TEN)
    cancel(client, ada)
    tokens = [offer_token(offers_to(inbox, name)[0]) for name in ("Bob", "Cy")]

    answers = together(
        lambda: try_booking(Client(), service, TEN, "Eve"),
        lambda: claim(Client(), tokens[0]),
        lambda: claim(Client(), tokens[1]),
    )

    statuses = [answer.status_code for answer in answers]
    assert statuses.count(201) == 1, statuses
    assert statuses[0] in (201, 409), statuses
    assert set(statuses[1:]) <= {201, 410}, statuses
    [booking] = kept(TEN)
    assert booking.status == "confirmed"
    assert open_offers() == []
    winner = ["eve", "bob", "cy"][statuses.index(201)]
    assert booking.customer_email == f"{winner}@example.com"


@pytest.mark.usefixtures("no_errors")
def test_two_claims_of_one_offer_at_once_book_once(client, service, inbox):
    ada = book(client, service, TEN, "Ada")
    join(client, service, "Bob", slot_start=TEN)
    cancel(client, ada)
    token = offer_token(offers_to(inbox, "Bob")[0])

    answers = together(lambda: claim(Client(), token), lambda: claim(Client(), token))

    assert sorted(a.status_code for a in answers) == [201, 410]
    assert [a.json()["offer_status"] for a in answers if a.status_code == 410] == ["claimed"]
    assert [b.customer_email for b in kept(TEN)] == ["bob@example.com"]
    assert len(mails(inbox, "Bob", "Confirmed:")) == 1


@pytest.mark.usefixtures("no_errors")
def test_leaving_while_claiming_ends_either_booked_or_left_never_both(client, service, inbox):
    ada = book(client, service, TEN, "Ada")
    bob = join(client, service, "Bob", slot_start=TEN)
    join(client, service, "Cy", slot_start=TEN)
    cancel(client, ada)
    token = offer_token(offers_to(inbox, "Bob")[0])

    claimed, left = together(
        lambda: claim(Client(), token),
        lambda: post(Client(), f"/api/v1/waitlist/{bob['token']}/leave"),
    )

    assert left.status_code == 200, left.content
    if claimed.status_code == 201:
        assert left.json()["status"] == "booked"
        assert [b.customer_email for b in kept(TEN)] == ["bob@example.com"]
        assert offers_to(inbox, "Cy") == []
    else:
        assert (claimed.status_code, claimed.json()["offer_status"]) == (410, "withdrawn")
        assert left.json()["status"] == "left"
        assert [b.customer_email for b in kept(TEN)] == ["cy@example.com"]  # held for Cy
        assert len(offers_to(inbox, "Cy")) == 1


@pytest.mark.usefixtures("no_errors")
def test_two_cancellations_at_once_offer_each_slot_once_and_each_entry_one_slot(client, service):
    ada, abe = book(client, service, TEN, "Ada"), book(client, service, ELEVEN, "Abe")
    for name in ("Bob", "Cy", "Dee"):
        join(client, service, name, window=MORNING)

    answers = together(lambda: cancel(Client(), ada), lambda: cancel(Client(), abe))

    assert [answer["status"] for answer in answers] == ["cancelled", "cancelled"]
    offers = open_offers()
    assert sorted(o.entry.customer_name for o in offers) == ["Bob", "Cy"]
    assert sorted(o.starts_at for o in offers) == [TEN, ELEVEN]
    assert all(o.hold.status == "held" and o.hold.starts_at == o.starts_at for o in offers)
    assert [kept(start).count() for start in (TEN, ELEVEN)] == [1, 1]


@pytest.mark.usefixtures("no_errors")
def test_backfills_and_sweeps_running_at_once_never_double_offer(client, service, settings):
    # Nothing runs after commit while the freed slots are set up: the threads backfill.
    settings.TASKS = {"default": {"BACKEND": "django.tasks.backends.dummy.DummyBackend"}}
    ada, abe = book(client, service, TEN, "Ada"), book(client, service, ELEVEN, "Abe")
    for name in ("Bob", "Cy", "Dee"):
        join(client, service, name, window=MORNING)
    for booking in (ada, abe):
        cancel(client, booking)
    assert open_offers() == []

    made = together(
        lambda: tasks.backfill_service.call(service.pk),
        lambda: tasks.sweep.call(),
        lambda: tasks.backfill_service.call(service.pk),
        lambda: tasks.sweep.call(),
    )

    assert sum(made) == 2, made
    offers = open_offers()
    assert sorted(o.entry.customer_name for o in offers) == ["Bob", "Cy"]
    assert sorted(o.starts_at for o in offers) == [TEN, ELEVEN]
    assert [kept(start).count() for start in (TEN, ELEVEN)] == [1, 1]


def test_the_database_refuses_a_second_open_offer_for_one_entry(client, service, inbox):
    ada = book(client, service, TEN, "Ada")
    join(client, service, "Bob", slot_start=TEN)
    cancel(client, ada)
    [offer] = open_offers()

    offer.pk = None
    offer.starts_at, offer.ends_at = ELEVEN, ELEVEN + timedelta(hours=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        offer.save()
    offer.status = "expired"
    offer.save()  # closed ones are history: any number


@pytest.mark.postgres_only  # SQLite runs one writer at a time, by design
@pytest.mark.usefixtures("no_errors")
def test_a_backfill_in_progress_does_not_hold_up_public_bookings(client, service, monkeypatch):
    book(client, service, TEN, "Ada")
    join(client, service, "Bob", slot_start=TEN)
    matching, resume, gave_up = threading.Event(), threading.Event(), threading.Event()
    match = waitlist._free_slots

    def slow_match(*args):
        matching.set()  # the service row is locked by now
        if not resume.wait(10):
            gave_up.set()
        return match(*args)

    monkeypatch.setattr(waitlist, "_free_slots", slow_match)
    backfill = threading.Thread(
        target=together, args=(lambda: tasks.backfill_service.call(service.pk),)
    )
    backfill.start()
    assert matching.wait(10)

    answer = try_booking(client, service, ELEVEN, "Eve")

    assert not gave_up.is_set()  # answered while the backfill was still matching
    resume.set()
    backfill.join(10)
    assert answer.status_code == 201, answer.content


@pytest.mark.usefixtures("no_errors")
def test_a_slot_freed_while_an_offer_is_out_goes_to_the_next_in_line(client, service, inbox):
    ada, abe = book(client, service, TEN, "Ada"), book(client, service, ELEVEN, "Abe")
    for name in ("Bob", "Cy"):
        join(client, service, name, window=MORNING)
    cancel(client, ada)
    [to_bob] = offers_to(inbox, "Bob")

    # Bob claims his slot just as Abe lets the other one go.
    answers = together(lambda: claim(Client(), offer_token(to_bob)), lambda: cancel(Client(), abe))

    assert answers[0].status_code == 201, answers[0].content
    [to_cy] = offers_to(inbox, "Cy")
    assert len(offers_to(inbox, "Bob")) == 1
    [offer] = open_offers()
    assert (offer.entry.customer_name, offer.starts_at) == ("Cy", ELEVEN)
    assert claim(client, offer_token(to_cy)).status_code == 201
    assert sorted(b.customer_email for b in Booking.objects.filter(status="confirmed")) == [
        "bob@example.com",
        "cy@example.com",
    ]


@pytest.mark.usefixtures("no_errors")
def test_a_hold_lapsing_while_the_public_books_goes_to_one_of_them(client, clock, service, inbox):
    ada = book(client, service, TEN, "Ada")
    bob = join(client, service, "Bob", slot_start=TEN)
    join(client, service, "Cy", slot_start=TEN)
    cancel(client, ada)
    clock.shift(timedelta(minutes=30))  # Bob's offer has just ended, unswept

    answers = together(
        lambda: try_booking(Client(), service, TEN, "Eve"),
        lambda: tasks.sweep.call(),
        lambda: claim(Client(), offer_token(offers_to(inbox, "Bob")[0])),
    )

    assert answers[2].json()["offer_status"] == "expired"
    [booking] = kept(TEN)
    if answers[0].status_code == 201:
        assert booking.customer_email == "eve@example.com"
        assert open_offers() == []
    else:  # Cy was offered it first, and holds it
        assert answers[0].status_code == 409
        assert (booking.customer_email, booking.status) == ("cy@example.com", "held")
    entry = WaitlistEntry.objects.get(pk=bob["id"])
    assert (entry.status, entry.passed) == ("waiting", [TEN.isoformat()])
