"""The Django admin at ``/admin/``: for superusers only, and for looking, not editing.

Everything that changes bookings, hours, members or money goes through the
services (and so through their locks, permissions and audit log), from the
dashboard or the API. The admin is the operator's window onto the rows
themselves: superusers sign in through the site's own sign-in (with its
two-factor step), see every organization's rows (tenancy is lifted for them,
as for a command run on the server) and may only switch a user account off or
on. Members of organizations never see it, whatever their role.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.contrib import admin
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django_scopes import scopes_disabled

from slotwise.accounts.models import Invitation, Membership, User
from slotwise.audit.models import AuditEntry
from slotwise.bookings.models import Booking, BookingEvent
from slotwise.catalog.models import Resource, Schedule, Service
from slotwise.notifications.models import Message
from slotwise.organizations.models import ApiKey, Organization
from slotwise.payments.models import LedgerEntry, Payment

__all__ = ["site"]


class SuperuserAdminSite(admin.AdminSite):
    site_header = "slotwise"
    site_title = "slotwise admin"
    index_title = "Rows, for superusers"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and user.is_superuser)

    def login(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        """The site's own sign-in, two-factor and throttling included; never a second form."""
        target = request.GET.get("next") or reverse("admin:index")
        if request.user.is_authenticated:
            # Signed in but not a superuser: the admin is not theirs.
            return HttpResponseRedirect(reverse("home"))
        return HttpResponseRedirect(reverse("account_login") + "?" + urlencode({"next": target}))

    def admin_view(self, view: Callable[..., Any], cacheable: bool = False) -> Callable[..., Any]:
        wrapped = super().admin_view(view, cacheable)

        @wraps(wrapped)
        def unscoped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            with scopes_disabled():
                return wrapped(request, *args, **kwargs)

        return unscoped


site = SuperuserAdminSite(name="admin")


class ReadOnly(admin.ModelAdmin):
    """Rows to look at: no adding, changing or deleting from the admin."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return site.has_permission(request)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return site.has_permission(request)


@admin.register(User, site=site)
class UserAdmin(ReadOnly):
    list_display = (
        "email",
        "is_active",
        "is_superuser",
        "date_joined",
        "last_login",
    )
    list_filter = (
        "is_active",
        "is_superuser",
    )
    search_fields = ("email",)
    fields = (
        "email",
        "is_active",
        "is_superuser",
        "date_joined",
        "last_login",
    )
    readonly_fields = (
        "email",
        "is_superuser",
        "date_joined",
        "last_login",
    )
    actions = (
        "switch_off",
        "switch_on",
    )

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Only is_active may change: switching an account off is an operator's job.
        return site.has_permission(request)

    @admin.action(description="Switch the selected accounts off")
    def switch_off(self, request: HttpRequest, queryset: Any) -> None:
        queryset.exclude(pk=request.user.pk).update(is_active=False)

    @admin.action(description="Switch the selected accounts on")
    def switch_on(self, request: HttpRequest, queryset: Any) -> None:
        queryset.update(is_active=True)


@admin.register(Organization, site=site)
class OrganizationAdmin(ReadOnly):
    list_display = (
        "name",
        "slug",
        "time_zone",
    )
    search_fields = (
        "name",
        "slug",
    )


@admin.register(Membership, site=site)
class MembershipAdmin(ReadOnly):
    list_display = (
        "user",
        "organization",
        "role",
    )
    list_filter = ("role",)
    list_select_related = (
        "user",
        "organization",
    )


@admin.register(Invitation, site=site)
class InvitationAdmin(ReadOnly):
    list_display = (
        "email",
        "organization",
        "role",
        "expires_at",
        "accepted_at",
        "revoked_at",
    )
    list_select_related = ("organization",)
    exclude = ("token_hash",)


@admin.register(ApiKey, site=site)
class ApiKeyAdmin(ReadOnly):
    list_display = (
        "name",
        "prefix",
        "organization",
    )
    list_select_related = ("organization",)
    exclude = ("secret_hash",)


@admin.register(Schedule, site=site)
class ScheduleAdmin(ReadOnly):
    list_display = (
        "name",
        "organization",
        "holiday_country",
    )
    list_select_related = ("organization",)


@admin.register(Resource, site=site)
class ResourceAdmin(ReadOnly):
    list_display = (
        "name",
        "organization",
        "time_zone",
        "active",
    )
    list_select_related = ("organization",)


@admin.register(Service, site=site)
class ServiceAdmin(ReadOnly):
    list_display = (
        "name",
        "slug",
        "organization",
        "active",
    )
    list_select_related = ("organization",)


@admin.register(Booking, site=site)
class BookingAdmin(ReadOnly):
    list_display = (
        "pk",
        "organization",
        "service",
        "starts_at",
        "ends_at",
        "status",
    )
    list_filter = ("status",)
    list_select_related = (
        "organization",
        "service",
    )
    search_fields = (
        "customer_email",
        "customer_name",
    )
    date_hierarchy = "starts_at"
    exclude = ("manage_token_hash",)


@admin.register(BookingEvent, site=site)
class BookingEventAdmin(ReadOnly):
    list_display = (
        "pk",
        "booking",
        "action",
        "at",
    )
    list_select_related = ("booking",)


@admin.register(Message, site=site)
class MessageAdmin(ReadOnly):
    list_display = (
        "pk",
        "kind",
        "channel",
        "status",
        "due_at",
        "sent_at",
    )
    list_filter = (
        "status",
        "channel",
    )


@admin.register(Payment, site=site)
class PaymentAdmin(ReadOnly):
    list_display = (
        "pk",
        "booking",
        "status",
        "amount_minor",
        "currency",
    )
    list_filter = ("status",)
    exclude = ("client_secret",)


@admin.register(LedgerEntry, site=site)
class LedgerEntryAdmin(ReadOnly):
    list_display = (
        "pk",
        "payment",
        "kind",
        "status",
        "amount_minor",
        "currency",
    )


@admin.register(AuditEntry, site=site)
class AuditEntryAdmin(ReadOnly):
    list_display = (
        "pk",
        "organization",
        "action",
        "at",
    )
    list_select_related = ("organization",)
