"""An index that lets a tag's topic list walk the topics in list order.

taggit keeps a tagged object's id as an integer while a topic's id is a bigint, so Django joins
them on `object_id::bigint`, which no taggit index serves: PostgreSQL then joined every topic
carrying a popular tag and sorted them all (20,000 at a million posts, 80 ms). With an index on
that very expression it walks `topic_live_latest` and probes each topic's tags, stopping after a
page (1 ms). SQLite compares without a cast and uses taggit's own index, so this is PostgreSQL's.
"""
from django.db import migrations

INDEX = "taggeditem_object_bigint"


def create(apps, schema_editor):
    # CONCURRENTLY: tagging goes on while a large table is indexed. An index left invalid by an
    # interrupted build is dropped first (IF NOT EXISTS would keep it).
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT NOT indisvalid FROM pg_index WHERE indexrelid = to_regclass(%s)", [INDEX])
        row = cursor.fetchone()
    if row and row[0]:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")
    schema_editor.execute(
        f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} ON taggit_taggeditem "
        "(((object_id)::bigint), tag_id, content_type_id)"
    )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run in a transaction

    dependencies = [
        ("forum", "0010_topic_list_indexes"),
        ("taggit", "0006_rename_taggeditem_content_type_object_id_taggit_tagg_content_8fc721_idx"),
    ]

    operations = [migrations.RunPython(create, drop, atomic=False, elidable=False)]
