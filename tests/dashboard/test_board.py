"""The calendar and a booking's page: who sees what, where, and acting on it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from slotwise.bookings.models import BookingEvent

pytestmark = pytest.mark.django_db


def column(html: str, key: str) -> str:
    found = re.search(rf'id="{key}".*?</section>', html, re.S)
    return found[0] if found else ""


def named(booking, name):
    booking.customer_name = name
    booking.customer_email = f"{name.split()[0].lower()}@example.com"
    booking.save()
    return booking


def test_a_dst_week_shows_each_booking_on_its_london_day_and_time(
    owner_client, services, resources, make_booking
):
    service, amara = services["consultation"], resources["amara"]
    # Clocks go forward in London on Sunday 29 March 2026 at 01:00 UTC.
    named(make_booking(service, [amara], datetime(2026, 3, 29, 8, tzinfo=UTC)), "Ann After")
    named(make_booking(service, [amara], datetime(2026, 3, 29, 0, 30, tzinfo=UTC)), "Bea Before")
    named(make_booking(service, [amara], datetime(2026, 3, 29, 23, 30, tzinfo=UTC)), "Cy Monday")
    page = owner_client.get("/dashboard/calendar?date=2026-03-25")
    html = page.content.decode()
    assert page.status_code == 200
    sunday = column(html, "day-2026-03-29")
    assert "Ann After" in sunday
    assert "09:00" in sunday
    assert "Bea Before" in sunday
    assert "00:30" in sunday
    assert "clocks change" in sunday
    assert "Cy Monday" not in html  # Monday 00:30 BST: the next week
    assert "Europe/London" in html
    following = owner_client.get("/dashboard/calendar?date=2026-03-30").content.decode()
    assert "00:30" in column(following, "day-2026-03-30")


def test_the_day_view_has_a_column_per_resource(owner_client, services, resources, make_booking):
    start = datetime(2026, 6, 2, 9, tzinfo=UTC)
    named(make_booking(services["consultation"], [resources["ben"]], start), "Dan Ben")
    html = owner_client.get("/dashboard/calendar?view=day&date=2026-06-02").content.decode()
    assert "Dan Ben" in column(html, f"resource-{resources['ben'].pk}")
    assert "10:00" in column(html, f"resource-{resources['ben'].pk}")
    assert "Dan Ben" not in column(html, f"resource-{resources['amara'].pk}")


def test_cancelled_bookings_are_hidden_until_asked_for(
    owner_client, services, resources, make_booking
):
    booking = named(
        make_booking(services["consultation"], [], datetime(2026, 6, 2, 9, tzinfo=UTC)), "Eve X"
    )
    booking.status = "cancelled"
    booking.save()
    assert "Eve X" not in owner_client.get("/dashboard/calendar?date=2026-06-02").content.decode()
    shown = owner_client.get("/dashboard/calendar?date=2026-06-02&cancelled=on").content.decode()
    assert "Eve X" in shown
    assert "Cancelled" in shown


def test_staff_see_only_their_own_bookings(staff_client, services, resources, make_booking):
    start = datetime(2026, 6, 2, 9, tzinfo=UTC)
    mine = named(make_booking(services["consultation"], [resources["amara"]], start), "Mia Mine")
    theirs = named(make_booking(services["consultation"], [resources["ben"]], start), "Tom Ben")
    html = staff_client.get("/dashboard/calendar?date=2026-06-02").content.decode()
    assert "Mia Mine" in html
    assert "Tom Ben" not in html
    assert staff_client.get(f"/dashboard/bookings/{mine.pk}").status_code == 200
    assert staff_client.get(f"/dashboard/bookings/{theirs.pk}").status_code == 404
    assert staff_client.post(f"/dashboard/bookings/{theirs.pk}/cancel").status_code == 404
    theirs.refresh_from_db()
    assert theirs.status == "confirmed"


def test_the_calendar_takes_a_fixed_number_of_queries(
    owner_client, services, resources, make_booking, django_assert_max_num_queries
):
    for n in range(30):
        start = datetime(2026, 6, 1, 8, tzinfo=UTC) + timedelta(hours=n)
        make_booking(services["consultation"], [resources["amara"], resources["room"]], start)
    with django_assert_max_num_queries(12):
        page = owner_client.get("/dashboard/calendar?date=2026-06-02")
    assert page.content.decode().count('class="entry ') == 30


def test_bad_calendar_parameters_answer_400_with_words(owner_client, org, services):
    page = owner_client.get("/dashboard/calendar?date=yesterday")
    assert page.status_code == 400
    assert b'class="errorlist"' in page.content


def test_the_booking_page_shows_details_history_and_opens_404_for_others(
    owner_client, services, resources, make_booking
):
    booking = named(
        make_booking(services["consultation"], [resources["amara"]],
                     datetime(2026, 6, 2, 9, tzinfo=UTC)), "Hana Sato")  # fmt: skip
    booking.customer_time_zone = "Asia/Tokyo"
    booking.save()
    html = owner_client.get(f"/dashboard/bookings/{booking.pk}").content.decode()
    assert "hana@example.com" in html
    assert "10:00" in html
    assert "Europe/London" in html
    assert "18:00" in html
    assert "Asia/Tokyo" in html
    assert owner_client.get("/dashboard/bookings/999999").status_code == 404


def test_a_viewer_sees_no_buttons_and_cannot_act(viewer_client, services, resources, make_booking):
    start = timezone.now() + timedelta(days=2)
    booking = make_booking(services["consultation"], [resources["amara"]], start)
    html = viewer_client.get(f"/dashboard/bookings/{booking.pk}").content.decode()
    assert "Cancel booking" not in html
    assert viewer_client.post(f"/dashboard/bookings/{booking.pk}/cancel").status_code == 403
    booking.refresh_from_db()
    assert booking.status == "confirmed"


def test_cancelling_changes_the_booking_and_writes_history(
    owner_client, services, resources, make_booking
):
    start = timezone.now() + timedelta(days=2)
    booking = make_booking(services["consultation"], [resources["amara"]], start)
    answer = owner_client.post(f"/dashboard/bookings/{booking.pk}/cancel", {"reason": "Ill"})
    assert answer.status_code == 302
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert booking.cancel_reason == "Ill"
    assert booking.cancelled_by == "staff"
    assert BookingEvent.objects.filter(booking=booking, action="booking.cancelled").exists()
    shown = owner_client.get(answer["Location"]).content.decode()
    assert "The booking is cancelled." in shown
    again = owner_client.post(f"/dashboard/bookings/{booking.pk}/cancel")
    assert again.status_code == 409
    assert b'role="alert"' in again.content


def test_declining_a_pending_booking(owner_client, services, resources, make_booking):
    start = timezone.now() + timedelta(days=2)
    booking = make_booking(services["consultation"], [resources["amara"]], start, status="pending")
    assert (
        "Confirm booking" in owner_client.get(f"/dashboard/bookings/{booking.pk}").content.decode()
    )
    owner_client.post(f"/dashboard/bookings/{booking.pk}/decline", {"reason": "Full"})
    booking.refresh_from_db()
    assert booking.status == "cancelled"
    assert BookingEvent.objects.filter(booking=booking, action="booking.rejected").exists()


def test_marking_only_once_started(owner_client, services, resources, make_booking):
    later = make_booking(services["consultation"], [resources["amara"]],
                         timezone.now() + timedelta(days=2))  # fmt: skip
    assert owner_client.post(f"/dashboard/bookings/{later.pk}/complete").status_code == 409
    later.refresh_from_db()
    assert later.status == "confirmed"
    started = make_booking(services["consultation"], [resources["ben"]],
                           timezone.now() - timedelta(minutes=30))  # fmt: skip
    assert (
        "Mark completed" in owner_client.get(f"/dashboard/bookings/{started.pk}").content.decode()
    )
    assert owner_client.post(f"/dashboard/bookings/{started.pk}/no-show").status_code == 302
    started.refresh_from_db()
    assert started.status == "no_show"
    assert BookingEvent.objects.filter(booking=started, action="booking.no_show").exists()
