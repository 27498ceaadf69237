"""What the processes of a deployment say about themselves."""

from __future__ import annotations

from django.db import models
from django.utils import timezone


class Heartbeat(models.Model):
    """A running worker, by host and process id, and when it last said it was alive.

    Written by each worker every minute (:func:`slotwise.operations.health.beat`);
    ``/readyz`` and ``slotwise doctor`` read the newest. Rows of workers gone
    for a day are deleted by the living ones.
    """

    process = models.CharField(max_length=200, unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    seen_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return f"{self.process} (seen {self.seen_at:%Y-%m-%d %H:%M:%S})"
