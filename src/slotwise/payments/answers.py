"""How the API answers about money: a cancellation quote, and a problem for each
payment refusal (on top of the booking ones, :func:`slotwise.bookings.answers.problem_for`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse

from slotwise import money
from slotwise.api.problems import problem_response
from slotwise.bookings import answers
from slotwise.payments import services as payments

__all__ = ["problem_for", "quote_body"]


def quote_body(quote: payments.Quote) -> dict[str, Any]:
    outcome = quote.outcome
    return {
        "refund_minor": outcome.refund_minor,
        "refund": money.format_minor(outcome.refund_minor, quote.currency),
        "charge_minor": outcome.charge_minor,
        "paid_minor": quote.paid_minor,
        "currency": quote.currency,
        "percent": outcome.percent,
        "rule": outcome.rule,
        "valid_until": answers.utc(quote.valid_until) if quote.valid_until else None,
    }


def problem_for(error: Exception, **options: Any) -> HttpResponse:
    """The problem answer for a payment error, or for a booking one as bookings answer it."""
    if isinstance(error, payments.PaymentRequired):
        return problem_response(
            402,
            "payment-required",
            "Payment required",
            str(error),
            payment_status=error.payment.status,
        )
    if isinstance(error, payments.RefundChanged):
        return problem_response(
            409, "refund-changed", "Refund changed", str(error), quote=quote_body(error.quote)
        )
    if isinstance(error, payments.PaymentsUnavailable):
        response = problem_response(503, "payments-unavailable", "Payment unavailable", str(error))
        response["Retry-After"] = "30"
        return response
    if isinstance(error, payments.PaymentError):
        return problem_response(400, "payment-error", "Payment error", str(error))
    return answers.problem_for(error, **options)  # type: ignore[arg-type]
