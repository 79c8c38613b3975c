"""Requests go through the identifier check: a question, title or structured field that may
identify a patient keeps the request private to its author and the anonymization team, whatever
its author said about patient data. All identifiers are synthetic."""
import pytest
from django.test import Client, TestCase

from forum.models import Post, ReviewItem
from requests_board import services
from requests_board.models import DataRequest
from requests_board.permissions import public_requests, request_is_public

from .factories import make_request

pytestmark = pytest.mark.django_db

QUESTION = "Our index case is Jane Fictionpatient, DOB 01/01/1970. How long was her incubation period?"


def committed(function, /, **kwargs):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return function(**kwargs)


def fresh(obj):
    obj.refresh_from_db()
    return obj


def test_a_question_naming_a_patient_holds_a_request_declared_clean(requester, public_category, anonymizer,
                                                                   anonymization_category):
    data_request = make_request(requester, public_category, question=QUESTION)
    assert data_request.patient_data == "no"
    assert not request_is_public(fresh(data_request))
    assert not public_requests(DataRequest.objects.all()).exists()
    item = ReviewItem.objects.get(post__topic=data_request.topic)
    assert item.kind == ReviewItem.Kind.IDENTIFYING and item.personal_data
    assert Client().get(data_request.topic.get_absolute_url()).status_code == 404
    assert "Fictionpatient" not in Client().get("/requests/").content.decode()
    assert "Fictionpatient" not in Client().get("/api/v1/requests/").content.decode()


def test_a_structured_field_naming_a_patient_sends_the_request_to_the_team(requester, public_category,
                                                                          anonymization_category):
    data_request = fresh(make_request(requester, public_category,
                                      result_description="Send it to jane.fictionpatient@example.org"))
    assert data_request.needs_anonymization and data_request.topic.category == anonymization_category
    assert not request_is_public(data_request)


def test_weak_evidence_in_the_title_and_a_field_together_is_read_together(requester, public_category,
                                                                          anonymization_category):
    # A bare name in the title and "born in 1970" beside patients: neither holds alone.
    data_request = make_request(requester, public_category, result_description="The patients born in 1970.")
    assert fresh(data_request).needs_anonymization
    clean = make_request(requester, public_category, title="Incubation period of a synthetic cohort")
    committed(services.request_edit, actor=requester, data_request_id=clean.pk, details=_edit_details(
        fresh(clean), title="Incubation period of Jane Testpatient's cohort",
        result_description="The patients born in 1970."))
    assert fresh(clean).needs_anonymization and not request_is_public(fresh(clean))


def test_clearing_the_held_request_publishes_it(requester, public_category, anonymizer):
    from forum import services as forum_services

    data_request = make_request(requester, public_category, question=QUESTION)
    item = ReviewItem.objects.get(post__topic=data_request.topic)
    forum_services.review_edit(actor=anonymizer, item_id=item.pk, raw="Our index case is one patient.")
    committed(forum_services.review_resolve, actor=anonymizer, item_id=item.pk, action="approve")
    assert request_is_public(fresh(data_request))
    assert Post.objects.get(topic=data_request.topic, number=1).raw == "Our index case is one patient."


def _edit_details(data_request, **changes):
    details = {
        "title": data_request.topic.title, "question": Post.objects.get(topic=data_request.topic, number=1).raw,
        "category": data_request.category, "modality": data_request.modality, "data_size": data_request.data_size,
        "data_links": data_request.data_links, "result_description": data_request.result_description,
        "result_type": data_request.result_type, "deadline": data_request.deadline,
        "expertise": ["statistics"], "serves_covid": True, "patient_data": data_request.patient_data,
        "data_license": data_request.data_license,
    }
    details.update(changes)
    return details


def test_an_edited_question_naming_a_patient_is_held_and_the_old_one_stays(requester, public_category):
    data_request = make_request(requester, public_category)
    before = Post.objects.get(topic=data_request.topic, number=1).raw
    edited = committed(services.request_edit, actor=requester, data_request_id=data_request.pk,
                       details=_edit_details(data_request, question=QUESTION))
    assert edited.edit_held
    assert Post.objects.get(topic=data_request.topic, number=1).raw == before
    assert request_is_public(fresh(data_request))
    assert ReviewItem.objects.get(post__topic=data_request.topic, status="pending").proposed_raw == QUESTION


def test_an_edited_structured_field_naming_a_patient_sends_the_request_to_the_team(requester, public_category,
                                                                                   anonymization_category):
    data_request = make_request(requester, public_category)
    committed(services.request_edit, actor=requester, data_request_id=data_request.pk,
              details=_edit_details(data_request, result_description="Call her on 07700 900123"))
    data_request = fresh(data_request)
    assert data_request.needs_anonymization and not request_is_public(data_request)
    assert data_request.topic.category == anonymization_category
