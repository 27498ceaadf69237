"""The waitlist's emails: you are on the list, a slot is yours to claim, it went.

Built when sent, from the entry and the offer as they are then, in the
organization's language and the customer's zone. Links carry signed tokens
(:func:`~slotwise.waitlist.services.entry_token`,
:func:`~slotwise.waitlist.services.offer_token`), so nothing secret is stored
in the message.
"""

from __future__ import annotations

from datetime import datetime
from html import escape
from zoneinfo import ZoneInfo

from django.core.mail import EmailMultiAlternatives
from django.utils import translation
from django.utils.translation import gettext

from slotwise.bookings.local_times import describe_moment, describe_span
from slotwise.notifications.emails import assemble
from slotwise.notifications.models import Message, MessageKind
from slotwise.waitlist.models import Offer, OfferStatus, WaitlistEntry
from slotwise.waitlist.services import leave_url, offer_url

__all__ = ["build_waitlist_email", "not_worth_sending"]


def not_worth_sending(message: Message) -> str:
    """Why an offer message need not go out any more (its offer ended), or ``""``."""
    if message.kind != MessageKind.WAITLIST_OFFER:
        return ""
    status = (
        Offer.objects.with_scopes_disabled()
        .filter(pk=message.context.get("offer"))
        .values_list("status", flat=True)
        .first()
    )
    return "" if status == OfferStatus.OPEN else "The offer has ended."


def build_waitlist_email(message: Message) -> EmailMultiAlternatives:
    entry = (
        WaitlistEntry.objects.with_scopes_disabled()
        .select_related("service", "organization")
        .get(pk=message.context["entry"])
    )
    zone = ZoneInfo(entry.customer_time_zone)
    organization, service = entry.organization.name, entry.service.name
    with translation.override(entry.organization.locale):
        if message.kind == MessageKind.WAITLIST_JOINED:
            subject = gettext("You are on the waitlist for %(service)s") % {"service": service}
            lines = [
                gettext("You are on %(organization)s's waitlist for %(service)s: %(wish)s.")
                % {"organization": organization, "service": service, "wish": _wish(entry, zone)},
                gettext("When a slot like that frees up, we email you at once."),
            ]
            link = (gettext("Leave the waitlist"), leave_url(entry))
        else:
            start = datetime.fromisoformat(message.context["start"])
            end = datetime.fromisoformat(message.context["end"])
            when = describe_span(start, end, zone)
            if message.kind == MessageKind.WAITLIST_OFFER:
                offer = Offer.objects.with_scopes_disabled().get(pk=message.context["offer"])
                until = describe_moment(datetime.fromisoformat(message.context["expires_at"]), zone)
                subject = gettext("A slot for %(service)s is free: claim it") % {"service": service}
                lines = [
                    gettext("A slot you were waiting for is free: %(service)s, %(when)s.")
                    % {"service": service, "when": when},
                    (
                        gettext("It is kept for you until %(until)s.")
                        if offer.sequential
                        else gettext(
                            "Others waiting were told too: the first to claim it gets it. "
                            "The offer ends %(until)s."
                        )
                    )
                    % {"until": until},
                ]
                link = (gettext("Claim this slot"), offer_url(offer))
            else:
                subject = gettext("The slot for %(service)s was taken") % {"service": service}
                lines = [
                    gettext("Someone else claimed %(service)s, %(when)s, first.")
                    % {"service": service, "when": when},
                    gettext("You are still on the waitlist."),
                ]
                link = (gettext("Leave the waitlist"), leave_url(entry))
        hello = gettext("Hello %(name)s,") % {"name": entry.customer_name}
    text = "\n\n".join([hello, *lines, f"{link[0]}:\n{link[1]}", organization]) + "\n"
    html = (
        '<!doctype html><html><body style="font-family:sans-serif;">'
        + "".join(f"<p>{escape(p)}</p>" for p in [hello, *lines])
        + f'<p><a href="{escape(link[1])}">{escape(link[0])}</a></p>'
        + f"<p>{escape(organization)}</p></body></html>"
    )
    return assemble(message, " ".join(subject.split()), text, html)


def _wish(entry: WaitlistEntry, zone: ZoneInfo) -> str:
    if entry.slot_start is not None:
        return describe_moment(entry.slot_start, zone)
    days = f"{entry.first_day:%d %b %Y} – {entry.last_day:%d %b %Y}"  # noqa: RUF001
    if entry.earliest or entry.latest:
        earliest = f"{entry.earliest:%H:%M}" if entry.earliest else "00:00"
        latest = f"{entry.latest:%H:%M}" if entry.latest else "24:00"
        days += f", {earliest}–{latest}"  # noqa: RUF001
    return days
