"""How a message leaves: one small interface, one class per channel.

A channel sends one message or raises :class:`DeliveryError` (the dispatcher
then retries later), or :class:`PermanentError` when trying again cannot help
(the message is then failed at once). Sending must be safe to repeat: the
message keeps its ``message_id`` across attempts, so a receiver can recognise
a duplicate.
Email goes through Django's ``MAILERS`` (SMTP in production; printed to the
console in development).
"""

from __future__ import annotations

from slotwise.notifications.models import Message

__all__ = ["CHANNELS", "Channel", "DeliveryError", "EmailChannel", "PermanentError", "register"]


class DeliveryError(Exception):
    """The message could not be handed over this time; try again later."""


class PermanentError(DeliveryError):
    """The message can never be handed over as it is (an invalid number): give up now."""


class Channel:
    """Base class: deliver one message, or raise :class:`DeliveryError`."""

    name = ""

    def skip_reason(self, message: Message) -> str:
        """Why ``message`` is no longer worth sending (it is then marked skipped with
        this reason, and not sent); empty to send it. Asked before every attempt."""
        return ""

    def send(self, message: Message) -> None:
        raise NotImplementedError


class EmailChannel(Channel):
    """Email: HTML and text with a calendar attachment (:mod:`.emails`)."""

    name = "email"

    def send(self, message: Message) -> None:
        from anymail.exceptions import AnymailAPIError, AnymailError, AnymailRecipientsRefused

        from slotwise.notifications.emails import build_email

        email = build_email(message)
        try:
            sent = email.send(fail_silently=False)
        except (OSError, ConnectionError) as error:  # smtplib's errors are OSErrors
            raise DeliveryError(f"{type(error).__name__}: {error}") from error
        except AnymailRecipientsRefused as error:  # the provider refuses the address
            raise PermanentError(f"{type(error).__name__}: {str(error)[:300]}") from error
        except AnymailAPIError as error:  # an email provider's API said no
            status = getattr(error, "status_code", None)
            refused = status is not None and 400 <= status < 500 and status not in (401, 429)
            raise (PermanentError if refused else DeliveryError)(
                f"{type(error).__name__}: {str(error)[:300]}"
            ) from error
        except AnymailError as error:
            raise DeliveryError(f"{type(error).__name__}: {str(error)[:300]}") from error
        if not sent:
            raise DeliveryError("The mail server accepted nothing.")


CHANNELS: dict[str, Channel] = {}


def register(channel: Channel) -> Channel:
    """Make ``channel`` deliver the messages whose ``channel`` is its name."""
    CHANNELS[channel.name] = channel
    return channel


register(EmailChannel())
