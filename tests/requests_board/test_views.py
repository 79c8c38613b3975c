"""The request pages as a person uses them: forms explain refusals and save nothing."""
import datetime

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from forum import services as forum_services
from forum.models import Post, Topic
from forum.permissions import Role
from requests_board.models import Claim, DataRequest
from tests.forum.factories import UserFactory
from tests.helpers import sign_in
from tests.requests_board.factories import make_claimed, make_delivered, make_request

pytestmark = pytest.mark.django_db


def form_data(category, **overrides):
    data = {
        "title": "Synthetic incubation periods",
        "question": "120 synthetic case reports: how long is the incubation period?",
        "category": category.pk,
        "modality": "tabular",
        "data_size": "small",
        "data_links": "https://zenodo.org/records/1234567\nhttps://osf.io/abcd1/",
        "result_description": "A median with a 95% interval.",
        "result_type": "answer",
        "deadline": (timezone.localdate() + datetime.timedelta(days=7)).isoformat(),
        "expertise": "statistics, epidemiology",
        "serves_covid": "on",
        "patient_data": "no",
        "data_license": "CC-BY-SA-4.0",  # preselected by the form, so a browser always sends it
        "action": "publish",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_publishing_through_the_form(client, requester, public_category):
    sign_in(client, requester)
    response = client.post("/requests/new/", form_data(public_category))
    data_request = DataRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == data_request.get_absolute_url()
    assert data_request.state == "open" and data_request.data_links == [
        "https://zenodo.org/records/1234567", "https://osf.io/abcd1/"]
    page = client.get(response["Location"]).content.decode()
    assert "(Zenodo)" in page and "(OSF)" in page


@pytest.mark.parametrize(("overrides", "words"), [
    ({"serves_covid": None}, "serves mitigating COVID-19"),
    ({"patient_data": None}, "whether the data may identify a patient"),
    ({"data_links": "ftp://example.org/data"}, "is not a web address starting with https://"),
    ({"deadline": "2020-01-01"}, "This date is in the past"),
    ({"deadline": "next tuesday"}, "Enter a valid date"),
    ({"modality": "smell"}, "Select a valid choice"),
    ({"title": ""}, "short title"),
    ({"data_license": None}, "Choose the license of your data; CC-BY-SA-4.0 is the default."),
])
def test_bad_input_is_explained_and_nothing_is_saved(client, requester, public_category, overrides, words):
    sign_in(client, requester)
    response = client.post("/requests/new/", form_data(public_category, **overrides))
    assert response.status_code == 400
    assert words in response.content.decode()
    assert DataRequest.objects.count() == 0 and Topic.objects.count() == 0


def test_a_draft_is_saved_with_little_and_published_later(client, requester, public_category):
    sign_in(client, requester)
    response = client.post("/requests/new/", {"title": "Half done", "category": public_category.pk,
                                              "action": "draft"})
    draft = DataRequest.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/requests/{draft.pk}/edit/"
    assert draft.state == "draft" and draft.topic is None
    assert "Half done" in client.get("/requests/mine/").content.decode()
    response = client.post(f"/requests/{draft.pk}/edit/", form_data(public_category, title="Half done"))
    draft.refresh_from_db()
    assert draft.state == "open" and response["Location"] == draft.get_absolute_url()


def test_the_edit_form_starts_from_the_current_question(client, requester, public_category):
    data_request = make_request(requester, public_category)
    first_post = Post.objects.get(topic=data_request.topic, number=1)
    forum_services.post_edit(actor=requester, post_id=first_post.pk, raw="Edited in the forum.")
    sign_in(client, requester)
    page = client.get(f"/requests/{data_request.pk}/edit/").content.decode()
    assert "Edited in the forum." in page


def test_claim_above_the_limit_is_explained(client, settings, requester, volunteer, public_category):
    settings.REQUESTS_MAX_ACTIVE_CLAIMS = 1
    make_claimed(requester, volunteer, public_category, title="Already mine")
    second = make_request(requester, public_category, title="One more")
    sign_in(client, volunteer)
    response = client.post(f"/requests/{second.pk}/claim/", {"plan": ""})
    assert response.status_code == 400
    assert "1 active claims, the most allowed" in response.content.decode()
    assert not Claim.objects.filter(data_request=second).exists()


def test_accepting_someone_elses_request_is_refused_with_a_message(client, requester, volunteer, public_category):
    _data_request, _claim, result = make_delivered(requester, volunteer, public_category)
    other = UserFactory(roles=[Role.REQUESTER])
    sign_in(client, other)
    response = client.post(f"/results/{result.pk}/accept/")
    assert response.status_code == 302
    assert messages_of(response) == ["Only the person who asked can accept a result."]
    result.refresh_from_db()
    assert result.accepted_at is None and DataRequest.objects.get().state == "delivered"


def test_a_refused_transition_says_why(client, requester, volunteer, public_category):
    data_request, claim, result = make_delivered(requester, volunteer, public_category)
    sign_in(client, requester)
    response = client.post(f"/requests/{data_request.pk}/withdraw/", {"reason": ""})
    assert response.status_code == 400
    assert "only open or claimed requests can be withdrawn" in response.content.decode()
    assert DataRequest.objects.get().state == "delivered"


def test_result_form_refuses_a_missing_repository_and_unknown_license(client, requester, volunteer,
                                                                       public_category):
    data_request, _claim = make_claimed(requester, volunteer, public_category)
    sign_in(client, volunteer)
    page = client.get(f"/requests/{data_request.pk}/result/").content.decode()
    assert 'value="BSD-3-Clause"' in page  # the default for an answer
    response = client.post(f"/requests/{data_request.pk}/result/", {
        "summary": "Done", "repository_url": "", "license": "Do-What-You-Like"})
    body = response.content.decode()
    assert response.status_code == 400 and "open repository or archive" in body
    assert "is not one of the licenses allowed here" in body
    assert not data_request.results.exists()


def test_close_needs_a_reason(client, requester, moderator, public_category):
    data_request = make_request(requester, public_category)
    sign_in(client, moderator)
    response = client.post(f"/requests/{data_request.pk}/close/", {"reason": ""})
    assert response.status_code == 400 and "Please say why" in response.content.decode()
    response = client.post(f"/requests/{data_request.pk}/close/", {"reason": "Duplicate"})
    assert response.status_code == 302 and DataRequest.objects.get().state == "closed"


def test_board_filters_and_orders_by_urgency(client, requester, volunteer, public_category):
    today = timezone.localdate()
    make_request(requester, public_category, title="Due in a month", deadline=today + datetime.timedelta(30))
    make_request(requester, public_category, title="Due tomorrow", deadline=today + datetime.timedelta(1))
    make_request(requester, public_category, title="No deadline, unclaimed", deadline=None)
    make_claimed(requester, volunteer, public_category, title="No deadline, claimed",
                                   deadline=None)
    make_request(requester, public_category, title="Imaging one", deadline=None, modality="imaging",
                           expertise=["imaging"])
    body = client.get("/requests/").content.decode()
    titles = ["Due tomorrow", "Due in a month", "No deadline, unclaimed", "Imaging one", "No deadline, claimed"]
    order = [body.index(title) for title in titles]
    assert order == sorted(order)
    body = client.get("/requests/?modality=imaging").content.decode()
    assert "Imaging one" in body and "Due tomorrow" not in body
    body = client.get("/requests/?tag=imaging").content.decode()
    assert "Imaging one" in body and "Due tomorrow" not in body
    body = client.get("/requests/?has_deadline=on").content.decode()
    assert "Due tomorrow" in body and "No deadline" not in body
    body = client.get("/requests/?unclaimed=on").content.decode()
    assert "No deadline, unclaimed" in body and "No deadline, claimed" not in body
    body = client.get("/requests/?state=claimed").content.decode()
    assert "No deadline, claimed" in body and "Due tomorrow" not in body
    body = client.get("/requests/?state=nonsense&modality=smell").content.decode()
    assert "Due tomorrow" in body  # unknown filters are ignored, not an error


def test_matches_show_open_requests_for_my_expertise(client, requester, volunteer, public_category):
    volunteer.expertise.add("imaging")
    make_request(requester, public_category, title="An imaging request", expertise=["imaging"])
    make_request(requester, public_category, title="A statistics request", expertise=["statistics"])
    sign_in(client, volunteer)
    body = client.get("/requests/matches/").content.decode()
    assert "An imaging request" in body and "A statistics request" not in body


def test_my_claims_show_when_the_reminder_comes(client, settings, requester, volunteer, public_category):
    settings.REQUESTS_CLAIM_REMIND_AFTER_DAYS = 5
    make_claimed(requester, volunteer, public_category, title="Mine to do")
    sign_in(client, volunteer)
    body = client.get("/requests/claims/").content.decode()
    remind_on = timezone.localdate() + datetime.timedelta(days=5)
    assert "Mine to do" in body and remind_on.strftime("%Y") in body


def test_dashboard_counts_public_requests_only(client, requester, volunteer, public_category,
                                               anonymization_category):
    make_request(requester, public_category, title="Public one")
    make_request(requester, public_category, title="Private one", patient_data="yes")
    data_request, _claim, result = make_delivered(requester, volunteer, public_category, title="Solved one")
    from requests_board import services

    services.result_accept(actor=requester, result_id=result.pk)
    response = client.get("/requests/dashboard/")
    figures = response.context["figures"]
    assert (figures.open, figures.claimed, figures.delivered, figures.accepted_this_week) == (1, 0, 0, 1)
    assert figures.median_to_first_claim is not None and figures.median_to_accepted is not None
    assert sum(count for _week, count in figures.weeks) == 2
    body = response.content.decode()
    assert '<svg role="img"' in body and "<title" in body and "<table" in body


def test_board_pages_count_from_the_state_counts(client, monkeypatch, requester, volunteer, public_category):
    from requests_board import views

    monkeypatch.setattr(views, "REQUESTS_PER_PAGE", 2)
    for number in range(3):
        make_request(requester, public_category, title=f"Open request {number}")
    make_claimed(requester, volunteer, public_category, title="Claimed request")
    assert "Page 1 of 2" in client.get("/requests/").content.decode()
    assert "Page 2 of 2" in client.get("/requests/?page=2").content.decode()
    body = client.get("/requests/?unclaimed=on&page=2").content.decode()
    assert "Page 2 of 2" in body and "Claimed request" not in body
    assert "Page 1 of" not in client.get("/requests/?state=claimed").content.decode()
