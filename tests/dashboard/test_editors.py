"""The hours editor: it saves exactly what the form sent, refuses bad input with the
error beside the row and nothing changed, keeps to each role's rights, and what it
saves is what the slots API then offers."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from slotwise.catalog.models import Resource, Schedule, WeeklyRule

pytestmark = pytest.mark.django_db


def weekly(schedule) -> list[tuple[int, time, time]]:
    return [(r.weekday, r.start, r.end) for r in schedule.weekly_rules.order_by("weekday", "start")]


def form_of(schedule, **extra) -> dict[str, str]:
    return {"name": schedule.name, "holiday_country": "", "holiday_subdivision": "", **extra}


def test_the_list_shows_each_schedule_with_its_hours(org, resources, owner_client):
    answer = owner_client.get("/dashboard/hours")
    assert answer.status_code == 200
    text = answer.content.decode()
    schedule = resources["amara"].schedule
    assert schedule.name in text
    assert f"/dashboard/hours/{schedule.pk}" in text
    assert "Amara" in text


def test_the_editor_saves_exactly_the_openings_sent(org, resources, owner_client):
    schedule = resources["amara"].schedule
    answer = owner_client.post(
        f"/dashboard/hours/{schedule.pk}",
        form_of(
            schedule,
            name="Front desk",
            **{"w1-0-start": "10:00", "w1-0-end": "12:00", "w1-1-start": "13:00",
               "w1-1-end": "15:00", "w2-0-start": "", "w2-0-end": "", "w5-3-start": "09:00",
               "w5-3-end": "00:00", "o-0-date": "2031-12-24", "o-0-h0-start": "09:00",
               "o-0-h0-end": "12:00", "o-0-note": "Christmas Eve", "o-1-date": "2031-12-25",
               "c-0-first": "2031-08-01", "c-0-last": "2031-08-14", "c-0-reason": "Summer",
               "holiday_country": "GB", "holiday_subdivision": "ENG"},
        ),
    )  # fmt: skip
    assert answer.status_code == 302
    schedule.refresh_from_db()
    assert schedule.name == "Front desk"
    assert (schedule.holiday_country, schedule.holiday_subdivision) == ("GB", "ENG")
    assert weekly(schedule) == [
        (1, time(10), time(12)),
        (1, time(13), time(15)),
        (5, time(9), time(0)),
    ]
    overrides = {
        o.date: ([(h.start, h.end) for h in o.hours.all()], o.note)
        for o in schedule.overrides.all()
    }
    assert overrides == {
        date(2031, 12, 24): ([(time(9), time(12))], "Christmas Eve"),
        date(2031, 12, 25): ([], ""),
    }
    assert [(c.first, c.last, c.reason) for c in schedule.closures.all()] == [
        (date(2031, 8, 1), date(2031, 8, 14), "Summer")
    ]
    page = owner_client.get(answer["Location"]).content.decode()
    assert 'value="13:00"' in page
    assert "Christmas Eve" in page


@pytest.mark.parametrize(
    ("sent", "message"),
    [
        ({"w0-0-start": "12:00", "w0-0-end": "09:00"}, "must be after the start"),
        (
            {
                "w0-0-start": "09:00",
                "w0-0-end": "12:00",
                "w0-1-start": "11:00",
                "w0-1-end": "14:00",
            },
            "overlaps",
        ),
        ({"w0-0-start": "09:00", "w0-0-end": ""}, "Give both a start and an end"),
        ({"w0-0-start": "9 o'clock", "w0-0-end": "12:00"}, "Enter times"),
        ({"c-0-first": "2031-08-14", "c-0-last": "2031-08-01"}, "must not be before"),
        ({"holiday_country": "ZZ"}, "no public-holiday calendar"),
    ],
)
def test_bad_input_is_refused_beside_the_row_and_nothing_changes(
    org, resources, owner_client, sent, message
):
    schedule = resources["amara"].schedule
    before = weekly(schedule)
    answer = owner_client.post(
        f"/dashboard/hours/{schedule.pk}",
        form_of(schedule, name="Changed", **{"w4-0-start": "08:00", "w4-0-end": "10:00", **sent}),
    )
    assert answer.status_code == 400
    text = answer.content.decode()
    assert message in text
    assert 'class="errorlist"' in text
    schedule.refresh_from_db()
    assert schedule.name != "Changed"
    assert weekly(schedule) == before
    assert not schedule.closures.exists()


def test_a_new_schedule_is_created(org, owner_client):
    answer = owner_client.post(
        "/dashboard/hours/new",
        {"name": "Weekend", "w5-0-start": "10:00", "w5-0-end": "16:00"},
    )
    assert answer.status_code == 302
    schedule = Schedule.objects.get(organization=org, name="Weekend")
    assert weekly(schedule) == [(5, time(10), time(16))]
    assert answer["Location"] == f"/dashboard/hours/{schedule.pk}"


def test_a_new_schedule_needs_a_name(org, owner_client):
    answer = owner_client.post("/dashboard/hours/new", {"name": ""})
    assert answer.status_code == 400
    assert "Give the schedule a name" in answer.content.decode()
    assert not Schedule.objects.filter(organization=org, name="").exists()


def test_viewers_read_but_cannot_save(org, resources, viewer_client):
    schedule = resources["amara"].schedule
    before = weekly(schedule)
    page = viewer_client.get(f"/dashboard/hours/{schedule.pk}")
    assert page.status_code == 200
    assert "Save hours" not in page.content.decode()
    answer = viewer_client.post(f"/dashboard/hours/{schedule.pk}", form_of(schedule, name="X"))
    assert answer.status_code == 403
    assert viewer_client.post("/dashboard/hours/new", {"name": "Mine"}).status_code == 403
    schedule.refresh_from_db()
    assert schedule.name != "X"
    assert weekly(schedule) == before
    assert not Schedule.objects.filter(name="Mine").exists()


def test_staff_change_only_the_schedule_that_is_theirs_alone(org, resources, staff_client):
    own = resources["amara"].schedule
    other = resources["ben"].schedule
    assert "Save hours" in staff_client.get(f"/dashboard/hours/{own.pk}").content.decode()
    answer = staff_client.post(
        f"/dashboard/hours/{own.pk}", form_of(own, **{"w0-0-start": "07:00", "w0-0-end": "11:00"})
    )
    assert answer.status_code == 302
    assert weekly(own) == [(0, time(7), time(11))]
    before = weekly(other)
    answer = staff_client.post(
        f"/dashboard/hours/{other.pk}",
        form_of(other, **{"w0-0-start": "07:00", "w0-0-end": "8:00"}),
    )
    assert answer.status_code == 403
    assert weekly(other) == before


def test_unknown_and_foreign_schedules_are_not_found(org, owner_client, make_org, make_schedule):
    foreign = make_schedule(make_org())
    assert owner_client.get("/dashboard/hours/999999").status_code == 404
    assert owner_client.get(f"/dashboard/hours/{foreign.pk}").status_code == 404
    assert owner_client.post(f"/dashboard/hours/{foreign.pk}", {"name": "X"}).status_code == 404
    assert Schedule.objects.with_scopes_disabled().get(pk=foreign.pk).name != "X"


def test_hours_saved_on_the_page_are_the_slots_offered(org, resources, services, owner_client):
    schedule = resources["amara"].schedule
    for other in (resources["ben"], resources["room"]):
        other.schedule = None
        other.save(update_fields=["schedule"])
    answer = owner_client.post(
        f"/dashboard/hours/{schedule.pk}",
        form_of(schedule, **{"w1-0-start": "10:00", "w1-0-end": "12:00",
                             "w1-1-start": "13:00", "w1-1-end": "15:00"}),
    )  # fmt: skip
    assert answer.status_code == 302
    today = datetime.now(ZoneInfo("Europe/London")).date()
    tuesday = today + timedelta(days=(1 - today.weekday()) % 7 + 7)
    service = services["consultation"]
    slots = owner_client.get(
        f"/api/v1/services/{service.pk}/slots",
        {"start": tuesday.isoformat(), "end": tuesday.isoformat(), "tz": "Europe/London"},
    ).json()
    starts = [slot["start"][11:16] for day in slots["days"] for slot in day["slots"]]
    assert starts == ["10:00", "11:00", "13:00", "14:00"]
    assert WeeklyRule.objects.filter(schedule=schedule).count() == 2


# Resources


def test_a_resource_is_added_with_exactly_what_was_sent(org, resources, owner_client):
    schedule = resources["amara"].schedule
    answer = owner_client.post(
        "/dashboard/resources/new",
        {"name": "Big Table", "kind": "table", "capacity": "6", "time_zone": "Europe/Paris",
         "schedule_id": str(schedule.pk)},
    )  # fmt: skip
    assert answer.status_code == 302
    table = Resource.objects.get(organization=org, name="Big Table")
    assert (table.kind, table.capacity, table.time_zone, table.schedule_id, table.active) == (
        "table", 6, "Europe/Paris", schedule.pk, True,
    )  # fmt: skip
    assert "Big Table" in owner_client.get("/dashboard/resources").content.decode()


def test_a_resource_is_changed_and_deactivated(org, resources, owner_client):
    ben = resources["ben"]
    answer = owner_client.post(
        f"/dashboard/resources/{ben.pk}",
        {"name": "Benjamin", "kind": "person", "capacity": "2", "time_zone": "Asia/Tokyo",
         "schedule_id": ""},
    )  # fmt: skip
    assert answer.status_code == 302
    ben.refresh_from_db()
    assert (ben.name, ben.capacity, ben.time_zone, ben.schedule_id) == (
        "Benjamin", 2, "Asia/Tokyo", None,
    )  # fmt: skip
    assert owner_client.post(f"/dashboard/resources/{ben.pk}/deactivate").status_code == 302
    ben.refresh_from_db()
    assert not ben.active


def test_a_bad_resource_is_refused_inline_and_nothing_changes(org, resources, owner_client):
    ben = resources["ben"]
    answer = owner_client.post(
        f"/dashboard/resources/{ben.pk}",
        {"name": "", "kind": "person", "capacity": "0", "time_zone": "Europe/London"},
    )
    assert answer.status_code == 400
    assert 'class="errorlist"' in answer.content.decode()
    ben.refresh_from_db()
    assert (ben.name, ben.capacity) == ("Ben", 1)


def test_viewers_and_staff_cannot_change_resources(org, resources, viewer_client, staff_client):
    ben = resources["ben"]
    for client in (viewer_client, staff_client):
        page = client.get(f"/dashboard/resources/{ben.pk}")
        assert page.status_code == 200
        assert "Deactivate" not in page.content.decode()
        sent = {"name": "X", "kind": "person", "capacity": "1", "time_zone": "Europe/London"}
        assert client.post(f"/dashboard/resources/{ben.pk}", sent).status_code == 403
        assert client.post(f"/dashboard/resources/{ben.pk}/deactivate").status_code == 403
        assert client.post("/dashboard/resources/new", sent).status_code == 403
    ben.refresh_from_db()
    assert (ben.name, ben.active) == ("Ben", True)
    assert not Resource.objects.filter(name="X").exists()


def test_unknown_resources_are_not_found(org, owner_client, make_org, make_resource):
    foreign = make_resource(make_org())
    for url in ("/dashboard/resources/999999", f"/dashboard/resources/{foreign.pk}"):
        assert owner_client.get(url).status_code == 404
        assert owner_client.post(f"{url}/deactivate").status_code == 404
    assert Resource.objects.with_scopes_disabled().get(pk=foreign.pk).active
