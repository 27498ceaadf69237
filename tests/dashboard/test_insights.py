"""The reports page: exact counts per week in London, no-show rates, utilisation from
opening hours, the CSV, who may read it, and bad ranges."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.urls import reverse

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 11, 18, 12, tzinfo=UTC)  # Wednesday 18 November 2026
THIS_MONDAY = datetime(2026, 11, 16, 9, tzinfo=UTC)  # 09:00 in London
LAST_MONDAY = THIS_MONDAY - timedelta(weeks=1)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def booked(org, services, resources, make_booking):
    """Amara's bookings: last week 2 completed, 1 no-show, 1 cancelled; this week 1
    confirmed (Monday, due) and 1 confirmed on Friday (not yet due)."""
    from slotwise.bookings.models import Booking

    amara, service = resources["amara"], services["consultation"]
    made = []
    for day, status in [(0, "completed"), (1, "completed"), (2, "no_show"), (3, "cancelled")]:
        made.append(
            make_booking(service, [amara], LAST_MONDAY + timedelta(days=day), status=status)
        )
    made.append(make_booking(service, [amara], THIS_MONDAY, status="confirmed"))
    made.append(make_booking(service, [amara], THIS_MONDAY + timedelta(days=4), status="confirmed"))
    for booking in made[:4]:
        Booking.objects.filter(pk=booking.pk).update(
            created_at=booking.starts_at - timedelta(hours=1)
        )
    return made


def rows_of(response):
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_the_weeks_count_bookings_by_status_and_no_shows_exactly(owner_client, booked):
    response = owner_client.get(reverse("dashboard:reports"), {"range": "4w"})
    assert response.status_code == 200
    page = response.content.decode()
    assert "Europe/London" in page
    report = response.context["report"]
    counts = {row.period.start.isoformat(): row for row in report.rows}
    assert list(counts) == ["2026-10-26", "2026-11-02", "2026-11-09", "2026-11-16"]
    last, this = counts["2026-11-09"], counts["2026-11-16"]
    assert (last.created["completed"], last.created["no_show"]) == (2, 1)
    assert last.created["cancelled"] == 1
    assert this.created["confirmed"] == 2  # created now, this week
    assert (last.no_shows, last.due, last.no_show_percent) == (1, 3, 100 / 3)
    assert (this.no_shows, this.due) == (0, 1)  # Friday's is not due yet
    assert "33.3 %" in page

    rows = rows_of(owner_client.get(reverse("dashboard:reports-csv"), {"range": "4w"}))
    value = {
        (r["report"], r["period"], r["measure"]): int(r["value"])
        for r in rows
        if r["resource"] == ""
    }
    assert value["bookings_created", "2026-11-09", "completed"] == 2
    assert value["bookings_created", "2026-11-09", "cancelled"] == 1
    assert value["bookings_created", "2026-11-16", "confirmed"] == 2
    assert value["no_shows", "2026-11-09", "no_show"] == 1
    assert value["no_shows", "2026-11-09", "due"] == 3


def test_utilisation_of_office_hours_is_booked_over_open_minutes(
    org, make_resource, make_schedule, make_service, make_booking, owner_client
):
    nine_to_five = make_schedule(org, hours=((time(9), time(17)),), weekdays=range(5))
    desk = make_resource(org, name="Desk", schedule=nine_to_five)
    service = make_service(org, name="Fitting", slug="fitting", needs=(("person", [desk]),))
    # Six hours booked last week; a cancelled hour does not count.
    for day in range(3):
        make_booking(service, [desk], LAST_MONDAY + timedelta(days=day), minutes=120)
    make_booking(service, [desk], LAST_MONDAY + timedelta(days=3), status="cancelled")

    response = owner_client.get(reverse("dashboard:reports"), {"range": "4w"})
    [use] = [u for u in response.context["report"].utilisation if u.resource == desk]
    # Four weeks Monday to Friday, 8 hours a day, to the end of this week.
    assert use.open_minutes == 4 * 5 * 8 * 60
    assert use.booked_minutes == 360
    assert use.percent == pytest.approx(100 * 360 / 9600)
    assert "3.8 %" in response.content.decode()
    rows = rows_of(owner_client.get(reverse("dashboard:reports-csv")))
    desk_rows = {r["measure"]: int(r["value"]) for r in rows if r["resource"] == "Desk"}
    assert desk_rows == {"open_minutes": 9600, "booked_minutes": 360}


def test_months_in_the_organizations_zone(owner_client, booked):
    response = owner_client.get(reverse("dashboard:reports"), {"range": "12m"})
    report = response.context["report"]
    assert [p.start.isoformat() for p in report.periods][-2:] == ["2026-10-01", "2026-11-01"]
    assert report.rows[-1].created_total == 6


def test_a_bounded_number_of_queries(owner_client, booked, django_assert_max_num_queries):
    with django_assert_max_num_queries(15):
        response = owner_client.get(reverse("dashboard:reports"), {"range": "12m"})
    assert response.status_code == 200


def test_a_viewer_may_read_and_an_anonymous_visitor_is_sent_to_sign_in(
    viewer_client, client, booked
):
    assert viewer_client.get(reverse("dashboard:reports")).status_code == 200
    assert viewer_client.get(reverse("dashboard:reports-csv")).status_code == 200
    for name in ("dashboard:reports", "dashboard:reports-csv"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert "/accounts/login/" in response["Location"]


def test_a_staff_member_counts_their_own_resources_only(
    staff_client, booked, resources, services, make_booking
):
    make_booking(services["consultation"], [resources["ben"]], THIS_MONDAY, status="confirmed")
    report = staff_client.get(reverse("dashboard:reports")).context["report"]
    assert report.rows[-1].created["confirmed"] == 2  # Amara's, not Ben's
    assert [u.resource.name for u in report.utilisation] == ["Amara"]


@pytest.mark.parametrize("bad", ["1y", "", "<script>", "4w'"])
def test_a_bad_range_is_a_readable_400_or_the_default(owner_client, bad):
    for name in ("dashboard:reports", "dashboard:reports-csv"):
        response = owner_client.get(reverse(name), {"range": bad})
        if bad == "":
            assert response.status_code == 200
        else:
            assert response.status_code == 400
            assert "Choose one of the periods offered." in response.content.decode()


# The waitlist page


def test_the_waitlist_shows_the_queue_offers_and_what_was_recovered_in_london(
    owner_client, services
):
    from slotwise.bookings.services import Customer
    from slotwise.waitlist import services as waitlist
    from slotwise.waitlist.models import Offer, OfferStatus

    service = services["consultation"]
    wanted = datetime(2026, 11, 23, 14, tzinfo=UTC)  # 14:00 in London, in winter
    summer = datetime(2026, 11, 24, 14, tzinfo=UTC)
    for name, start in [("Bob", wanted), ("Cy", summer)]:
        customer = Customer(name=name, email=f"{name.lower()}@example.com", phone="",
                            time_zone="Asia/Tokyo")  # fmt: skip
        waitlist.join(service, customer, waitlist.Want(seats=1, slot_start=start), NOW)
    waitlist.backfill(service.pk, NOW)
    bob_offer = Offer.objects.get(entry__customer_name="Bob")
    waitlist.claim(bob_offer, NOW)
    assert Offer.objects.get(pk=bob_offer.pk).status == OfferStatus.CLAIMED

    response = owner_client.get(reverse("dashboard:waitlist"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Europe/London" in page
    queue = response.context["queue"]
    assert [e["customer"]["name"] for e in queue] == ["Cy"]
    assert "24 November 2026, 14:00" in page or "Nov. 24, 2026, 2 p.m." in page
    offers = response.context["offers"]
    assert [o["customer"] for o in offers] == ["cy@example.com"]
    assert response.context["recovered"]["offers_claimed"] == 1
    assert response.context["recovered"]["bookings_kept"] == 1
    assert "£50.00" in page or "50.00" in page

    filtered = owner_client.get(reverse("dashboard:waitlist"), {"service": services["portrait"].pk})
    assert filtered.context["queue"] == []
    assert filtered.context["offers"] == []


def test_the_waitlist_for_a_viewer_anonymous_and_bad_filters(viewer_client, client, services):
    assert viewer_client.get(reverse("dashboard:waitlist")).status_code == 200
    response = client.get(reverse("dashboard:waitlist"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    bad = viewer_client.get(reverse("dashboard:waitlist"), {"service": "x", "days": "7"})
    assert bad.status_code == 400
    assert "Select a valid choice" in bad.content.decode()
