"""``Idempotency-Key`` for POSTs that create or change: a retry gets the first answer.

A client sends a unique key (a random UUID) with a POST. The first request
with that key claims it and runs; its answer is stored. Another request
with the same key and the same body gets that stored answer (with
``Idempotent-Replayed: true``), without running again; with a different
body it is refused (422 ``idempotency-key-reused``). While the first
request is still running, a second gets 409 ``idempotency-in-progress``;
a claim left by a request that died is taken over after
:data:`STALE_AFTER`. Answers of 5xx are not kept, so such a request can be
retried with the same key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Header

from slotwise.api.problems import problem_response
from slotwise.bookings.models import IdempotencyKey

__all__ = ["HEADER", "STALE_AFTER", "IdempotencyHeader", "idempotent"]

HEADER = "Idempotency-Key"
IdempotencyHeader = Annotated[
    str | None,
    Header(alias=HEADER, description="A random value (a UUID) that makes retrying this POST safe."),
]
"""The header as an endpoint parameter, so that it is in the OpenAPI document."""
STALE_AFTER = timedelta(seconds=60)
MIN_LENGTH, MAX_LENGTH = 16, 255


def idempotent(
    request: HttpRequest,
    scope: str,
    handler: Callable[[], HttpResponse],
    *,
    key: str | None = None,
    body: bytes | None = None,
) -> HttpResponse:
    """Run ``handler`` once per ``Idempotency-Key`` within ``scope``; without a key, always.

    ``key`` stands in for the header where a form carries it in a hidden field,
    and ``body`` for the request body where the form's fields are already read.
    """
    if key is None:
        key = request.headers.get(HEADER)
    if key is None:
        return handler()
    if not MIN_LENGTH <= len(key) <= MAX_LENGTH or not key.isascii() or not key.isprintable():
        return problem_response(
            400,
            "invalid-idempotency-key",
            "Invalid Idempotency-Key",
            f"An {HEADER} is {MIN_LENGTH} to {MAX_LENGTH} printable ASCII characters; "
            "a random UUID is a good one.",
        )
    scope = f"{scope} {request.method} {request.path}"
    digest = hashlib.sha256(request.body if body is None else body).hexdigest()
    claim = _claim(scope, key, digest)
    if isinstance(claim, HttpResponse):
        return claim
    try:
        response = handler()
    except BaseException:
        claim.delete()
        raise
    if response.status_code >= 500:
        claim.delete()
    else:
        claim.status = response.status_code
        claim.body = response.content
        claim.content_type = response.get("Content-Type", "")
        claim.save(update_fields=["status", "body", "content_type"])
    return response


def _claim(scope: str, key: str, digest: str) -> IdempotencyKey | HttpResponse:
    """The new claim on ``key``, or the answer to give instead of running again."""
    now = timezone.now()
    try:
        with transaction.atomic():
            return IdempotencyKey.objects.create(
                scope=scope, key=key, request_hash=digest, created_at=now
            )
    except IntegrityError:
        pass
    found = IdempotencyKey.objects.filter(scope=scope, key=key).first()
    if found is None:  # deleted in between: its request failed; try once more
        return _claim(scope, key, digest)
    if found.request_hash != digest:
        return problem_response(
            422,
            "idempotency-key-reused",
            "Idempotency-Key reused",
            f"This {HEADER} was used for a different request; use a new key for a new request.",
        )
    if found.status is None:
        taken_over = IdempotencyKey.objects.filter(
            pk=found.pk, status__isnull=True, created_at__lt=now - STALE_AFTER
        ).update(created_at=now)
        if taken_over:
            found.created_at = now
            return found
        response = problem_response(
            409,
            "idempotency-in-progress",
            "Request in progress",
            f"A request with this {HEADER} is still being processed; retry in a moment.",
        )
        response["Retry-After"] = "1"
        return response
    replay = HttpResponse(
        bytes(found.body or b""), status=found.status, content_type=found.content_type
    )
    replay["Idempotent-Replayed"] = "true"
    return replay
