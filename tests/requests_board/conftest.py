"""Fixtures for the requests board: the Anonymization channel and the Citizen science area exist,
as they do on a seeded site."""
import pytest

from tests.forum.factories import CategoryFactory


@pytest.fixture
def anonymization_category(private_category):
    return private_category


@pytest.fixture
def citizen_science_category(db):
    return CategoryFactory(slug="citizen-science", name="Citizen science")
