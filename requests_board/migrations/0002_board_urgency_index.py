"""The board's urgency order as a partial index, on PostgreSQL only.

It matches selectors.listed's ORDER BY exactly (nearest deadline, open before claimed,
oldest, id) over active requests, so a page reads a few index entries instead of sorting
every active request. SQLite cannot put NULLS LAST in an index; the embedded default
holds little data and needs none.
"""
from django.db import migrations

CREATE = """
CREATE INDEX IF NOT EXISTS request_board_urgency ON requests_board_datarequest (
    deadline ASC NULLS LAST, (CASE WHEN state = 'open' THEN 0 ELSE 1 END), published_at, id
) WHERE state IN ('open', 'claimed', 'in_progress', 'delivered')
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS request_board_urgency")


class Migration(migrations.Migration):
    dependencies = [("requests_board", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
