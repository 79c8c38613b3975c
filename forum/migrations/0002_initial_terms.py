"""Publish the first terms version, so sign-up works on every fresh install."""
import datetime

from django.db import migrations

FIRST_VERSION = "2026-11-01"


def publish_first_terms(apps, schema_editor):
    TermsVersion = apps.get_model("forum", "TermsVersion")
    TermsVersion.objects.get_or_create(
        version=FIRST_VERSION,
        defaults={
            "published_at": datetime.datetime(2026, 11, 1, tzinfo=datetime.timezone.utc),
            "summary_of_changes": "First version.",
        },
    )


class Migration(migrations.Migration):
    dependencies = [("forum", "0001_initial")]

    operations = [migrations.RunPython(publish_first_terms, migrations.RunPython.noop)]
