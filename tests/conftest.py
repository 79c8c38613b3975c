"""Shared fixtures: a clean cache per test, people in every role, demo content."""
import pytest
from django.core.cache import cache

from forum.permissions import Role
from tests.forum.factories import PASSWORD, CategoryFactory, TopicFactory, UserFactory


@pytest.fixture(autouse=True)
def _clean_cache():
    """Rate limits and cached terms live in the cache; no test may see another's."""
    cache.clear()
    yield
    cache.clear()


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
