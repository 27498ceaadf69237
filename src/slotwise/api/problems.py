"""RFC 9457 problem details: every error the API answers is ``application/problem+json``.

A problem names its kind in ``type`` (``urn:slotwise:problem:not-found``),
which clients should branch on; ``title`` is the same for every problem of
that kind and ``detail`` explains this occurrence. Request validation
failures add ``errors``, one entry per offending field.
"""

from __future__ import annotations

import json
import math
from http import HTTPStatus
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "FieldError",
    "Problem",
    "ValidationProblem",
    "install_problem_handlers",
    "not_found",
    "problem_response",
    "problem_type",
    "rate_limited",
    "unauthorized",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_type(kind: str) -> str:
    return f"urn:slotwise:problem:{kind}"


class Problem(Schema):
    """An RFC 9457 problem."""

    type: str
    title: str
    status: int
    detail: str


class FieldError(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationProblem(Problem):
    """A request that does not match the API's description; ``errors`` says where."""

    errors: list[FieldError]


def problem_response(
    status: int, kind: str | None, title: str, detail: str, **extra: Any
) -> HttpResponse:
    """An ``application/problem+json`` response; ``kind=None`` is ``about:blank``."""
    body = {
        "type": problem_type(kind) if kind else "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        **extra,
    }
    return HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)


def not_found(detail: str = "There is nothing here.") -> HttpResponse:
    return problem_response(404, "not-found", "Not found", detail)


def install_problem_handlers(api: NinjaAPI) -> None:
    """Answer ninja's own errors (bad parameters, 404, HttpError, Throttled) as problems."""
    api.add_exception_handler(ValidationError, _validation_problem)
    api.add_exception_handler(Http404, lambda request, exc: not_found())
    api.add_exception_handler(HttpError, _http_error_problem)
    api.add_exception_handler(Throttled, rate_limited)
    api.add_exception_handler(AuthenticationError, unauthorized)


def unauthorized(request: HttpRequest, exc: Exception | None = None) -> HttpResponse:
    """401 for a request without usable credentials, with its RFC 6750 challenge."""
    if request.headers.get("Authorization", "").lower().startswith("bearer "):
        detail = "The API key is not valid: it is mistyped, unknown or revoked."
        challenge = 'Bearer error="invalid_token"'
    else:
        detail = (
            "Send an organization API key in the header 'Authorization: Bearer <key>', "
            "or sign in (/accounts/login/) as a member of the organization."
        )
        challenge = "Bearer"
    response = problem_response(401, "unauthorized", "Unauthorized", detail)
    response["WWW-Authenticate"] = challenge
    return response


def rate_limited(request: HttpRequest, exc: Throttled) -> HttpResponse:
    """429 ``rate-limited``, saying when to retry, also in ``Retry-After`` (whole seconds)."""
    if exc.wait is None:
        return problem_response(429, "rate-limited", "Too many requests", f"{exc} Retry later.")
    wait = max(1, math.ceil(exc.wait))
    seconds = "second" if wait == 1 else "seconds"
    response = problem_response(
        429, "rate-limited", "Too many requests", f"{exc} Retry in {wait} {seconds}."
    )
    response["Retry-After"] = str(wait)
    return response


def _validation_problem(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {
            # pydantic's location starts with where the value came from ("query").
            "loc": [str(part) if not isinstance(part, int) else part for part in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors
    ]
    fields = ", ".join(dict.fromkeys(".".join(map(str, e["loc"][1:])) or "request" for e in errors))
    return problem_response(
        422,
        "request-validation",
        "Invalid request parameters",
        f"Check these parameters: {fields}.",
        errors=errors,
    )


def _http_error_problem(request: HttpRequest, exc: HttpError) -> HttpResponse:
    status = exc.status_code
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return problem_response(status, None, title, str(exc))
