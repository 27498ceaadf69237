"""Top-level URLs: the pages, the health check and the versioned API."""

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.urls import include, path
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from slotwise.accounts import views as accounts
from slotwise.calendars import feeds
from slotwise.operations import admin, health, metrics
from slotwise.waitlist import views as waitlist
from slotwise.web import booking_page
from slotwise.web import views as web


@never_cache
@require_safe
def healthz(request: HttpRequest) -> JsonResponse:
    """200 ``{"status": "ok"}`` when the app can query its database, else 503."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return JsonResponse({"status": "unavailable"}, status=503)
    return JsonResponse({"status": "ok"})


# django-allauth's answer to sign-ins and resets sent too often.
handler429 = "slotwise.accounts.throttling.too_many_requests"
# Readable error pages in the visitor's language, never a trace (slotwise.web.errors).
handler400 = "slotwise.web.errors.bad_request"
handler403 = "slotwise.web.errors.permission_denied"
handler404 = "slotwise.web.errors.not_found"
handler500 = "slotwise.web.errors.server_error"

urlpatterns = [
    path("", web.home, name="home"),
    path("healthz", healthz, name="healthz"),
    # The language picker in every page's footer posts to set_language here.
    path("i18n/", include("django.conf.urls.i18n")),
    # Ready for traffic: database, migrations and a live worker (slotwise.operations.health).
    path("readyz", health.readyz, name="readyz"),
    # Prometheus, for this machine or a bearer token (slotwise.operations.metrics).
    path("metrics", metrics.metrics_view, name="metrics"),
    # Sign-up, sign-in, email verification, password reset and two-factor setup.
    path("accounts/", include("allauth.urls")),
    path("invitations/<str:token>", accounts.accept_invitation, name="accept_invitation"),
    # A customer's booking, from the link in their messages.
    path("manage/<str:token>", booking_page.manage_booking, name="manage_booking"),
    path("manage/<str:token>/reschedule", booking_page.manage_reschedule, name="manage_reschedule"),
    # Calendar feeds of bookings, behind secret tokens (slotwise.calendars.feeds).
    path("calendars/resource/<str:token>.ics", feeds.resource_feed, name="resource-feed"),
    path("calendars/me/<str:token>.ics", feeds.customer_feed, name="customer-feed"),
    # Waitlist emails' links: an offer to claim, and leaving the list.
    path("waitlist/offer/<str:token>", waitlist.offer_page, name="waitlist-offer"),
    path("waitlist/leave/<str:token>", waitlist.leave_page, name="waitlist-leave"),
    # Joining a waitlist when no time suits (from the booking and manage pages).
    path("waitlist/join", waitlist.join_page, name="waitlist-join"),
    # Booking pages: an organization's services, a service's days and slots, the details.
    path("book/", include("slotwise.web.urls")),
    # Paying for a booking that needs it (slotwise.payments.views).
    path("pay/", include("slotwise.payments.urls")),
    path("api/v1/", include("slotwise.api.urls")),
    # Staff: bookings, hours, services, team and settings (slotwise.dashboard).
    path("dashboard/", include("slotwise.dashboard.urls")),
    path("admin/", admin.site.urls),
]
