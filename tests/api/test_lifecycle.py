"""A request's whole life through the API alone: personal tokens draft, publish, claim, update,
deliver and accept; the anonymization path, unclaiming, withdrawing and files into quarantine."""
import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from anonymization.models import Upload
from anonymization.storage import published_storage, quarantine_storage
from forum import services as forum_services
from forum.permissions import Role
from requests_board.models import Claim, DataRequest, RequestEvent, Result
from tests.forum.factories import UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db
State = DataRequest.State


def api(user=None, scope="write") -> APIClient:
    client = APIClient()
    if user is not None:
        _token, key = forum_services.api_token_create(actor=user, name="life cycle tests", scope=scope,
                                                             second_factor=True)
        client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def events(pk) -> list[tuple]:
    return list(RequestEvent.objects.filter(data_request_id=pk).order_by("created_at", "pk")
                .values_list("kind", "from_state", "to_state"))


def notices(client) -> list[str]:
    response = client.get("/api/v1/notifications/")
    assert response.status_code == 200, response.content
    return [notification["kind"] for notification in response.json()["results"]]


def details(**overrides) -> dict:
    data = {
        "question": "A CSV of 120 *synthetic* case reports. How long is the incubation period?",
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


@pytest.fixture
def anonymization_category(private_category):
    return private_category


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Call the API and run what it leaves for after commit (licensing checks, notifications)."""
    def _run(method, *args, expect=200, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            response = method(*args, **kwargs)
        assert response.status_code == expect, response.content
        return response.json() if response.content else None
    return _run


def test_the_whole_life_of_a_request_through_the_api(requester, volunteer, public_category, run):
    asker, helper, outsider = api(requester), api(volunteer), api()

    # The requester drafts, completes and publishes.
    draft = run(asker.post, "/api/v1/requests/", {"title": "Estimate a synthetic incubation period",
                                                  "category": "data-requests"}, format="json", expect=201)
    pk = draft["id"]
    assert draft["state"] == "draft" and draft["topic"] is None
    assert outsider.get(f"/api/v1/requests/{pk}/").status_code == 404
    edited = run(asker.patch, f"/api/v1/requests/{pk}/", details(), format="json")
    assert edited["state"] == "draft" and edited["modality"] == "tabular" and edited["expertise"] == ["statistics"]
    published = run(asker.patch, f"/api/v1/requests/{pk}/", {"publish": True, "data_license": "CC-BY-4.0"},
                    format="json")
    assert published["state"] == "open" and published["topic"] is not None
    assert published["title"] == "Estimate a synthetic incubation period"
    topic_id = published["topic"]
    listed = outsider.get("/api/v1/requests/", {"unclaimed": "true"}).json()["results"]
    assert [item["id"] for item in listed] == [pk]

    # A volunteer claims, reports progress and delivers.
    claim = run(helper.post, f"/api/v1/requests/{pk}/claim/", {"plan": "Fit a synthetic gamma model."},
                format="json", expect=201)
    assert claim["role"] == "lead" and claim["status"] == "active"
    assert outsider.get(f"/api/v1/requests/{pk}/").json()["state"] == "claimed"
    update = run(helper.post, f"/api/v1/requests/{pk}/updates/", {"raw": "Halfway through the synthetic data."},
                 format="json", expect=201)
    assert update["topic"] == topic_id and update["number"] == 2
    assert outsider.get(f"/api/v1/requests/{pk}/").json()["state"] == "in_progress"
    result = run(helper.post, f"/api/v1/requests/{pk}/results/", {
        "summary": "The median incubation period is 5.1 days (synthetic).",
        "repository_url": "https://github.com/example/incubation",
        "license": "BSD-3-Clause", "repository_license": "Apache-2.0",
    }, format="json", expect=201)
    assert result["license"] == "BSD-3-Clause" and result["repository_license"] == "Apache-2.0"
    assert outsider.get(f"/api/v1/requests/{pk}/").json()["state"] == "delivered"

    # The requester hears about each step, and accepts.
    assert notices(asker) == ["result_delivered", "request_update", "claimed"]
    accepted = run(asker.post, f"/api/v1/results/{result['id']}/accept/")
    assert accepted["accepted"] is True and accepted["accepted_at"] is not None
    assert notices(helper) == ["result_accepted"]

    # The request is solved, its history complete, its claim completed.
    final = outsider.get(f"/api/v1/requests/{pk}/").json()
    assert final["state"] == "accepted" and final["accepted_result"] == result["id"]
    assert final["results"] == [result["id"]] and final["accepted_at"] is not None and final["claims"] == []
    assert events(pk) == [
        ("created", "", "draft"),
        ("published", "draft", "open"),
        ("claimed", "open", "claimed"),
        ("updated", "claimed", "in_progress"),
        ("delivered", "in_progress", "delivered"),
        ("accepted", "delivered", "accepted"),
    ]
    actors = list(RequestEvent.objects.filter(data_request_id=pk).order_by("created_at", "pk")
                  .values_list("actor_id", flat=True))
    assert actors == [requester.pk, requester.pk, volunteer.pk, volunteer.pk, volunteer.pk, requester.pk]
    assert Claim.objects.get(pk=claim["id"]).status == Claim.Status.COMPLETED
    assert outsider.get("/api/v1/requests/").json()["results"] == []  # no longer active
    assert [r["id"] for r in outsider.get("/api/v1/requests/", {"state": "accepted"}).json()["results"]] == [pk]

    # The result and the data carry their licenses, checked by the worker.
    [listed_result] = outsider.get("/api/v1/results/", {"accepted": "true"}).json()["results"]
    assert listed_result["id"] == result["id"] and listed_result["request"] == pk
    assert listed_result["license"] == "BSD-3-Clause" and listed_result["repository_license"] == "Apache-2.0"
    assert listed_result["license_state"] == {"state": "ok", "problems": []}
    assert listed_result["author"]["username"] == volunteer.username
    [dataset] = outsider.get("/api/v1/datasets/").json()["results"]
    assert dataset["request"] == pk and dataset["license"] == "CC-BY-4.0"
    assert dataset["license_state"] == {"state": "ok", "problems": []}
    assert outsider.get(f"/api/v1/requests/{pk}/").json()["data_license"] == "CC-BY-4.0"

    # The discussion holds the question, the update and the result, for the API and the web alike.
    posts = outsider.get(f"/api/v1/topics/{topic_id}/posts/").json()["results"]
    assert [p["number"] for p in posts] == [1, 2, 3]
    assert "synthetic" in posts[0]["html"] and posts[2]["author"]["username"] == volunteer.username
    page = Client().get(final["url"])
    assert page.status_code == 200
    html = page.content.decode()
    assert "Estimate a synthetic incubation period" in html
    assert "The median incubation period is 5.1 days (synthetic)." in html
    assert "Accepted result" in html and "BSD-3-Clause" in html and "CC-BY-4.0" in html
    assert "https://github.com/example/incubation" in html

    # The requester clears the bell through the API.
    assert asker.post("/api/v1/notifications/read/").json() == {"marked_read": 3}
    assert all(n["read"] for n in asker.get("/api/v1/notifications/").json()["results"])


def test_the_anonymization_path(requester, volunteer, anonymizer, moderator, public_category,
                                anonymization_category, run):
    asker = api(requester)
    others = {"anonymous": api(), "volunteer": api(volunteer),
              "other requester": api(UserFactory(roles=[Role.REQUESTER]))}
    created = run(asker.post, "/api/v1/requests/", {
        "title": "Synthetic records that may identify a patient", "category": "data-requests", "publish": True,
        **details(patient_data="yes", expertise=["genomics"]),
    }, format="json", expect=201)
    pk, topic_id = created["id"], created["topic"]
    assert created["state"] == "open" and created["needs_anonymization"] is True and created["cleared_at"] is None
    data_request = DataRequest.objects.get(pk=pk)
    assert data_request.topic.category == anonymization_category  # the private channel
    assert data_request.category == public_category  # where it goes once cleared
    assert [kind for kind, _f, _t in events(pk)] == ["created", "published", "sent_to_anonymization"]

    # A file attached now goes to quarantine and waits for a person.
    upload = SimpleUploadedFile("cases.csv", b"region,week,cases\nNorth,2020-W01,3\nSouth,2020-W01,4\n",
                                content_type="text/csv")
    stored = run(asker.post, f"/api/v1/requests/{pk}/files/", {"file": upload}, format="multipart", expect=201)
    assert set(stored) == {"id", "state", "url"} and stored["state"] == "scanning"  # quarantined
    upload = Upload.objects.select_related("current_version").get(pk=stored["id"])
    assert upload.topic_id == topic_id and upload.declared_identifying and upload.uploader == requester
    assert upload.state == Upload.State.REVIEW and upload.published_at is None
    assert quarantine_storage().exists(upload.current_version.storage_name)
    assert not published_storage().exists(str(upload.pk)) and upload.published_version is None

    # Nobody else sees the request anywhere, by any token.
    def invisible(client):
        assert client.get(f"/api/v1/requests/{pk}/").status_code == 404
        assert client.get(f"/api/v1/topics/{topic_id}/").status_code == 404
        assert client.get(f"/api/v1/topics/{topic_id}/posts/").status_code == 404
        for state in ("active", "open"):
            assert client.get("/api/v1/requests/", {"state": state}).json()["results"] == []
        assert client.get("/api/v1/datasets/").json()["results"] == []
        assert client.get("/api/v1/topics/").json()["results"] == []
        assert client.get("/api/v1/search/", {"q": "identify"}).json()["results"] == []
        assert "genomics" not in {t["name"] for t in client.get("/api/v1/tags/").json()["results"]}

    for client in others.values():
        invisible(client)
    assert others["volunteer"].post(f"/api/v1/requests/{pk}/claim/", {}, format="json").status_code == 404
    # Its author, the anonymization team and moderators do.
    for user in (requester, anonymizer, moderator):
        assert api(user).get(f"/api/v1/requests/{pk}/").json()["needs_anonymization"] is True
        assert [r["id"] for r in api(user).get("/api/v1/requests/").json()["results"]] == [pk]

    # The team clears it on the website: now everybody sees it, in the chosen area.
    web = Client()
    sign_in(web, anonymizer)
    assert web.post(reverse("requests_board:request-clear", args=[pk])).status_code == 302
    for client in others.values():
        detail = client.get(f"/api/v1/requests/{pk}/").json()
        assert detail["category"] == "data-requests" and detail["cleared_at"] is not None
        assert detail["patient_data"] is None  # what the requester declared stays theirs
        assert [r["id"] for r in client.get("/api/v1/requests/").json()["results"]] == [pk]
    assert events(pk)[-1][0] == "cleared"
    # Clearing the request does not publish its file: the file waits for its own review.
    upload.refresh_from_db()
    assert upload.state == Upload.State.REVIEW and upload.published_at is None
    claim = run(others["volunteer"].post, f"/api/v1/requests/{pk}/claim/", {}, format="json", expect=201)
    assert claim["role"] == "lead"


def test_saying_later_that_data_may_identify_a_patient_hides_the_request_and_ends_claims(
    requester, volunteer, public_category, anonymization_category, run,
):
    asker = api(requester)
    pk = run(asker.post, "/api/v1/requests/", {"title": "Synthetic request", "category": "data-requests",
                                               "publish": True, **details()}, format="json", expect=201)["id"]
    run(api(volunteer).post, f"/api/v1/requests/{pk}/claim/", {}, format="json", expect=201)
    changed = run(asker.patch, f"/api/v1/requests/{pk}/", {"patient_data": "unsure"}, format="json")
    assert changed["needs_anonymization"] is True and changed["state"] == "open" and changed["claims"] == []
    assert api(volunteer).get(f"/api/v1/requests/{pk}/").status_code == 404
    assert api().get("/api/v1/requests/").json()["results"] == []
    assert notices(api(volunteer)) == ["request_ended"]
    # Saying "no" again does not make it public: only the team's clearing does.
    run(asker.patch, f"/api/v1/requests/{pk}/", {"patient_data": "no"}, format="json")
    assert api().get(f"/api/v1/requests/{pk}/").status_code == 404


def test_unclaim_through_the_api_reopens_the_request(requester, volunteer, public_category, run):
    other = UserFactory(roles=[Role.VOLUNTEER])
    pk = run(api(requester).post, "/api/v1/requests/", {"title": "Synthetic request", "category": "data-requests",
                                                        "publish": True, **details()}, format="json",
             expect=201)["id"]
    helper = api(volunteer)
    claim = run(helper.post, f"/api/v1/requests/{pk}/claim/", {}, format="json", expect=201)
    released = run(helper.post, f"/api/v1/requests/{pk}/unclaim/")
    assert released["id"] == claim["id"] and released["status"] == "unclaimed"
    detail = api().get(f"/api/v1/requests/{pk}/").json()
    assert detail["state"] == "open" and detail["claims"] == []
    assert [kind for kind, _f, _t in events(pk)][-2:] == ["unclaimed", "released"]
    assert events(pk)[-1] == ("released", "claimed", "open")
    assert [r["id"] for r in api().get("/api/v1/requests/", {"unclaimed": "true"}).json()["results"]] == [pk]
    # Updates and results are now refused; someone else may take it over.
    response = helper.post(f"/api/v1/requests/{pk}/updates/", {"raw": "Still here?"}, format="json")
    assert response.status_code == 409
    assert run(api(other).post, f"/api/v1/requests/{pk}/claim/", {}, format="json", expect=201)["role"] == "lead"


def test_withdraw_through_the_api(requester, volunteer, public_category, run):
    asker = api(requester)
    pk = run(asker.post, "/api/v1/requests/", {"title": "Synthetic request", "category": "data-requests",
                                               "publish": True, **details()}, format="json", expect=201)["id"]
    claim = run(api(volunteer).post, f"/api/v1/requests/{pk}/claim/", {}, format="json", expect=201)
    withdrawn = run(asker.post, f"/api/v1/requests/{pk}/withdraw/", {"reason": "Answered elsewhere."},
                    format="json")
    assert withdrawn["state"] == "withdrawn" and withdrawn["claims"] == []
    assert Claim.objects.get(pk=claim["id"]).status == Claim.Status.RELEASED
    assert events(pk)[-1] == ("withdrawn", "claimed", "withdrawn")
    assert notices(api(volunteer)) == ["request_ended"]
    # A withdrawn request takes no more steps.
    for path, body in (("claim/", {}), ("updates/", {"raw": "x"}), ("withdraw/", {})):
        response = api(volunteer if path != "withdraw/" else requester).post(f"/api/v1/requests/{pk}/{path}", body,
                                                                              format="json")
        assert response.status_code in (403, 409), (path, response.content)
    assert api().get("/api/v1/requests/").json()["results"] == []
    assert [r["id"] for r in api().get("/api/v1/requests/", {"state": "withdrawn"}).json()["results"]] == [pk]


def test_a_file_on_a_public_request_is_quarantined_not_published(requester, public_category, run):
    asker = api(requester)
    pk = run(asker.post, "/api/v1/requests/", {"title": "Synthetic request", "category": "data-requests",
                                               "publish": True, **details()}, format="json", expect=201)["id"]
    identifying = (b"patient_name,email,date_of_birth,outcome\n"
                   b"Jane Testpatient,jane.testpatient@example.org,1970-01-01,recovered\n")
    stored = run(asker.post, f"/api/v1/requests/{pk}/files/",
                 {"file": SimpleUploadedFile("cohort.csv", identifying, content_type="text/csv")},
                 format="multipart", expect=201)
    upload = Upload.objects.select_related("current_version").get(pk=stored["id"])
    assert stored["url"] == upload.get_absolute_url()
    assert upload.declared_identifying is False
    assert upload.current_version.finding_count > 0  # the scan found the identifiers
    assert upload.state == Upload.State.REVIEW and upload.published_version is None and upload.published_at is None
    assert quarantine_storage().exists(upload.current_version.storage_name)
    # Nothing about it reaches the public: no result, no post, no download.
    assert not Result.objects.exists()
    assert api().get(f"/api/v1/topics/{DataRequest.objects.get(pk=pk).topic_id}/posts/").json()["results"][0][
        "number"] == 1
    assert Client().get(reverse("anonymization:upload-detail", args=[upload.pk])).status_code in (302, 403, 404)
