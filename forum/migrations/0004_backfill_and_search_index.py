"""Backfill the new counters and first revisions, and build the search index for the database in use.

PostgreSQL keeps a tsvector column on forum_post with a GIN index; SQLite keeps an FTS5 table.
forum/search.py is the only code that reads or writes either.
"""
from django.db import migrations
from django.db.models import Max

SEARCH_CONFIG = "english"


def backfill(apps, schema_editor):
    Topic = apps.get_model("forum", "Topic")
    Post = apps.get_model("forum", "Post")
    PostRevision = apps.get_model("forum", "PostRevision")
    for topic in Topic.objects.all().iterator():
        last = Post.objects.filter(topic=topic).order_by("-number").first()
        Topic.objects.filter(pk=topic.pk).update(
            last_post_number=Post.objects.filter(topic=topic).aggregate(n=Max("number"))["n"] or 0,
            last_poster_id=last.author_id if last else None,
        )
    PostRevision.objects.bulk_create(
        PostRevision(
            post=post, number=1, editor_id=post.author_id, created_at=post.created_at, raw=post.raw,
            title=post.topic.title if post.number == 1 else "",
        )
        for post in Post.objects.select_related("topic").iterator()
    )


def create_search_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("CREATE INDEX post_search_vector_gin ON forum_post USING gin (search_vector)")
        schema_editor.execute(
            "UPDATE forum_post AS p SET search_vector = "
            "setweight(to_tsvector(%s, CASE WHEN p.number = 1 THEN t.title ELSE '' END), 'A') || "
            "setweight(to_tsvector(%s, p.raw), 'B') FROM forum_topic AS t WHERE t.id = p.topic_id",
            [SEARCH_CONFIG, SEARCH_CONFIG],
        )
    elif vendor == "sqlite":
        schema_editor.execute(
            "CREATE VIRTUAL TABLE forum_post_fts USING fts5(title, body, tokenize='porter unicode61')"
        )
        schema_editor.execute(
            "INSERT INTO forum_post_fts (rowid, title, body) SELECT p.id, "
            "CASE WHEN p.number = 1 THEN t.title ELSE '' END, p.raw "
            "FROM forum_post AS p JOIN forum_topic AS t ON t.id = p.topic_id"
        )


def drop_search_index(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS post_search_vector_gin")
    elif vendor == "sqlite":
        schema_editor.execute("DROP TABLE IF EXISTS forum_post_fts")


class Migration(migrations.Migration):
    dependencies = [("forum", "0003_forum_core")]

    operations = [
        migrations.RunPython(backfill, migrations.RunPython.noop),
        migrations.RunPython(create_search_index, drop_search_index),
    ]
