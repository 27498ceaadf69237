"""The database cache slotwise uses when no Redis is configured.

It is Django's ``DatabaseCache`` with one change: ``incr`` (and so ``decr``)
is atomic across processes, as Redis's is, so that several server processes
counting requests on one key never lose a count. The table is
``slotwise_cache`` (:data:`slotwise.config.CACHE_TABLE`); the bookings app's
migrations create it, and ``slotwise migrate`` runs ``createcachetable`` too.
"""

from __future__ import annotations

from typing import Any

from django.core.cache.backends import db
from django.db import connections, router, transaction

__all__ = ["DatabaseCache"]


class DatabaseCache(db.DatabaseCache):
    """``django.core.cache.backends.db.DatabaseCache`` with an atomic ``incr``.

    Django's reads the value and writes it back, so two processes adding 1 to
    5 at once may both write 6. Here the read and the write run in one
    transaction that first takes the row's write lock (PostgreSQL) or the
    database's (SQLite, whose transactions slotwise begins IMMEDIATE): the
    second increment waits for the first to commit, then reads 6.
    """

    def incr(self, key: Any, delta: int = 1, version: int | None = None) -> Any:
        alias = router.db_for_write(self.cache_model_class)
        connection = connections[alias]
        quote = connection.ops.quote_name
        lock = (
            f"UPDATE {quote(self._table)} SET {quote('expires')} = {quote('expires')} "  # noqa: S608 (quoted names)
            f"WHERE {quote('cache_key')} = %s"
        )
        with transaction.atomic(using=alias):
            with connection.cursor() as cursor:
                cursor.execute(lock, [self.make_and_validate_key(key, version=version)])
            return super().incr(key, delta, version)
