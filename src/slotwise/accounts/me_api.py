"""``/api/v1/me``: a customer's own bookings, across every organization.

A signed-in person sees the bookings made with one of their *verified* email
addresses, wherever they booked and whether or not they were signed in at
the time; nobody else's. They may cancel them, as with the manage link.
"""

from __future__ import annotations

from typing import Annotated, Any

from django.conf import settings
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Body, Field, Path, Query, Router, Schema, Status
from ninja.errors import HttpError
from ninja.security import APIKeyCookie
from ninja.utils import check_csrf

from slotwise.accounts.models import User
from slotwise.api.problems import Problem, ValidationProblem, problem_response
from slotwise.bookings import services
from slotwise.bookings.answers import booking_body, problem_for
from slotwise.bookings.models import Booking, CancelledBy
from slotwise.organizations.tenancy import tenant

__all__ = ["router"]

IdPath = Annotated[int, Path(ge=1, le=2**63 - 1)]
MAX_LISTED = 200


class AccountSession(APIKeyCookie):
    """A signed-in person's session; unsafe methods need the CSRF token."""

    param_name = settings.SESSION_COOKIE_NAME
    openapi_description = "The session of a person signed in at /accounts/login/."

    def __init__(self) -> None:
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        key = request.COOKIES.get(self.param_name)
        if key and check_csrf(request) is not None:
            raise HttpError(403, "The CSRF token is missing or wrong.")
        return key

    def authenticate(self, request: HttpRequest, key: str | None) -> User | None:
        if key and request.user.is_authenticated:
            return request.user  # type: ignore[return-value]
        return None


router = Router(tags=["my bookings"])
signed_in = AccountSession()


class MyBookingOut(Schema):
    id: int
    organization: str
    status: str
    service: dict[str, Any]
    start: str
    end: str
    start_utc: str
    end_utc: str
    time_zone: str
    seats: int
    cancelled_at: str | None


class CancelIn(Schema):
    reason: str = Field(default="", max_length=500)


@router.get(
    "/bookings",
    response={200: list[MyBookingOut], 401: Problem},
    summary="My bookings",
    auth=signed_in,
)
def my_bookings(
    request: HttpRequest,
    past: Annotated[bool, Query(description="Those that have ended, newest first.")] = False,
) -> list[dict[str, Any]]:
    """Upcoming bookings by start (``past=true``: those that ended, newest first),
    at most 200, in the zone each was booked in."""
    now = timezone.now()
    rows = bookings_of(request.auth).select_related("service", "organization")
    rows = (
        rows.filter(ends_at__lte=now).order_by("-starts_at", "-pk")
        if past
        else rows.filter(ends_at__gt=now).order_by("starts_at", "pk")
    )
    return [_listed(booking) for booking in rows[:MAX_LISTED]]


@router.post(
    "/bookings/{booking_id}/cancel",
    response={200: MyBookingOut, 401: Problem, 404: Problem, 409: Problem, 422: ValidationProblem},
    summary="Cancel one of my bookings",
    auth=signed_in,
)
def cancel_my_booking(
    request: HttpRequest,
    booking_id: IdPath,
    data: Annotated[CancelIn, Body()] = CancelIn(),  # noqa: B008 (a schema default)
) -> HttpResponse | dict[str, Any]:
    booking = bookings_of(request.auth).filter(pk=booking_id).first()
    if booking is None:
        return problem_response(404, "not-found", "Not found", f"There is no booking {booking_id}.")
    with tenant(booking.organization_id):
        try:
            booking = services.cancel(
                booking, by=CancelledBy.CUSTOMER, now=timezone.now(), reason=data.reason
            )
        except services.BookingError as error:
            return problem_for(error)
        return _listed(Booking.objects.select_related("service", "organization").get(pk=booking.pk))


@router.post(
    "/calendar-feed",
    response={201: dict[str, str], 401: Problem},
    summary="Make my calendar feed address",
    auth=signed_in,
)
def my_calendar_feed(request: HttpRequest) -> Any:
    """A secret address of my bookings in every organization, in iCalendar format,
    to subscribe to from a calendar app (``{"url": ...}``, shown once). Making a
    new one ends the old one."""
    from slotwise.calendars.feeds import new_customer_feed

    return Status(201, {"url": new_customer_feed(request.auth)})


def bookings_of(user: User) -> QuerySet[Booking]:
    """Bookings made with one of ``user``'s verified addresses, in any organization."""
    from allauth.account.models import EmailAddress

    emails = EmailAddress.objects.filter(user=user, verified=True).values_list("email", flat=True)
    matches = Q(pk__in=[])
    for email in emails:
        matches |= Q(customer_email__iexact=email)
    # Across organizations on purpose: the person, not a tenant, is the scope here.
    return Booking.objects.with_scopes_disabled().filter(matches)


def _listed(booking: Booking) -> dict[str, Any]:
    body = booking_body(booking, history=False)
    return {
        "id": booking.pk,
        "organization": booking.organization.name,
        **{key: body[key] for key in MyBookingOut.model_fields if key in body},
    }
