"""A member's agenda: each morning, the day's bookings of the resources that are them.

Members who switched it on (``Membership.daily_agenda``) get one email a day,
written the first time the worker runs after 07:00 in their zone (that of
their resource, else the organization's), listing that local day's held,
pending and confirmed bookings. A day with nothing booked sends nothing. The
outbox's unique key makes one agenda per member and day, however many
workers plan at once.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext

from slotwise.accounts.models import Membership
from slotwise.bookings.local_times import describe_span
from slotwise.bookings.models import Booking, BookingStatus
from slotwise.catalog.models import Resource
from slotwise.notifications.emails import assemble
from slotwise.notifications.models import Message, MessageKind
from slotwise.organizations.tenancy import unscoped

__all__ = ["AGENDA_HOUR", "agenda_bookings", "build_agenda_email", "plan_agendas"]

AGENDA_HOUR = 7
_LISTED = (BookingStatus.HELD, BookingStatus.PENDING, BookingStatus.CONFIRMED)


def plan_agendas(now: datetime) -> int:
    """Write today's agenda of every member who wants one and whose morning has
    come; how many were new."""
    with unscoped():
        members = list(
            Membership.objects.filter(daily_agenda=True).select_related("user", "organization")
        )
        zones = dict(
            Resource.objects.filter(user__in=[m.user_id for m in members], active=True)
            .order_by("pk")
            .values_list("user_id", "time_zone")
        )
        agendas = []
        for member in members:
            zone = ZoneInfo(zones.get(member.user_id) or member.organization.time_zone)
            local = now.astimezone(zone)
            if local.hour < AGENDA_HOUR:
                continue
            agendas.append(
                Message(
                    organization_id=member.organization_id,
                    booking=None,
                    kind=MessageKind.AGENDA,
                    occurrence=f"agenda:{local.date().isoformat()}",
                    recipient=member.user.email,
                    context={
                        "date": local.date().isoformat(),
                        "zone": zone.key,
                        "user_id": member.user_id,
                    },
                    created_at=now,
                    due_at=now,
                    next_attempt_at=now,
                )
            )
        before = Message.objects.filter(kind=MessageKind.AGENDA).count()
        Message.objects.bulk_create(agendas, ignore_conflicts=True)
        return Message.objects.filter(kind=MessageKind.AGENDA).count() - before


def agenda_bookings(message: Message) -> list[Booking]:
    """The bookings an agenda lists: that day's, on the member's resources, by start."""
    zone = ZoneInfo(message.context["zone"])
    day = date.fromisoformat(message.context["date"])
    first = datetime.combine(day, time(0), zone)
    last = datetime.combine(day + timedelta(days=1), time(0), zone)
    with unscoped():
        theirs = Resource.objects.filter(
            organization_id=message.organization_id, user_id=message.context["user_id"]
        )
        return list(
            Booking.objects.filter(
                organization_id=message.organization_id,
                allocations__resource__in=theirs,
                status__in=_LISTED,
                starts_at__gte=first,
                starts_at__lt=last,
            )
            .select_related("service")
            .distinct()
            .order_by("starts_at", "pk")
        )


def build_agenda_email(message: Message) -> EmailMultiAlternatives:
    from slotwise.organizations.models import Organization

    organization = Organization.objects.get(pk=message.organization_id)
    zone = ZoneInfo(message.context["zone"])
    day = date.fromisoformat(message.context["date"])
    bookings = agenda_bookings(message)
    with translation.override(organization.locale):
        subject = gettext("Your bookings on %(day)s (%(zone)s): %(count)d") % {
            "day": f"{day:%a} {day.day} {day:%b}",
            "zone": zone.key,
            "count": len(bookings),
        }
        rows = [
            {
                "when": describe_span(b.starts_at, b.ends_at, zone),
                "service": b.service.name,
                "customer": b.customer_name or b.customer_email,
                "phone": b.customer_phone,
                "seats": b.seats,
                "status": b.status,
            }
            for b in bookings
        ]
        context = {"subject": subject, "organization": organization.name, "rows": rows}
        text = render_to_string("notifications/email/agenda.txt", context)
        html = render_to_string("notifications/email/agenda.html", context)
    return assemble(message, subject, text, html)
