"""Tenancy by construction: a query on an organization's rows must name the organization."""

from datetime import UTC, datetime, timedelta

import pytest
from django_scopes.exceptions import ScopeError

from slotwise.bookings.models import Allocation, Booking, BookingStatus, Series
from slotwise.calendars.models import ExternalBusy
from slotwise.catalog.models import Resource, Schedule, Service
from slotwise.organizations.tenancy import enter_tenant, no_tenant, tenant

pytestmark = pytest.mark.django_db

TEN = datetime(2031, 6, 2, 9, tzinfo=UTC)
TENANT_MODELS = [Resource, Schedule, Service, Booking, Allocation, Series, ExternalBusy]


@pytest.fixture
def two(make_org, make_resource, make_service, make_booking):
    rows = {}
    for name in ("a", "b"):
        org = make_org()
        resource = make_resource(org)
        rows[name] = (org, make_booking(make_service(org), [resource], TEN))
    return rows


@pytest.mark.parametrize("model", TENANT_MODELS, ids=lambda m: m.__name__)
def test_a_query_without_an_organization_fails_loudly(model):
    with no_tenant(), pytest.raises(ScopeError):
        list(model.objects.all())


def test_inside_an_organization_only_its_rows_are_seen(two):
    org_a, booking_a = two["a"]
    with no_tenant(), tenant(org_a):
        assert list(Booking.objects.all()) == [booking_a]
        assert Booking.objects.filter(pk=two["b"][1].pk).first() is None
        assert set(Resource.objects.values_list("organization_id", flat=True)) == {org_a.pk}


def test_an_organization_must_be_named():
    with pytest.raises(ValueError, match="needs an organization"):
        tenant(None).__enter__()


def test_entering_a_tenant_needs_an_entry_point(two):
    with pytest.raises(RuntimeError):
        enter_tenant(two["a"][0])


def test_the_hold_release_task_finds_its_own_organization(
    make_org, make_resource, make_service, make_booking
):
    from slotwise.bookings.tasks import release_hold

    org = make_org()
    held = make_booking(
        make_service(org),
        [make_resource(org)],
        TEN,
        status=BookingStatus.HELD,
        expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    with no_tenant():
        assert release_hold.call(held.pk) is True
        assert release_hold.call(999_999) is False
    held.refresh_from_db()
    assert held.status == BookingStatus.CANCELLED
