"""Shared fixtures: a clean cache per test, people in every role, demo content."""
import datetime
import os

import pytest
from django.core.cache import cache

from forum.permissions import Role
from tests.forum.factories import PASSWORD, CategoryFactory, TopicFactory, UserFactory


@pytest.fixture(autouse=True)
def _upload_storage(settings, tmp_path_factory):
    """Quarantine and published files go to fresh folders, never into the working tree."""
    root = tmp_path_factory.mktemp("uploads")
    settings.STORAGES = {
        **settings.STORAGES,
        "quarantine": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                       "OPTIONS": {"location": str(root / "quarantine"), "base_url": None}},
        "published": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                      "OPTIONS": {"location": str(root / "published"), "base_url": None}},
    }
    yield root


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate limits and cached terms live in the cache; no test may see another's."""
    cache.clear()
    yield
    cache.clear()


DB_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences", "django_db_serialized_rollback"}


@pytest.fixture(autouse=True)
def _first_terms_version(request):
    """The first terms version comes from a data migration, which a transactional
    test's flush removes; put it back for every test that uses the database."""
    uses_db = request.node.get_closest_marker("django_db") or DB_FIXTURES & set(request.fixturenames)
    if uses_db:
        request.getfixturevalue("transactional_db" if _is_transactional(request) else "db")
        from forum.models import TermsVersion

        TermsVersion.objects.get_or_create(
            version="2026-11-01",
            defaults={"published_at": datetime.datetime(2026, 11, 1, tzinfo=datetime.UTC)},
        )


def _is_transactional(request):
    marker = request.node.get_closest_marker("django_db")
    if marker and (marker.kwargs.get("transaction") or (marker.args and marker.args[0])):
        return True
    return bool({"transactional_db", "live_server"} & set(request.fixturenames))


@pytest.fixture
def needs_postgresql():
    """For what only PostgreSQL does (row locks between concurrent writers, its search's ranges and
    time limit): skipped on SQLite, which the README's test command uses, and run by CI's second pass
    on PostgreSQL, which fails it (REQUIRE_SERVICES) if the database is not PostgreSQL."""
    from django.db import connection

    if connection.vendor != "postgresql":
        if os.environ.get("REQUIRE_SERVICES"):
            pytest.fail("REQUIRE_SERVICES is set but the database is not PostgreSQL")
        pytest.skip("needs PostgreSQL: row locks, concurrent writers or its search (CI runs this on it)")


@pytest.fixture
def password():
    return PASSWORD


@pytest.fixture
def member(db):
    return UserFactory()


@pytest.fixture
def requester(db):
    return UserFactory(roles=[Role.REQUESTER])


@pytest.fixture
def volunteer(db):
    return UserFactory(roles=[Role.VOLUNTEER])


@pytest.fixture
def moderator(db):
    return UserFactory(roles=[Role.MODERATOR], totp=True)


@pytest.fixture
def anonymizer(db):
    return UserFactory(roles=[Role.ANONYMIZATION], totp=True)


@pytest.fixture
def public_category(db):
    return CategoryFactory(slug="data-requests", name="Data requests")


@pytest.fixture
def private_category(db):
    return CategoryFactory(
        slug="anonymization", name="Anonymization", private=True,
    )


@pytest.fixture
def public_topic(public_category, requester):
    return TopicFactory(category=public_category, author=requester, title="Public synthetic request")


@pytest.fixture
def private_topic(private_category, requester):
    return TopicFactory(category=private_category, author=requester, title="Private synthetic request")

