"""The waitlist end to end: joining, offers by email (a real SMTP server), claims,
offers lapsing and passing on, broadcast races, and what staff see."""

import json
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.db import connections
from django.test import Client

from slotwise.accounts.permissions import Role
from slotwise.bookings import services
from slotwise.bookings.models import Booking
from slotwise.notifications import dispatch
from slotwise.organizations.tenancy import tenant
from slotwise.waitlist import tasks
from slotwise.waitlist.models import Offer, WaitlistEntry
from tests.notifications.conftest import smtp_server  # noqa: F401 (a fixture)

# Real commits: an offer is made by the work a cancellation asks for after it commits.
pytestmark = pytest.mark.django_db(transaction=True)

NOW = datetime(2026, 5, 1, 12, tzinfo=UTC)
SLOT = "2026-06-01T09:00:00Z"  # a Monday, 10:00 in London
SLOT_UTC = datetime(2026, 6, 1, 9, tzinfo=UTC)
ADA = services.Customer(name="Ada", email="ada@example.com", time_zone="Europe/London")


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def org(make_org, make_resource):
    org = make_org(name="Harbour & Pine")
    make_resource(org, name="Ann")
    return org


@pytest.fixture
def service(org, make_service):
    return make_service(org, name="Portrait")


@pytest.fixture
def taken(clock, org, service):
    """Ada's booking of the slot everyone wants."""
    with tenant(org):
        booking, _ = services.book(service, start=SLOT_UTC, customer=ADA, now=NOW)
    return booking


def post(client, path, data=None):
    return client.post(path, json.dumps(data or {}), content_type="application/json")


def join(client, service, name, **want):
    want = want or {"slot_start": SLOT}
    customer = {"name": name, "email": f"{name.lower()}@example.com", "time_zone": "UTC"}
    customer.update(want.pop("customer", {}))
    response = post(
        client, "/api/v1/waitlist", {"service_id": service.pk, "customer": customer, **want}
    )
    assert response.status_code == 201, response.content
    return response.json()


def cancel(org, booking):
    with tenant(org):
        services.cancel(Booking.objects.get(pk=booking.pk), by="customer", now=NOW)


def book_publicly(client, service):
    return post(
        client,
        "/api/v1/bookings",
        {
            "service_id": service.pk,
            "start": SLOT,
            "customer": {"name": "Pat", "email": "pat@example.com", "time_zone": "UTC"},
        },
    )


def mail_to(smtp, address):
    dispatch.deliver_due(datetime.now(UTC))
    return [m for m in smtp.inbox.received if m["To"] == address]


def link(message, kind):
    [plain] = [p for p in message.walk() if p.get_content_type() == "text/plain"]
    text = plain.get_payload(decode=True).decode()
    return re.search(rf"http://127\.0\.0\.1:8000(/waitlist/{kind}/\S+)", text)[1]


def open_offers():
    return list(Offer.objects.with_scopes_disabled().filter(status="open").order_by("pk"))


def test_a_freed_slot_is_held_for_the_first_in_line_then_passed_on(
    client,
    clock,
    org,
    service,
    taken,
    smtp_server,  # noqa: F811
):
    join(client, service, "Bo")
    join(client, service, "Cy")
    [joined] = mail_to(smtp_server, "bo@example.com")
    assert "You are on the waitlist" in joined["Subject"]
    assert link(joined, "leave")

    cancel(org, taken)

    [offer] = open_offers()
    assert (offer.entry.customer_email, offer.sequential) == ("bo@example.com", True)
    assert offer.expires_at == NOW + timedelta(minutes=30)
    assert book_publicly(client, service).status_code == 409  # held for Bo
    [_, offered] = mail_to(smtp_server, "bo@example.com")
    assert "claim it" in offered["Subject"]
    assert Client().get(link(offered, "offer")).status_code == 200

    clock.shift(timedelta(minutes=30))
    tasks.sweep.call()  # Bo let it lapse: Cy's turn

    [offer] = open_offers()
    assert offer.entry.customer_email == "cy@example.com"
    [_, offered] = mail_to(smtp_server, "cy@example.com")
    page = Client(enforce_csrf_checks=True)
    form = page.get(link(offered, "offer"))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)[1]
    claimed = page.post(link(offered, "offer"), {"csrfmiddlewaretoken": token})

    assert claimed.status_code == 200
    assert "It is booked" in claimed.text
    booking = Booking.objects.with_scopes_disabled().get(status="confirmed")
    assert (booking.customer_email, booking.starts_at) == ("cy@example.com", SLOT_UTC)
    assert any(
        m["Subject"].startswith("Confirmed:") for m in mail_to(smtp_server, "cy@example.com")
    )
    again = page.post(link(offered, "offer"), {"csrfmiddlewaretoken": token})
    assert again.status_code == 410


def test_when_no_one_claims_the_slot_it_is_everyones_again(client, clock, org, service, taken):
    join(client, service, "Bo")
    cancel(org, taken)
    assert book_publicly(client, service).status_code == 409

    clock.shift(timedelta(minutes=31))
    tasks.sweep.call()

    assert open_offers() == []
    assert book_publicly(client, service).status_code == 201


def test_leaving_with_an_offer_passes_it_to_the_next(client, org, service, taken):
    bo = join(client, service, "Bo")
    join(client, service, "Cy")
    cancel(org, taken)

    left = post(client, f"/api/v1/waitlist/{bo['token']}/leave")

    assert left.json()["status"] == "left"
    [offer] = open_offers()
    assert offer.entry.customer_email == "cy@example.com"


def test_a_window_is_matched_in_the_customers_own_zone(client, org, service, taken):
    tokyo = {"time_zone": "Asia/Tokyo"}
    window = {"first_day": "2026-06-01", "last_day": "2026-06-01"}
    join(client, service, "Late", customer=tokyo, window={**window, "earliest": "19:00"})
    join(client, service, "Fits", customer=tokyo, window={**window, "earliest": "18:00",
                                                         "latest": "18:30"})  # fmt: skip

    cancel(org, taken)  # 09:00 UTC is 18:00 in Tokyo

    offered = {o.entry.customer_email: o.starts_at for o in open_offers()}
    assert offered["fits@example.com"] == SLOT_UTC
    assert offered["late@example.com"] == SLOT_UTC + timedelta(hours=1)  # 19:00 in Tokyo


def test_broadcast_offers_everyone_and_the_first_claim_wins(
    client,
    org,
    service,
    taken,
    smtp_server,  # noqa: F811
):
    service.waitlist_mode = "broadcast"
    service.save()
    join(client, service, "Bo")
    join(client, service, "Cy")

    cancel(org, taken)

    bo, cy = open_offers()
    assert (bo.sequential, bo.hold) == (False, None)
    from slotwise.waitlist.services import offer_token

    first = post(client, f"/api/v1/waitlist/offers/{offer_token(bo)}/claim")
    second = post(client, f"/api/v1/waitlist/offers/{offer_token(cy)}/claim")

    assert first.status_code == 201, first.content
    assert first.json()["status"] == "confirmed"
    assert second.status_code == 410
    assert second.json()["offer_status"] == "gone"
    assert any("was taken" in m["Subject"] for m in mail_to(smtp_server, "cy@example.com"))


def test_a_public_booker_and_a_claimant_racing_for_a_slot_get_it_once(client, org, service, taken):
    service.waitlist_mode = "broadcast"
    service.save()
    join(client, service, "Bo")
    cancel(org, taken)
    [offer] = open_offers()
    from slotwise.waitlist.services import offer_token

    answers = []
    barrier = threading.Barrier(2)

    def run(action):
        barrier.wait()
        try:
            answers.append(action(Client()).status_code)
        finally:
            connections.close_all()

    claim = lambda c: post(c, f"/api/v1/waitlist/offers/{offer_token(offer)}/claim")  # noqa: E731
    threads = [
        threading.Thread(target=run, args=(a,))
        for a in (claim, lambda c: book_publicly(c, service))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(answers) in ([201, 409], [201, 410])
    booked = Booking.objects.with_scopes_disabled().filter(starts_at=SLOT_UTC, status="confirmed")
    assert booked.count() == 1


def test_joining_refuses_what_cannot_be_waited_for(client, clock, service):
    for want, field in (
        ({"window": {"first_day": "2026-06-02", "last_day": "2026-06-01"}}, "window"),
        ({"window": {"first_day": "2026-04-01", "last_day": "2026-04-02"}}, "window"),
        ({"slot_start": "2026-04-01T09:00:00Z"}, "slot_start"),
        ({}, "window"),
    ):
        response = post(
            client,
            "/api/v1/waitlist",
            {"service_id": service.pk, "customer": {"name": "Bo", "email": "bo@example.com",
             "time_zone": "UTC"}, **want},
        )  # fmt: skip
        assert response.status_code == 400, (want, response.content)
        assert response.json()["field"] == field
    for _ in range(3):
        join(client, service, "Bo")
    assert post(
        client, "/api/v1/waitlist",
        {"service_id": service.pk, "slot_start": SLOT,
         "customer": {"name": "Bo", "email": "BO@example.com", "time_zone": "UTC"}},
    ).status_code == 400  # fmt: skip


def test_staff_see_the_queue_the_offers_and_what_was_recovered(
    client, org, service, taken, make_member
):
    join(client, service, "Bo")
    join(client, service, "Cy")
    WaitlistEntry.objects.with_scopes_disabled().filter(customer_email="cy@example.com").update(
        priority=5
    )
    cancel(org, taken)  # Cy first: a higher priority
    [offer] = open_offers()
    from slotwise.waitlist.services import offer_token

    assert post(client, f"/api/v1/waitlist/offers/{offer_token(offer)}/claim").status_code == 201
    staff = Client()
    staff.force_login(make_member(org, Role.VIEWER))

    queue = staff.get("/api/v1/staff/waitlist", {"service_id": service.pk, "day": "2026-06-01"})
    recovered = staff.get("/api/v1/staff/waitlist/recovered", {"start": "2026-05-01",
                                                               "end": "2026-05-31"})  # fmt: skip

    assert [e["customer"]["email"] for e in queue.json()] == ["bo@example.com"]
    assert staff.get("/api/v1/staff/waitlist/offers").json() == []
    assert recovered.json() == {
        "start": "2026-05-01",
        "end": "2026-05-31",
        "offers_claimed": 1,
        "bookings_kept": 1,
        "revenue_minor": {"GBP": 5000},
        "offers_made": 1,
    }
    assert Client().get("/api/v1/staff/waitlist").status_code == 401
