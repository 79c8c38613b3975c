"""Fixtures for the anonymization app: requests to attach files to, in the channel and public."""
import pytest

from requests_board import services as request_services
from tests.requests_board.factories import make_request

from .files import uploaded


@pytest.fixture
def anonymization_category(private_category):
    return private_category


@pytest.fixture
def pending_request(requester, public_category, anonymization_category):
    """A request whose data may identify a patient: it waits in the Anonymization channel."""
    return make_request(requester, public_category, patient_data="yes")


@pytest.fixture
def public_request(requester, public_category, anonymization_category):
    return make_request(requester, public_category)


@pytest.fixture
def attach(requester):
    """Attach a file to a request as its requester (or `actor`); returns the Upload."""
    def _attach(data_request, name, content, *, actor=None):
        return request_services.request_attach(
            actor=actor or requester, data_request_id=data_request.pk, file=uploaded(name, content), ip="192.0.2.1",
        )
    return _attach
