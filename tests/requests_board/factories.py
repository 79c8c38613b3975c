"""Data requests made through the services, like real ones. All data is obviously synthetic."""
import datetime

from django.utils import timezone

from requests_board import services


def request_details(category, **overrides) -> dict:
    """A complete, valid set of request details; override any field."""
    details = {
        "title": "Estimate the incubation period for Jane Testpatient's synthetic cohort",
        "question": "A CSV of 120 *synthetic* case reports. How long is the incubation period?",
        "category": category,
        "modality": "tabular",
        "data_size": "small",
        "data_links": ["https://zenodo.org/records/0000001"],
        "result_description": "The median and its 95% interval.",
        "result_type": "answer",
        "deadline": timezone.localdate() + datetime.timedelta(days=14),
        "expertise": ["statistics"],
        "serves_covid": True,
        "patient_data": "no",
        "data_license": "CC-BY-SA-4.0",  # the forms preselect it; the service has no silent default
    }
    details.update(overrides)
    return details


def make_request(author, category, *, publish=True, **overrides):
    """A published (or draft) request by `author` in `category`."""
    return services.request_submit(actor=author, details=request_details(category, **overrides), publish=publish)


def make_claimed(author, volunteer, category, **overrides):
    data_request = make_request(author, category, **overrides)
    claim = services.request_claim(actor=volunteer, data_request_id=data_request.pk)
    data_request.refresh_from_db()
    return data_request, claim


def make_delivered(author, volunteer, category, **overrides):
    data_request, claim = make_claimed(author, volunteer, category, **overrides)
    result = services.result_deliver(
        actor=volunteer, data_request_id=data_request.pk, summary="The median is 5.1 days (synthetic).",
        repository_url="https://github.com/example/incubation", license="BSD-3-Clause",
    )
    data_request.refresh_from_db()
    return data_request, claim, result
