"""On PostgreSQL, no two exclusive allocations of one resource may overlap.

The booking engine already serialises bookings of a resource with row locks
and re-checks under them; this constraint is the database's own last line
of defence. It needs btree_gist (a trusted extension: the database owner may
create it). SQLite has no such constraint; there, `BEGIN IMMEDIATE`
serialises every write.
"""

from django.db import migrations

CONSTRAINT = """
ALTER TABLE bookings_allocation ADD CONSTRAINT allocation_no_overlap
EXCLUDE USING gist (resource_id WITH =, tstzrange(blocked_start, blocked_end, '[)') WITH &&)
WHERE (exclusive)
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(CONSTRAINT)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        "ALTER TABLE bookings_allocation DROP CONSTRAINT IF EXISTS allocation_no_overlap"
    )


class Migration(migrations.Migration):
    dependencies = [("bookings", "0002_booking_engine")]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
