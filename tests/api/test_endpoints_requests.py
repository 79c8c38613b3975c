"""The board's endpoints under /api/v1/: requests (list, filters, orderings, detail, create, edit, claim,
unclaim, updates, results, withdraw, files), results and datasets, with their refusals."""
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from anonymization.models import Upload
from forum import services as forum_services
from forum.permissions import Role
from requests_board import services
from requests_board.models import Claim, DataRequest, RequestEvent, Result
from tests.forum.factories import CategoryFactory, UserFactory
from tests.requests_board.factories import make_claimed, make_delivered, make_request

pytestmark = pytest.mark.django_db
State = DataRequest.State

REQUEST_KEYS = {"id", "title", "state", "category", "author", "topic", "expertise", "modality", "data_size",
                "result_type", "deadline", "data_license", "data_license_state", "claims", "created_at",
                "published_at", "accepted_at", "url"}
DETAIL_KEYS = REQUEST_KEYS | {"question_html", "data_links", "result_description", "serves_covid", "patient_data",
                              "needs_anonymization", "cleared_at", "accepted_result", "close_reason", "results",
                              "updated_at", "actions"}
CLAIM_KEYS = {"id", "volunteer", "role", "part", "plan", "expected_date", "status", "created_at"}
RESULT_KEYS = {"id", "request", "post", "author", "summary_html", "repository_url", "repository_host", "license",
               "repository_license", "license_state", "accepted", "created_at", "accepted_at", "url"}
DATASET_KEYS = {"request", "title", "category", "modality", "data_size", "links", "license", "license_state",
                "published_at", "url"}
POST_KEYS = {"id", "topic", "number", "author", "reply_to_number", "created_at", "edited_at", "like_count", "state",
             "raw", "html", "url"}


# --- Helpers ------------------------------------------------------------------------

def api(user=None, scope="write") -> APIClient:
    client = APIClient()
    if user is not None:
        _token, key = forum_services.api_token_create(actor=user, name="endpoint tests", scope=scope,
                                                             second_factor=True)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def error_code(response) -> str:
    return response.json()["error"]["code"]


def error_fields(response) -> dict:
    return response.json()["error"].get("fields", {})


def ids(response) -> list:
    assert response.status_code == 200, response.content
    return [item["id"] for item in response.json()["results"]]


def collect(client, url, params=None, *, between_pages=None) -> list:
    response = client.get(url, params or {})
    assert response.status_code == 200, response.content
    body = response.json()
    items = list(body["results"])
    pages = 1
    while body["next"]:
        if between_pages is not None:
            between_pages(pages)
        body = client.get(body["next"]).json()
        items.extend(body["results"])
        pages += 1
        assert pages < 200
    return items


def payload(**overrides) -> dict:
    """A complete request as the API takes it."""
    data = {
        "title": "Estimate the incubation period of a synthetic cohort",
        "question": "A CSV of 120 *synthetic* case reports. How long is the incubation period?",
        "category": "data-requests",
        "modality": "tabular",
        "data_size": "small",
        "data_links": ["https://zenodo.org/records/0000001"],
        "result_description": "The median and its 95% interval.",
        "result_type": "answer",
        "deadline": (timezone.localdate() + datetime.timedelta(days=14)).isoformat(),
        "expertise": ["statistics"],
        "serves_covid": True,
        "patient_data": "no",
        "data_license": "CC-BY-SA-4.0",
    }
    data.update(overrides)
    return data


def result_payload(**overrides) -> dict:
    data = {"summary": "The median is 5.1 days (synthetic).", "repository_url": "https://github.com/example/incubation",
            "license": "BSD-3-Clause", "repository_license": "MIT"}
    data.update(overrides)
    return data


@pytest.fixture
def other_volunteer(db):
    return UserFactory(roles=[Role.VOLUNTEER])


# --- The list, its filters and orderings -----------------------------------------------

def test_request_list_shape(requester, volunteer, public_category, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        data_request, claim = make_claimed(requester, volunteer, public_category)
    response = api().get("/api/v1/requests/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    [item] = body["results"]
    assert set(item) == REQUEST_KEYS
    assert item["id"] == data_request.pk and item["state"] == "claimed" and item["category"] == "data-requests"
    assert item["title"] == data_request.topic.title and item["topic"] == data_request.topic_id
    assert item["author"] == {"username": requester.username, "name": requester.name}
    assert item["expertise"] == ["statistics"] and item["modality"] == "tabular"
    assert item["data_license"] == "CC-BY-SA-4.0"
    assert item["data_license_state"] == {"state": "ok", "problems": []}
    assert item["url"] == data_request.topic.get_absolute_url()
    [listed_claim] = item["claims"]
    assert set(listed_claim) == CLAIM_KEYS
    assert listed_claim["id"] == claim.pk and listed_claim["role"] == "lead" and listed_claim["status"] == "active"
    assert listed_claim["volunteer"]["username"] == volunteer.username


def test_request_list_shows_only_what_the_caller_may_see(requester, moderator, anonymizer, volunteer,
                                                         public_category, anonymization_category):
    public = make_request(requester, public_category)
    pending = make_request(requester, public_category, patient_data="yes", title="Synthetic identifying request")
    make_request(requester, public_category, publish=False, title="A synthetic draft")
    assert ids(api().get("/api/v1/requests/")) == [public.pk]
    assert ids(api(volunteer).get("/api/v1/requests/")) == [public.pk]
    for user in (moderator, anonymizer, requester):
        assert set(ids(api(user).get("/api/v1/requests/"))) == {public.pk, pending.pk}


@pytest.fixture
def anonymization_category(private_category):
    return private_category


@pytest.fixture
def board(requester, volunteer, moderator, public_category, django_capture_on_commit_callbacks):
    """Requests in every state and shape the board filters on, by name."""
    other_area = CategoryFactory(slug="genomics-area", name="Genomics area")
    today = timezone.localdate()
    with django_capture_on_commit_callbacks(execute=True):
        rows = {
            "open_soon": make_request(requester, public_category, title="Synthetic open soon",
                                      deadline=today + datetime.timedelta(days=3)),
            "open_late": make_request(requester, public_category, title="Synthetic open late", modality="imaging",
                                      deadline=today + datetime.timedelta(days=30), expertise=["imaging"]),
            "open_none": make_request(requester, other_area, title="Synthetic open without deadline",
                                      deadline=None, result_type="figure", expertise=["genomics"]),
            "claimed": make_claimed(requester, volunteer, public_category, title="Synthetic claimed",
                                    deadline=today + datetime.timedelta(days=10), modality="sequences")[0],
            "accepted": make_delivered(requester, volunteer, public_category, title="Synthetic accepted")[0],
            "withdrawn": make_request(requester, public_category, title="Synthetic withdrawn"),
        }
        result = Result.objects.get(data_request=rows["accepted"])
        services.result_accept(actor=requester, result_id=result.pk)
        services.request_withdraw(actor=requester, data_request_id=rows["withdrawn"].pk)
    for data_request in rows.values():
        data_request.refresh_from_db()
    return rows


@pytest.mark.parametrize("params, expected", [
    ({}, {"open_soon", "open_late", "open_none", "claimed"}),
    ({"state": "active"}, {"open_soon", "open_late", "open_none", "claimed"}),
    ({"state": "open"}, {"open_soon", "open_late", "open_none"}),
    ({"state": "claimed"}, {"claimed"}),
    ({"state": "accepted"}, {"accepted"}),
    ({"state": "withdrawn"}, {"withdrawn"}),
    ({"state": "closed"}, set()),
    ({"category": "genomics-area"}, {"open_none"}),
    ({"category": "data-requests"}, {"open_soon", "open_late", "claimed"}),
    ({"tag": "imaging"}, {"open_late"}),
    ({"tag": "statistics"}, {"open_soon", "claimed"}),
    ({"tag": "no-such-tag"}, set()),
    ({"modality": "imaging"}, {"open_late"}),
    ({"modality": "sequences"}, {"claimed"}),
    ({"result_type": "figure"}, {"open_none"}),
    ({"has_deadline": "true"}, {"open_soon", "open_late", "claimed"}),
    ({"has_deadline": "false"}, {"open_soon", "open_late", "open_none", "claimed"}),
    ({"unclaimed": "true"}, {"open_soon", "open_late", "open_none"}),
    ({"unclaimed": "true", "state": "claimed"}, {"open_soon", "open_late", "open_none"}),
    ({"state": "accepted", "modality": "tabular"}, {"accepted"}),
    ({"state": "accepted", "modality": "imaging"}, set()),
])
def test_request_filters(board, params, expected):
    names = {data_request.pk: name for name, data_request in board.items()}
    assert {names[pk] for pk in ids(api().get("/api/v1/requests/", params))} == expected


@pytest.mark.parametrize("params, field", [
    ({"state": "draft"}, "state"),
    ({"state": "sleeping"}, "state"),
    ({"category": "no-such-area"}, "category"),
    ({"category": "anonymization"}, "category"),
    ({"modality": "smell"}, "modality"),
    ({"result_type": "poem"}, "result_type"),
    ({"ordering": "title"}, "ordering"),
    ({"has_deadline": "yes"}, "has_deadline"),
    ({"unclaimed": "1"}, "unclaimed"),
])
def test_request_filter_refusals(board, private_category, params, field):
    response = api().get("/api/v1/requests/", params)
    assert response.status_code == 400 and error_code(response) == "invalid"
    assert field in error_fields(response)


def test_request_orderings(board):
    active = ["open_soon", "open_late", "open_none", "claimed"]
    by_name = {data_request.pk: name for name, data_request in board.items()}
    client = api()

    def order(ordering=None):
        params = {"ordering": ordering} if ordering else {}
        return [by_name[pk] for pk in ids(client.get("/api/v1/requests/", params))]

    published = sorted(active, key=lambda name: board[name].published_at)
    assert order() == order("-published_at") == published[::-1]
    assert order("published_at") == published
    assert order("deadline") == ["open_soon", "claimed", "open_late", "open_none"]  # no deadline: last


def test_request_deadline_ordering_paginates_over_many_without_a_deadline(requester, public_category):
    today = timezone.localdate()
    made = []
    for number in range(7):
        deadline = today + datetime.timedelta(days=number + 1) if number % 3 == 0 else None
        made.append(make_request(requester, public_category, title=f"Synthetic request {number}", deadline=deadline))
    items = collect(api(), "/api/v1/requests/", {"ordering": "deadline", "page_size": 2})
    listed = [item["id"] for item in items]
    assert len(listed) == len(set(listed)) == 7
    expected = sorted(made, key=lambda r: (r.deadline or datetime.date.max, r.published_at, r.pk))
    assert listed == [r.pk for r in expected]


def test_request_pagination_while_requests_are_published(requester, public_category):
    made = [make_request(requester, public_category, title=f"Synthetic request {n}").pk for n in range(7)]
    arrived = []

    def one_more(_page):
        arrived.append(make_request(requester, public_category, title=f"Synthetic newcomer {len(arrived)}").pk)

    newest_first = [item["id"] for item in collect(api(), "/api/v1/requests/", {"page_size": 3},
                                                   between_pages=one_more)]
    assert len(newest_first) == len(set(newest_first))
    assert [pk for pk in newest_first if pk in made] == made[::-1]
    everything = sorted(made + arrived)
    arrived.clear()
    oldest_first = [item["id"] for item in collect(api(), "/api/v1/requests/",
                                                   {"page_size": 3, "ordering": "published_at"},
                                                   between_pages=one_more)]
    assert oldest_first == everything + arrived


# --- One request ----------------------------------------------------------------------

def test_request_detail(requester, volunteer, moderator, public_category, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        data_request, _claim, result = make_delivered(requester, volunteer, public_category)
    response = api().get(f"/api/v1/requests/{data_request.pk}/")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == DETAIL_KEYS
    assert body["state"] == "delivered" and body["results"] == [result.pk]
    assert "<em>synthetic</em>" in body["question_html"]
    assert body["data_links"] == [{"url": "https://zenodo.org/records/0000001", "host": "Zenodo"}]
    assert body["serves_covid"] is True and body["needs_anonymization"] is False and body["cleared_at"] is None
    assert body["accepted_result"] is None and body["close_reason"] == ""
    assert body["result_description"] == "The median and its 95% interval."
    # What the data may identify is for the requester and moderators only.
    assert body["patient_data"] is None
    assert api(volunteer).get(f"/api/v1/requests/{data_request.pk}/").json()["patient_data"] is None
    assert api(requester).get(f"/api/v1/requests/{data_request.pk}/").json()["patient_data"] == "no"
    assert api(moderator).get(f"/api/v1/requests/{data_request.pk}/").json()["patient_data"] == "no"
    response = api().get("/api/v1/requests/999999/")
    assert response.status_code == 404 and error_code(response) == "not_found"


def test_a_draft_is_seen_by_its_author_only(requester, moderator, volunteer, public_category):
    draft = make_request(requester, public_category, publish=False)
    body = api(requester).get(f"/api/v1/requests/{draft.pk}/").json()
    assert body["state"] == "draft" and body["topic"] is None and body["question_html"] is None
    assert body["title"] == draft.title and body["published_at"] is None
    assert body["expertise"] == ["statistics"]
    for client in (api(), api(volunteer), api(moderator)):
        assert client.get(f"/api/v1/requests/{draft.pk}/").status_code == 404
    assert draft.pk not in ids(api(requester).get("/api/v1/requests/"))  # the board lists no drafts


# --- Create and edit ------------------------------------------------------------------

def test_create_a_published_request(requester, django_capture_on_commit_callbacks, public_category):
    with django_capture_on_commit_callbacks(execute=True):
        response = api(requester).post("/api/v1/requests/", payload(publish=True, expertise=["statistics", "R"],
                                                                    data_license="CC-BY-4.0"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == DETAIL_KEYS
    assert body["state"] == "open" and body["topic"] is not None and body["published_at"] is not None
    assert body["expertise"] == ["r", "statistics"] and body["data_license"] == "CC-BY-4.0"
    # Checked against the policy as it is recorded, in the same transaction.
    assert body["data_license_state"] == {"state": "ok", "problems": []}
    assert api().get(f"/api/v1/requests/{body['id']}/").json()["data_license_state"] == {"state": "ok",
                                                                                          "problems": []}
    assert body["patient_data"] == "no" and body["deadline"] == payload()["deadline"]
    data_request = DataRequest.objects.get(pk=body["id"])
    assert data_request.author == requester and data_request.topic.category == public_category


def test_create_a_draft_needs_only_a_title_and_a_category(requester, public_category):
    response = api(requester).post("/api/v1/requests/", {"title": "A synthetic draft", "category": "data-requests"},
                                   format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    # No license is chosen for it silently: publishing asks for one.
    assert body["state"] == "draft" and body["topic"] is None and body["data_license"] == ""
    assert RequestEvent.objects.filter(data_request_id=body["id"]).get().kind == "created"


@pytest.mark.parametrize("data, fields", [
    ({}, {"title", "category"}),
    ({"title": "A synthetic draft"}, {"category"}),
    ({"title": "A synthetic draft", "category": "no-such-area"}, {"category"}),
    ({"title": "A synthetic draft", "category": "anonymization"}, {"category"}),
    ({"title": "A synthetic draft", "category": "data-requests", "modality": "smell"}, {"modality"}),
    ({"title": "A synthetic draft", "category": "data-requests", "deadline": "soon"}, {"deadline"}),
    ({"title": "A synthetic draft", "category": "data-requests", "deadline": "2001-01-01"}, {"deadline"}),
    ({"title": "A synthetic draft", "category": "data-requests", "data_links": ["http://example.org/x"]},
     {"data_links"}),
    ({"title": "A synthetic draft", "category": "data-requests", "data_license": "not a license"},
     {"data_license"}),
    ({"title": "x" * 201, "category": "data-requests"}, {"title"}),
    ({"title": 42, "category": "data-requests"}, {"title"}),
    ({"title": "A synthetic draft", "category": "data-requests", "expertise": "statistics"}, {"expertise"}),
])
def test_create_refusals_name_their_fields(requester, public_category, private_category, data, fields):
    response = api(requester).post("/api/v1/requests/", data, format="json")
    assert response.status_code == 400 and error_code(response) == "invalid"
    assert set(error_fields(response)) == fields
    assert DataRequest.objects.count() == 0


def test_publishing_an_incomplete_request_names_every_missing_field(requester, public_category):
    response = api(requester).post("/api/v1/requests/", {"title": "A synthetic request", "category": "data-requests",
                                                         "publish": True}, format="json")
    assert response.status_code == 400
    assert set(error_fields(response)) == {"question", "modality", "data_size", "result_description", "result_type",
                                           "patient_data", "expertise", "serves_covid", "data_license"}
    assert error_fields(response)["data_license"] == ["Choose the license of your data; CC-BY-SA-4.0 is the default."]
    assert DataRequest.objects.count() == 0


def test_only_requesters_create_requests(volunteer, member, public_category):
    for user in (volunteer, member):
        response = api(user).post("/api/v1/requests/", payload(), format="json")
        assert response.status_code == 403 and error_code(response) == "permission_denied"
    assert api().post("/api/v1/requests/", payload(), format="json").status_code == 401
    assert DataRequest.objects.count() == 0


def test_patch_a_published_request(requester, volunteer, moderator, public_category,
                                   django_capture_on_commit_callbacks):
    data_request = make_request(requester, public_category)
    with django_capture_on_commit_callbacks(execute=True):
        response = api(requester).patch(f"/api/v1/requests/{data_request.pk}/", {
            "title": "A retitled synthetic request", "expertise": ["statistics", "epidemiology"],
            "modality": "text",
        }, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["title"] == "A retitled synthetic request" and body["modality"] == "text"
    assert body["expertise"] == ["epidemiology", "statistics"]
    # Fields left out keep their value.
    assert body["data_size"] == "small" and "<em>synthetic</em>" in body["question_html"]
    data_request.refresh_from_db()
    assert data_request.topic.title == "A retitled synthetic request"
    assert data_request.category == public_category
    assert data_request.events.filter(kind="edited").count() == 1
    # Moderators may edit; others may not, and a bad value is a field error.
    assert api(moderator).patch(f"/api/v1/requests/{data_request.pk}/", {"data_size": "large"},
                                format="json").json()["data_size"] == "large"
    response = api(volunteer).patch(f"/api/v1/requests/{data_request.pk}/", {"title": "Hijacked"}, format="json")
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    response = api(requester).patch(f"/api/v1/requests/{data_request.pk}/", {"title": ""}, format="json")
    assert response.status_code == 400 and set(error_fields(response)) == {"title"}
    response = api(requester).patch(f"/api/v1/requests/{data_request.pk}/", {"serves_covid": False}, format="json")
    assert response.status_code == 400 and set(error_fields(response)) == {"serves_covid"}
    assert api(requester).patch("/api/v1/requests/999999/", {"title": "x"}, format="json").status_code == 404
    data_request.refresh_from_db()
    assert data_request.topic.title == "A retitled synthetic request" and data_request.serves_covid


def test_patch_and_publish_a_draft(requester, volunteer, public_category, django_capture_on_commit_callbacks):
    response = api(requester).post("/api/v1/requests/", {"title": "A synthetic draft", "category": "data-requests"},
                                   format="json")
    pk = response.json()["id"]
    response = api(requester).patch(f"/api/v1/requests/{pk}/", {"question": "Synthetic *question*.",
                                                                 "modality": "imaging"}, format="json")
    assert response.status_code == 200 and response.json()["state"] == "draft"
    assert response.json()["modality"] == "imaging"
    assert api(volunteer).patch(f"/api/v1/requests/{pk}/", {"title": "x"}, format="json").status_code == 404
    response = api(requester).patch(f"/api/v1/requests/{pk}/", {"publish": True}, format="json")
    assert response.status_code == 400 and "result_type" in error_fields(response)
    assert DataRequest.objects.get(pk=pk).state == State.DRAFT
    complete = payload(publish=True)
    del complete["question"], complete["modality"]
    with django_capture_on_commit_callbacks(execute=True):
        response = api(requester).patch(f"/api/v1/requests/{pk}/", complete, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["state"] == "open" and body["modality"] == "imaging" and "<em>question</em>" in body["question_html"]
    assert pk in ids(api().get("/api/v1/requests/"))


# --- Claim, unclaim, updates, results -------------------------------------------------

def test_claim(requester, volunteer, other_volunteer, public_category, django_capture_on_commit_callbacks):
    data_request = make_request(requester, public_category)
    expected = (timezone.localdate() + datetime.timedelta(days=5)).isoformat()
    with django_capture_on_commit_callbacks(execute=True):
        response = api(volunteer).post(f"/api/v1/requests/{data_request.pk}/claim/",
                                       {"plan": "Fit a synthetic model.", "expected_date": expected}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == CLAIM_KEYS
    assert body["role"] == "lead" and body["plan"] == "Fit a synthetic model." and body["expected_date"] == expected
    assert body["volunteer"]["username"] == volunteer.username
    second = api(other_volunteer).post(f"/api/v1/requests/{data_request.pk}/claim/", {}, format="json")
    assert second.status_code == 201 and second.json()["role"] == "collaborator"
    detail = api().get(f"/api/v1/requests/{data_request.pk}/").json()
    assert detail["state"] == "claimed" and [c["role"] for c in detail["claims"]] == ["lead", "collaborator"]


def test_claim_refusals(requester, volunteer, member, public_category, anonymization_category):
    data_request = make_request(requester, public_category)
    url = f"/api/v1/requests/{data_request.pk}/claim/"
    response = api(requester).post(url, {}, format="json")  # a requester is no volunteer (nor claims their own)
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    assert api(member).post(url, {}, format="json").status_code == 403
    assert api().post(url, {}, format="json").status_code == 401
    past = (timezone.localdate() - datetime.timedelta(days=1)).isoformat()
    response = api(volunteer).post(url, {"expected_date": past}, format="json")
    assert response.status_code == 400 and set(error_fields(response)) == {"expected_date"}
    response = api(volunteer).post(url, {"expected_date": "soon"}, format="json")
    assert response.status_code == 400 and set(error_fields(response)) == {"expected_date"}
    assert api(volunteer).post(url, {}, format="json").status_code == 201
    response = api(volunteer).post(url, {}, format="json")
    assert response.status_code == 400 and error_code(response) == "invalid"
    assert Claim.objects.filter(data_request=data_request).count() == 1
    assert api(volunteer).post("/api/v1/requests/999999/claim/", {}, format="json").status_code == 404
    pending = make_request(requester, public_category, patient_data="yes", title="Synthetic identifying request")
    assert api(volunteer).post(f"/api/v1/requests/{pending.pk}/claim/", {}, format="json").status_code == 404


def test_claiming_a_solved_request_is_a_conflict(requester, volunteer, other_volunteer, public_category):
    data_request, _claim, result = make_delivered(requester, volunteer, public_category)
    services.result_accept(actor=requester, result_id=result.pk)
    response = api(other_volunteer).post(f"/api/v1/requests/{data_request.pk}/claim/", {}, format="json")
    assert response.status_code == 409 and error_code(response) == "invalid_state"
    assert "solved" in response.json()["error"]["message"]


def test_citizen_science_claims_need_a_part(requester, volunteer, other_volunteer, db):
    area = CategoryFactory(slug="citizen-science", name="Citizen science")
    data_request = make_request(requester, area)
    url = f"/api/v1/requests/{data_request.pk}/claim/"
    response = api(volunteer).post(url, {}, format="json")
    assert response.status_code == 400 and set(error_fields(response)) == {"part"}
    response = api(volunteer).post(url, {"part": "images 1-50"}, format="json")
    assert response.status_code == 201 and response.json()["role"] == "participant"
    response = api(other_volunteer).post(url, {"part": "Images 1-50"}, format="json")
    assert response.status_code == 400 and set(error_fields(response)) == {"part"}


def test_unclaim(requester, volunteer, other_volunteer, public_category):
    data_request, claim = make_claimed(requester, volunteer, public_category)
    response = api(other_volunteer).post(f"/api/v1/requests/{data_request.pk}/unclaim/")
    assert response.status_code == 400 and error_code(response) == "invalid"
    response = api(volunteer).post(f"/api/v1/requests/{data_request.pk}/unclaim/")
    assert response.status_code == 200, response.content
    assert response.json()["id"] == claim.pk and response.json()["status"] == "unclaimed"
    detail = api().get(f"/api/v1/requests/{data_request.pk}/").json()
    assert detail["state"] == "open" and detail["claims"] == []
    assert api(volunteer).post(f"/api/v1/requests/{data_request.pk}/unclaim/").status_code == 400
    assert api().post(f"/api/v1/requests/{data_request.pk}/unclaim/").status_code == 401
    assert api(volunteer).post("/api/v1/requests/999999/unclaim/").status_code == 404


def test_progress_update(requester, volunteer, other_volunteer, public_category,
                         django_capture_on_commit_callbacks):
    data_request, _claim = make_claimed(requester, volunteer, public_category)
    url = f"/api/v1/requests/{data_request.pk}/updates/"
    response = api(other_volunteer).post(url, {"raw": "Not mine to update."}, format="json")
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    response = api(volunteer).post(url, {}, format="json")
    assert response.status_code == 400 and set(error_fields(response)) == {"raw"}
    with django_capture_on_commit_callbacks(execute=True):
        response = api(volunteer).post(url, {"raw": "Halfway through the *synthetic* data."}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == POST_KEYS and body["topic"] == data_request.topic_id and body["number"] == 2
    assert "<em>synthetic</em>" in body["html"]
    assert api().get(f"/api/v1/requests/{data_request.pk}/").json()["state"] == "in_progress"
    notices = api(requester).get("/api/v1/notifications/").json()["results"]
    assert [n["kind"] for n in notices] == ["request_update", "claimed"]


def test_updates_are_refused_on_an_open_request(requester, volunteer, public_category):
    data_request = make_request(requester, public_category)
    response = api(volunteer).post(f"/api/v1/requests/{data_request.pk}/updates/", {"raw": "Early."}, format="json")
    assert response.status_code == 409 and error_code(response) == "invalid_state"


def test_deliver_a_result(requester, volunteer, other_volunteer, public_category,
                          django_capture_on_commit_callbacks):
    data_request, _claim = make_claimed(requester, volunteer, public_category)
    url = f"/api/v1/requests/{data_request.pk}/results/"
    with django_capture_on_commit_callbacks(execute=True):
        response = api(volunteer).post(url, result_payload(license="bsd-3-clause"), format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == RESULT_KEYS
    assert body["request"] == data_request.pk and body["license"] == "BSD-3-Clause"
    assert body["repository_license"] == "MIT" and body["repository_host"] == "GitHub"
    assert body["accepted"] is False and body["accepted_at"] is None
    assert body["author"]["username"] == volunteer.username and "5.1 days" in body["summary_html"]
    # The worker has checked the licenses when the transaction committed.
    assert api().get(f"/api/v1/results/{body['id']}/").json()["license_state"] == {"state": "ok", "problems": []}
    assert api().get(f"/api/v1/requests/{data_request.pk}/").json()["state"] == "delivered"
    response = api(other_volunteer).post(url, result_payload(), format="json")
    assert response.status_code == 403


@pytest.mark.parametrize("overrides, fields", [
    ({"license": "not a license"}, {"license"}),
    ({"repository_license": "not a license"}, {"repository_license"}),
    ({"repository_url": "http://example.org/repo"}, {"repository_url"}),
    ({"summary": "   "}, {"summary"}),
])
def test_result_refusals_name_their_fields(requester, volunteer, public_category, overrides, fields):
    data_request, _claim = make_claimed(requester, volunteer, public_category)
    response = api(volunteer).post(f"/api/v1/requests/{data_request.pk}/results/", result_payload(**overrides),
                                   format="json")
    assert response.status_code == 400 and set(error_fields(response)) == fields
    assert not Result.objects.exists()


def test_result_needs_its_required_fields(requester, volunteer, public_category):
    data_request, _claim = make_claimed(requester, volunteer, public_category)
    response = api(volunteer).post(f"/api/v1/requests/{data_request.pk}/results/", {}, format="json")
    assert response.status_code == 400
    assert set(error_fields(response)) == {"summary", "repository_url", "license"}


def test_withdraw(requester, volunteer, other_volunteer, public_category, django_capture_on_commit_callbacks):
    data_request, claim = make_claimed(requester, volunteer, public_category)
    url = f"/api/v1/requests/{data_request.pk}/withdraw/"
    response = api(volunteer).post(url, {}, format="json")
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    with django_capture_on_commit_callbacks(execute=True):
        response = api(requester).post(url, {"reason": "Solved elsewhere (synthetic)."}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == DETAIL_KEYS and body["state"] == "withdrawn" and body["claims"] == []
    claim.refresh_from_db()
    assert claim.status == Claim.Status.RELEASED
    event = data_request.events.get(kind="withdrawn")
    assert event.detail == "Solved elsewhere (synthetic)." and event.actor == requester
    response = api(requester).post(url, {}, format="json")
    assert response.status_code == 409 and error_code(response) == "invalid_state"
    response = api(requester).post(url, {"reason": "x" * 501}, format="json")
    assert response.status_code == 400 and set(error_fields(response)) == {"reason"}
    assert data_request.pk not in ids(api().get("/api/v1/requests/"))
    assert data_request.pk in ids(api().get("/api/v1/requests/", {"state": "withdrawn"}))
    notices = api(volunteer).get("/api/v1/notifications/").json()["results"]
    assert [n["kind"] for n in notices] == ["request_ended"]


# --- Files ----------------------------------------------------------------------------

def test_file_upload_refusals(requester, volunteer, public_category):
    data_request = make_request(requester, public_category)
    url = f"/api/v1/requests/{data_request.pk}/files/"
    response = api(requester).post(url, {"file": "not a file"}, format="json")
    assert response.status_code == 415 and error_code(response) == "unsupported_media_type"
    response = api(requester).post(url, {}, format="multipart")
    assert response.status_code == 400 and set(error_fields(response)) == {"file"}
    upload = SimpleUploadedFile("cases.csv", b"region,cases\nNorth,3\n", content_type="text/csv")
    response = api(volunteer).post(url, {"file": upload}, format="multipart")
    assert response.status_code == 403 and error_code(response) == "permission_denied"
    upload = SimpleUploadedFile("cases.exe", b"MZ\x90\x00" + b"\x00" * 64, content_type="application/octet-stream")
    response = api(requester).post(url, {"file": upload}, format="multipart")
    assert response.status_code == 400 and set(error_fields(response)) == {"file"}
    assert not Upload.objects.exists()
    upload = SimpleUploadedFile("cases.csv", b"region,cases\nNorth,3\n", content_type="text/csv")
    assert api(requester).post("/api/v1/requests/999999/files/", {"file": upload},
                               format="multipart").status_code == 404


def test_files_cannot_be_attached_to_a_draft_or_a_withdrawn_request(requester, public_category):
    draft = make_request(requester, public_category, publish=False)
    withdrawn = make_request(requester, public_category, title="Synthetic withdrawn")
    services.request_withdraw(actor=requester, data_request_id=withdrawn.pk)
    for data_request in (draft, withdrawn):
        upload = SimpleUploadedFile("cases.csv", b"region,cases\nNorth,3\n", content_type="text/csv")
        response = api(requester).post(f"/api/v1/requests/{data_request.pk}/files/", {"file": upload},
                                       format="multipart")
        assert response.status_code == 403
    assert not Upload.objects.exists()


# --- Results --------------------------------------------------------------------------

@pytest.fixture
def results(requester, volunteer, other_volunteer, public_category, django_capture_on_commit_callbacks):
    """An accepted result, a delivered one, and one held for its license (MIT is no result license)."""
    with django_capture_on_commit_callbacks(execute=True):
        solved, _c, accepted = make_delivered(requester, volunteer, public_category, title="Synthetic solved")
        services.result_accept(actor=requester, result_id=accepted.pk)
        _r, _c, delivered = make_delivered(requester, other_volunteer, public_category, title="Synthetic delivered")
        held_request, _c = make_claimed(requester, volunteer, public_category, title="Synthetic held")
        held = services.result_deliver(actor=volunteer, data_request_id=held_request.pk,
                                       summary="A synthetic result under the wrong license.",
                                       repository_url="https://github.com/example/held", license="MIT")
    return {"accepted": accepted, "delivered": delivered, "held": held}


def test_results_list(results, requester, volunteer, moderator):
    response = api().get("/api/v1/results/")
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    listed = {item["id"]: item for item in body["results"]}
    assert set(listed) == {results["accepted"].pk, results["delivered"].pk}  # the held one is withheld
    for item in listed.values():
        assert set(item) == RESULT_KEYS and item["license_state"] == {"state": "ok", "problems": []}
    assert listed[results["accepted"].pk]["accepted"] is True
    assert listed[results["accepted"].pk]["accepted_at"] is not None
    assert listed[results["delivered"].pk]["accepted"] is False
    assert ids(api().get("/api/v1/results/")) == [results["delivered"].pk, results["accepted"].pk]
    assert ids(api().get("/api/v1/results/", {"ordering": "created_at"})) == [
        results["accepted"].pk, results["delivered"].pk]
    assert api().get("/api/v1/results/", {"ordering": "license"}).status_code == 400
    response = api().get("/api/v1/results/", {"accepted": "1"})
    assert response.status_code == 400 and set(error_fields(response)) == {"accepted"}
    assert ids(api().get("/api/v1/results/", {"accepted": "true"})) == [results["accepted"].pk]
    assert ids(api().get("/api/v1/results/", {"accepted": "false"})) == [results["delivered"].pk,
                                                                        results["accepted"].pk]
    # Its author and moderators see the held result, with what to fix.
    for user in (volunteer, moderator):
        held = {item["id"]: item for item in api(user).get("/api/v1/results/").json()["results"]}[results["held"].pk]
        assert held["license_state"]["state"] == "held" and held["license_state"]["problems"]
        assert held["license"] == "MIT"
    assert results["held"].pk not in ids(api(requester).get("/api/v1/results/"))


def test_result_detail(results, volunteer):
    response = api().get(f"/api/v1/results/{results['accepted'].pk}/")
    assert response.status_code == 200 and set(response.json()) == RESULT_KEYS
    assert response.json()["url"] == results["accepted"].post.get_absolute_url()
    for pk in (results["held"].pk, 999999):
        response = api().get(f"/api/v1/results/{pk}/")
        assert response.status_code == 404 and error_code(response) == "not_found"
    assert api(volunteer).get(f"/api/v1/results/{results['held'].pk}/").json()["license_state"]["state"] == "held"


def test_result_accept_refusals(results, requester, volunteer, other_volunteer, moderator):
    delivered = results["delivered"]
    for user in (volunteer, other_volunteer):
        response = api(user).post(f"/api/v1/results/{delivered.pk}/accept/")
        assert response.status_code == 403 and error_code(response) == "permission_denied"
    assert api().post(f"/api/v1/results/{delivered.pk}/accept/").status_code == 401
    response = api(requester).post(f"/api/v1/results/{results['accepted'].pk}/accept/")
    assert response.status_code == 409 and error_code(response) == "invalid_state"
    # A result held for its license cannot be accepted: a moderator, who sees it, is told why.
    response = api(moderator).post(f"/api/v1/results/{results['held'].pk}/accept/")
    assert response.status_code == 409 and "license" in response.json()["error"]["message"]
    # The requester does not see the held result at all.
    assert api(requester).post(f"/api/v1/results/{results['held'].pk}/accept/").status_code == 404
    assert api(requester).post("/api/v1/results/999999/accept/").status_code == 404
    response = api(requester).post(f"/api/v1/results/{delivered.pk}/accept/")
    assert response.status_code == 200 and response.json()["accepted"] is True


# --- Datasets -------------------------------------------------------------------------

def test_datasets_list(requester, volunteer, public_category, anonymization_category, moderator,
                       django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = make_request(requester, public_category, title="Synthetic first data")
        second = make_request(requester, public_category, title="Synthetic second data", data_license="CC0-1.0",
                              data_links=["https://figshare.com/articles/0001", "https://osf.io/abcd"])
        pending = make_request(requester, public_category, patient_data="yes", title="Synthetic identifying data")
    make_request(requester, public_category, publish=False, title="Synthetic draft data")
    response = api().get("/api/v1/datasets/")
    assert response.status_code == 200
    items = response.json()["results"]
    assert [item["request"] for item in items] == [second.pk, first.pk]
    for item in items:
        assert set(item) == DATASET_KEYS
    assert items[0]["license"] == "CC0-1.0" and items[0]["license_state"] == {"state": "ok", "problems": []}
    assert items[0]["links"] == [{"url": "https://figshare.com/articles/0001", "host": "figshare"},
                                 {"url": "https://osf.io/abcd", "host": "OSF"}]
    assert items[0]["title"] == "Synthetic second data" and items[0]["category"] == "data-requests"
    oldest = api().get("/api/v1/datasets/", {"ordering": "published_at"}).json()["results"]
    assert [item["request"] for item in oldest] == [first.pk, second.pk]
    assert api().get("/api/v1/datasets/", {"ordering": "license"}).status_code == 400
    assert {item["request"] for item in api(moderator).get("/api/v1/datasets/").json()["results"]} == {
        first.pk, second.pk, pending.pk}


def test_a_dataset_held_for_its_license_shows_its_state(requester, moderator, public_category,
                                                        django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        held = make_request(requester, public_category, data_license="MIT")
    for user in (requester, moderator):
        [item] = api(user).get("/api/v1/datasets/").json()["results"]
        assert item["license"] == "MIT" and item["license_state"]["state"] == "held"
        assert item["license_state"]["problems"]
        assert api(user).get(f"/api/v1/requests/{held.pk}/").json()["data_license_state"]["state"] == "held"


def test_a_held_datasets_links_are_withheld_like_on_the_web(requester, volunteer, public_category,
                                                            django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        held = make_request(requester, public_category, data_license="MIT",
                            data_links=["https://zenodo.org/records/0000666"])
    for client in (api(), api(volunteer)):
        assert "0000666" not in client.get("/api/v1/datasets/").content.decode()
        assert "0000666" not in client.get(f"/api/v1/requests/{held.pk}/").content.decode()


@pytest.mark.parametrize("path", ["/api/v1/results/", "/api/v1/datasets/"])
@pytest.mark.parametrize("ordering", ["-published_at", "published_at", None])
def test_results_and_datasets_paginate_without_duplicates_or_gaps(path, ordering, requester, volunteer,
                                                                  public_category):
    for number in range(5):
        make_delivered(requester, volunteer, public_category, title=f"Synthetic request {number}")
        services.result_accept(actor=requester, result_id=Result.objects.latest("pk").pk)
    params = {"page_size": 2}
    if ordering and path.endswith("datasets/"):
        params["ordering"] = ordering
    elif ordering:
        params["ordering"] = ordering.replace("published_at", "created_at")
    items = collect(api(), path, params)
    keys = [item["id"] if "id" in item else item["request"] for item in items]
    assert len(keys) == len(set(keys)) == 5
    unpaged = api().get(path, {key: value for key, value in params.items() if key == "ordering"}).json()["results"]
    assert keys == [item["id"] if "id" in item else item["request"] for item in unpaged]


def test_a_held_results_post_is_a_placeholder_in_its_topic(results, requester, volunteer, moderator):
    held = results["held"]
    url = f"/api/v1/topics/{held.post.topic_id}/posts/"
    for client in (api(), api(requester)):
        post = {p["id"]: p for p in client.get(url).json()["results"]}[held.post_id]
        assert post["state"] == "hidden" and post["raw"] is None and post["html"] is None
        assert client.get(f"/api/v1/posts/{held.post_id}/").json()["raw"] is None
        assert client.get("/api/v1/search/", {"q": "wrong license"}).json()["results"] == []
    for client in (api(volunteer), api(moderator)):
        post = {p["id"]: p for p in client.get(url).json()["results"]}[held.post_id]
        assert post["raw"] == "A synthetic result under the wrong license."


# --- What the caller may do ---------------------------------------------------------------------

def test_a_request_says_what_the_caller_may_do_in_the_words_its_steps_answer_with(
        settings, requester, public_category):
    """The API's `actions` come from the one rule the panel and the services use: a new volunteer
    reads why they may not claim yet, and the claim endpoint refuses with the same words."""
    settings.REQUESTS_CLAIM_MIN_TRUST_LEVEL = 2  # (write tokens come with level 1)
    data_request = make_request(requester, public_category)
    newcomer = UserFactory(roles=[Role.VOLUNTEER], trust_level=1)
    actions = api(newcomer).get(f"/api/v1/requests/{data_request.pk}/").json()["actions"]
    claim = actions["claim"]
    assert claim["allowed"] is False and claim["shown"] is True
    assert "from trust level 2; you are at level 1" in claim["reason"]
    refused = api(newcomer).post(f"/api/v1/requests/{data_request.pk}/claim/", {}, format="json")
    assert refused.status_code == 403 and refused.json()["error"]["message"] == claim["reason"]

    trusted = UserFactory(roles=[Role.VOLUNTEER], trust_level=2)
    assert api(trusted).get(f"/api/v1/requests/{data_request.pk}/").json()["actions"]["claim"] == {
        "allowed": True, "reason": "", "shown": False}
    mine = api(requester).get(f"/api/v1/requests/{data_request.pk}/").json()["actions"]
    assert mine["withdraw"]["allowed"] and mine["edit"]["allowed"] and not mine["claim"]["allowed"]
    assert not api().get(f"/api/v1/requests/{data_request.pk}/").json()["actions"]["withdraw"]["allowed"]
