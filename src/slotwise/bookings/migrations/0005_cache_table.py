"""The database cache's table, where the public API's rate limits count when no
Redis is configured (``SLOTWISE_CACHE_URL``). Every database slotwise migrates,
test databases included, has it; ``createcachetable`` would skip it."""

from django.core.management import call_command
from django.db import migrations

# slotwise.config.CACHE_TABLE, written out: a migration must not change with the code.
CACHE_TABLE = "slotwise_cache"


def create_cache_table(apps, schema_editor):
    call_command(
        "createcachetable", CACHE_TABLE, database=schema_editor.connection.alias, verbosity=0
    )


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {schema_editor.quote_name(CACHE_TABLE)}")


class Migration(migrations.Migration):
    dependencies = [("bookings", "0004_series_manage_token")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
