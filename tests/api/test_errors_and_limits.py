"""Every refusal of the API in the one JSON shape {"error": {"code", "message", "fields"?,
"retry_after"?}} with the right status, the bounds on JSON bodies, the web's rate limits
through the API, and the list endpoints' paging parameters."""
import base64
import datetime
import json

import pytest
import time_machine
from django.conf import settings as django_settings
from django.test import Client

from forum import services
from forum.api.errors import error_body
from forum.models import Post, Topic
from forum.permissions import Role
from forum.services.tokens import api_token_create
from requests_board import services as board_services
from requests_board.models import Claim, DataRequest, Result
from tests.forum.factories import UserFactory
from tests.helpers import sign_in
from tests.requests_board.factories import make_delivered, make_request

pytestmark = pytest.mark.django_db

# A moment 100 seconds into a day, so every rate-limit window (all divide a day) started 100 seconds ago.
DAY_START = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).replace(
    hour=0, minute=0, second=0, microsecond=0)
T0 = DAY_START + datetime.timedelta(seconds=100)


# --- Helpers -----------------------------------------------------------------------------

def key_for(user, scope="write"):
    return api_token_create(actor=user, name="test script", scope=scope, second_factor=True)[1]


def call(client, method, path, key=None, data=None, body=None, content_type="application/json", **headers):
    """One API call: `data` is sent as JSON, `body` as it is."""
    if key is not None:
        headers["Authorization"] = f"Token {key}"
    kwargs = {"headers": headers}
    if data is not None:
        body = json.dumps(data)
    if body is not None:
        kwargs.update(data=body, content_type=content_type)
    return getattr(client, method)(path, **kwargs)


def assert_error(response, status: int, code: str) -> dict:
    """The one error shape, with this status and code."""
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = json.loads(response.content)
    assert set(body) == {"error"}, body
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"].strip()
    assert set(error) <= {"code", "message", "fields", "retry_after"}
    if "fields" in error:
        assert error["fields"] and all(
            isinstance(messages, list) and messages and all(isinstance(m, str) and m for m in messages)
            for messages in error["fields"].values()), error
    if "retry_after" in error:
        assert isinstance(error["retry_after"], int)
    return error


@pytest.fixture
def api():
    return Client()


@pytest.fixture
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def delivered(requester, volunteer, public_category, django_capture_on_commit_callbacks):
    """A request with a delivered result: (request, claim, result)."""
    with django_capture_on_commit_callbacks(execute=True):
        return make_delivered(requester, volunteer, public_category)


@pytest.fixture
def open_request(requester, public_category, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return make_request(requester, public_category, title="A synthetic open request")


def test_error_body_has_only_what_applies():
    assert error_body("x", "y") == {"error": {"code": "x", "message": "y"}}
    assert error_body("x", "y", fields={"a": ["b"]}, retry_after=0) == {
        "error": {"code": "x", "message": "y", "fields": {"a": ["b"]}, "retry_after": 0}}
    assert error_body("x", "y", fields={}) == {"error": {"code": "x", "message": "y"}}


# --- 400: invalid input, with `fields` ---------------------------------------------------------

def test_missing_fields_are_named(api, member):
    error = assert_error(call(api, "post", "/api/v1/topics/", key_for(member), data={}), 400, "invalid")
    assert set(error["fields"]) == {"category", "title", "raw"}
    for name in ("category", "title", "raw"):
        assert name in error["message"]


def test_wrong_types_are_named(api, member, public_topic):
    key = key_for(member)
    error = assert_error(call(api, "post", f"/api/v1/topics/{public_topic.pk}/posts/", key,
                              data={"raw": {"nested": "object"}, "reply_to_number": "first"}), 400, "invalid")
    assert set(error["fields"]) == {"raw", "reply_to_number"}
    error = assert_error(call(api, "post", "/api/v1/topics/", key, data={
        "category": "data-requests", "title": "x" * 201, "raw": "Synthetic.", "tags": "not-a-list"}), 400, "invalid")
    assert set(error["fields"]) == {"title", "tags"}


def test_a_service_refusal_names_its_field(api, member, public_category):
    error = assert_error(call(api, "post", "/api/v1/topics/", key_for(member), data={
        "category": "no-such-category", "title": "A synthetic topic", "raw": "Synthetic."}), 400, "invalid")
    assert set(error["fields"]) == {"category"}
    assert not Topic.objects.filter(title="A synthetic topic").exists()


def test_a_service_validation_error_by_field_becomes_fields(api, requester, public_category):
    """The request service's own checks (not the serializer's) come back by field too."""
    response = call(api, "post", "/api/v1/requests/", key_for(requester), data={
        "title": "A synthetic request", "category": public_category.slug, "publish": True})
    error = assert_error(response, 400, "invalid")
    assert error["fields"] and "question" in error["fields"]
    assert not DataRequest.objects.exists()


def test_a_refusal_without_a_field_has_a_message_and_no_fields(api, volunteer, open_request):
    error = assert_error(call(api, "post", f"/api/v1/requests/{open_request.pk}/unclaim/", key_for(volunteer)),
                         400, "invalid")
    assert "fields" not in error
    assert "claim" in error["message"].lower()


@pytest.mark.parametrize("body", ["[]", "[1, 2]", '"a string"', "42", "null", "true"])
def test_a_body_that_is_not_an_object_is_invalid_not_a_crash(api, member, body):
    response = call(api, "post", "/api/v1/topics/", key_for(member), body=body)
    error = assert_error(response, 400, "invalid")
    assert "fields" not in error or "non_field_errors" not in error["fields"]


def test_an_empty_body_is_invalid_input(api, member):
    error = assert_error(call(api, "post", "/api/v1/topics/", key_for(member), body=""), 400, "invalid")
    assert set(error["fields"]) == {"category", "title", "raw"}


@pytest.mark.parametrize("query", ["q=", "q=%20%20", "q=synthetic&from=not-a-date", "q=synthetic&page=abc"])
def test_search_input_errors_are_invalid(api, query):
    error = assert_error(api.get(f"/api/v1/search/?{query}"), 400, "invalid")
    assert error["fields"]


def test_board_filter_errors_are_invalid(api):
    error = assert_error(api.get("/api/v1/requests/?state=nonsense"), 400, "invalid")
    assert "state" in error["fields"]


# --- 401 and 403 -------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, data", [
    ("post", "/api/v1/topics/", {"category": "data-requests", "title": "Synthetic", "raw": "Synthetic."}),
    ("post", "/api/v1/requests/", {"title": "Synthetic"}),
    ("post", "/api/v1/notifications/read/", {}),
    ("get", "/api/v1/notifications/", None),
])
def test_anonymous_writes_and_private_reads_are_401(api, method, path, data):
    response = call(api, method, path, data=data)
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Token realm="api"'


def test_an_unknown_token_is_401(api):
    response = api.get("/api/v1/topics/", headers={"Authorization": "Token hdk_nope"})
    assert_error(response, 401, "authentication_failed")
    assert response["WWW-Authenticate"] == 'Token realm="api"'


def test_a_role_refusal_is_403_with_the_webs_message(api, member, open_request):
    error = assert_error(call(api, "post", f"/api/v1/requests/{open_request.pk}/claim/", key_for(member),
                              data={}), 403, "permission_denied")
    assert "volunteer" in error["message"].lower()
    assert not Claim.objects.exists()


def test_someone_elses_post_is_403(api, member, public_topic):
    first = Post.objects.get(topic=public_topic, number=1)
    key = key_for(member)
    assert_error(call(api, "patch", f"/api/v1/posts/{first.pk}/", key, data={"raw": "Hijacked."}), 403,
                 "permission_denied")
    assert_error(call(api, "delete", f"/api/v1/posts/{first.pk}/", key), 403, "permission_denied")
    first.refresh_from_db()
    assert first.raw != "Hijacked." and first.deleted_at is None


def test_a_requester_cannot_accept_someone_elses_result(api, delivered):
    _request, _claim, result = delivered
    assert_error(call(api, "post", f"/api/v1/results/{result.pk}/accept/", key_for(UserFactory(
        roles=[Role.REQUESTER]))), 403, "permission_denied")
    result.refresh_from_db()
    assert result.accepted_at is None


# --- 404 ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("path", [
    "/api/v1/topics/999999/",
    "/api/v1/topics/999999/posts/",
    "/api/v1/posts/999999/",
    "/api/v1/categories/no-such-category/",
    "/api/v1/users/nobody-by-this-name/",
    "/api/v1/requests/999999/",
    "/api/v1/results/999999/",
    "/api/v1/topics/?category=no-such-category",
    "/api/v1/topics/?tag=no-such-tag",
])
def test_missing_things_are_404(api, path):
    assert_error(api.get(path), 404, "not_found")


def test_private_things_look_missing(api, member, private_topic, private_category):
    for client, key in ((api, None), (api, key_for(member))):
        for path in (f"/api/v1/topics/{private_topic.pk}/", f"/api/v1/topics/{private_topic.pk}/posts/",
                     f"/api/v1/categories/{private_category.slug}/",
                     f"/api/v1/topics/?category={private_category.slug}"):
            assert_error(call(client, "get", path, key), 404, "not_found")
    missing = call(api, "get", "/api/v1/topics/999999/", key_for(member)).json()
    private = call(api, "get", f"/api/v1/topics/{private_topic.pk}/", key_for(member)).json()
    assert missing == private


def test_a_write_to_a_private_topic_is_404_and_writes_nothing(api, member, private_topic):
    assert_error(call(api, "post", f"/api/v1/topics/{private_topic.pk}/posts/", key_for(member),
                      data={"raw": "A synthetic reply."}), 404, "not_found")
    assert Post.objects.filter(topic=private_topic).count() == 1


@pytest.mark.parametrize("path", [
    "/api/v1/xyz/",
    "/api/v1/xyz",
    "/api/v1/topics/abc/",
    "/api/v1/topics/1/nothing/",
    "/api/v2/topics/",
    "/api/",
    "/api/v1/",
])
@pytest.mark.parametrize("accept", ["application/json", "text/html", "*/*"])
def test_unknown_api_addresses_are_json_404_not_the_html_page(api, path, accept):
    response = api.get(path, headers={"Accept": accept})
    assert_error(response, 404, "not_found")
    assert b"<html" not in response.content.lower()


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_unknown_api_addresses_are_json_404_for_every_method(api, member, method):
    assert_error(call(api, method, "/api/v1/xyz/", key_for(member), data={}), 404, "not_found")


def test_pages_outside_the_api_keep_the_html_404(api):
    response = api.get("/no-such-page-anywhere/")
    assert response.status_code == 404
    assert not response["Content-Type"].startswith("application/json")


# --- 405 ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("method, path, allowed", [
    ("put", "/api/v1/topics/", {"GET", "POST"}),
    ("delete", "/api/v1/topics/", {"GET", "POST"}),
    ("patch", "/api/v1/categories/", {"GET"}),
    ("post", "/api/v1/users/", {"GET"}),
    ("put", "/api/v1/posts/{post}/", {"GET", "PATCH", "DELETE"}),
    ("delete", "/api/v1/topics/{topic}/", {"GET"}),
    ("get", "/api/v1/notifications/read/", {"POST"}),
    ("get", "/api/v1/requests/{request}/claim/", {"POST"}),
])
def test_a_method_an_endpoint_lacks_is_405(api, member, public_topic, open_request, method, path, allowed):
    post = Post.objects.get(topic=public_topic, number=1)
    path = path.format(post=post.pk, topic=public_topic.pk, request=open_request.pk)
    response = call(api, method, path, key_for(member), data={} if method != "get" else None)
    error = assert_error(response, 405, "method_not_allowed")
    assert method.upper() in error["message"]
    assert allowed <= {m.strip() for m in response["Allow"].split(",")}


# --- 409: a step the request's state does not allow ----------------------------------------------

def test_accepting_twice_is_409(api, requester, delivered, django_capture_on_commit_callbacks):
    data_request, _claim, result = delivered
    key = key_for(requester)
    with django_capture_on_commit_callbacks(execute=True):
        assert call(api, "post", f"/api/v1/results/{result.pk}/accept/", key).status_code == 200
    data_request.refresh_from_db()
    assert data_request.state == DataRequest.State.ACCEPTED
    error = assert_error(call(api, "post", f"/api/v1/results/{result.pk}/accept/", key), 409, "invalid_state")
    assert "no result to accept" in error["message"]
    assert "fields" not in error


def test_accepting_on_a_request_that_is_not_delivered_is_409(api, requester, moderator, delivered):
    data_request, _claim, result = delivered
    board_services.request_close(actor=moderator, data_request_id=data_request.pk, reason="Synthetic reason.")
    error = assert_error(call(api, "post", f"/api/v1/results/{result.pk}/accept/", key_for(requester)),
                         409, "invalid_state")
    assert "closed" in error["message"].lower()
    result.refresh_from_db()
    data_request.refresh_from_db()
    assert result.accepted_at is None and data_request.state == DataRequest.State.CLOSED


def test_claiming_a_withdrawn_request_is_409(api, requester, volunteer, open_request,
                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = call(api, "post", f"/api/v1/requests/{open_request.pk}/withdraw/", key_for(requester),
                        data={"reason": "Synthetic reason."})
    assert response.status_code == 200, response.content
    assert response.json()["state"] == DataRequest.State.WITHDRAWN
    error = assert_error(call(api, "post", f"/api/v1/requests/{open_request.pk}/claim/", key_for(volunteer),
                              data={"plan": "A synthetic plan."}), 409, "invalid_state")
    assert "withdrawn" in error["message"].lower()
    assert not Claim.objects.exists()


def test_withdrawing_twice_is_409(api, requester, open_request):
    key = key_for(requester)
    assert call(api, "post", f"/api/v1/requests/{open_request.pk}/withdraw/", key, data={}).status_code == 200
    assert_error(call(api, "post", f"/api/v1/requests/{open_request.pk}/withdraw/", key, data={}),
                 409, "invalid_state")


def test_delivering_on_an_accepted_request_is_409(api, requester, volunteer, delivered):
    data_request, _claim, result = delivered
    board_services.result_accept(actor=requester, result_id=result.pk)
    response = call(api, "post", f"/api/v1/requests/{data_request.pk}/results/", key_for(volunteer), data={
        "summary": "Another synthetic result.", "repository_url": "https://github.com/example/other",
        "license": "MIT"})
    error = assert_error(response, 409, "invalid_state")
    assert "solved" in error["message"]
    assert Result.objects.count() == 1


# --- 413, 400 parse_error and 415: what the API reads --------------------------------------------

def padded_topic_body(size: int, category="data-requests") -> bytes:
    """A valid topic body of exactly `size` bytes (spaces after the JSON are still JSON)."""
    body = json.dumps({"category": category, "title": "A synthetic padded topic", "raw": "Synthetic."})
    assert len(body) <= size
    return (body + " " * (size - len(body))).encode()


def test_a_body_over_the_limit_is_413(api, settings, member):
    settings.API_MAX_JSON_BYTES = 2048
    key = key_for(member)
    response = call(api, "post", "/api/v1/topics/", key, body=padded_topic_body(2049))
    error = assert_error(response, 413, "request_too_large")
    assert "2 KB" in error["message"]
    assert not Topic.objects.filter(title="A synthetic padded topic").exists()


def test_a_body_at_the_limit_is_read(api, settings, member, public_category, django_capture_on_commit_callbacks):
    settings.API_MAX_JSON_BYTES = 2048
    with django_capture_on_commit_callbacks(execute=True):
        response = call(api, "post", "/api/v1/topics/", key_for(member),
                        body=padded_topic_body(2048, public_category.slug))
    assert response.status_code == 201, response.content
    assert Topic.objects.filter(title="A synthetic padded topic").exists()


def test_the_default_limit_refuses_a_big_body(api, member):
    limit = django_settings.API_MAX_JSON_BYTES
    assert limit == 256 * 1024
    body = json.dumps({"category": "data-requests", "title": "Synthetic", "raw": "x" * limit})
    assert_error(call(api, "post", "/api/v1/topics/", key_for(member), body=body), 413, "request_too_large")


def test_a_body_far_over_djangos_own_bound_is_still_a_json_413(api, member):
    body = b"[" + b"1," * (3 * 1024 * 1024) + b"1]"
    assert len(body) > django_settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    assert_error(call(api, "post", "/api/v1/topics/", key_for(member), body=body), 413, "request_too_large")


@pytest.mark.parametrize("method, path", [("patch", "/api/v1/posts/{post}/"),
                                          ("post", "/api/v1/topics/{topic}/posts/"),
                                          ("post", "/api/v1/requests/")])
def test_every_json_endpoint_has_the_bound(api, settings, requester, public_topic, method, path):
    settings.API_MAX_JSON_BYTES = 1024
    post = Post.objects.get(topic=public_topic, number=1)
    body = json.dumps({"raw": "y" * 2000, "title": "Synthetic"})
    response = call(api, method, path.format(post=post.pk, topic=public_topic.pk), key_for(requester), body=body)
    assert_error(response, 413, "request_too_large")
    post.refresh_from_db()
    assert "y" * 2000 not in post.raw


@pytest.mark.parametrize("body", [
    '{"category": "data-requests", "title": ',
    "{'single': 'quotes'}",
    '{"a": 1,}',
    "not json at all",
    '{"a": "unterminated',
])
def test_invalid_json_is_a_parse_error(api, member, body):
    error = assert_error(call(api, "post", "/api/v1/topics/", key_for(member), body=body), 400, "parse_error")
    assert "JSON" in error["message"]


def test_a_body_that_is_not_utf8_is_a_parse_error(api, member):
    body = '{"category": "data-requests", "title": "Synth\u00e9tique", "raw": "x"}'.encode("latin-1")
    assert_error(call(api, "post", "/api/v1/topics/", key_for(member), body=body), 400, "parse_error")


@pytest.mark.parametrize("body", [
    "[" * 100_000 + "]" * 100_000,
    '{"a":' * 40_000 + "1" + "}" * 40_000,
    '{"raw": ' + "[" * 50_000 + "]" * 50_000 + "}",
])
def test_very_deep_nesting_within_the_size_bound_is_a_parse_error(api, member, body):
    assert len(body) <= django_settings.API_MAX_JSON_BYTES
    error = assert_error(call(api, "post", "/api/v1/topics/", key_for(member), body=body), 400, "parse_error")
    assert "nested" in error["message"].lower()


def test_moderate_nesting_is_just_invalid_input(api, member):
    body = json.dumps({"category": "data-requests", "title": "Synthetic", "raw": [[[[["deep"]]]]]})
    error = assert_error(call(api, "post", "/api/v1/topics/", key_for(member), body=body), 400, "invalid")
    assert set(error["fields"]) == {"raw"}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_standard_json_constants_are_a_parse_error(api, member, public_topic, constant):
    body = '{"raw": "A synthetic reply.", "reply_to_number": ' + constant + "}"
    assert_error(call(api, "post", f"/api/v1/topics/{public_topic.pk}/posts/", key_for(member), body=body),
                 400, "parse_error")


@pytest.mark.parametrize("content_type", [
    "text/plain",
    "application/xml",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=BoUnDaRy",
    "application/octet-stream",
])
def test_an_unsupported_content_type_is_415(api, member, content_type):
    response = call(api, "post", "/api/v1/topics/", key_for(member),
                    body="category=data-requests&title=Synthetic&raw=Synthetic", content_type=content_type)
    error = assert_error(response, 415, "unsupported_media_type")
    assert content_type.split(";")[0] in error["message"]
    assert not Topic.objects.filter(title="Synthetic").exists()


def test_json_to_the_file_endpoint_is_415(api, requester, open_request):
    assert_error(call(api, "post", f"/api/v1/requests/{open_request.pk}/files/", key_for(requester),
                      data={"file": "not a file"}), 415, "unsupported_media_type")


def test_json_with_a_charset_is_read(api, member, public_topic, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = call(api, "post", f"/api/v1/topics/{public_topic.pk}/posts/", key_for(member),
                        body=json.dumps({"raw": "A synthetic r\u00e9ponse."}),
                        content_type="application/json; charset=utf-8")
    assert response.status_code == 201, response.content
    assert Post.objects.get(pk=response.json()["id"]).raw == "A synthetic r\u00e9ponse."


# --- 429: the web's rate limits -------------------------------------------------------------------

def person_limits(settings, **limits):
    settings.FORUM_RATE_LIMITS = {kind: limits.get(kind, (1000, window))
                                  for kind, (_n, window) in django_settings.FORUM_RATE_LIMITS.items()}
    settings.FORUM_RATE_LIMITS_PER_IP = {}


def ip_limits(settings, **limits):
    settings.FORUM_RATE_LIMITS = {}
    settings.FORUM_RATE_LIMITS_PER_IP = {kind: limits.get(kind, (1000, window))
                                         for kind, (_n, window) in django_settings.FORUM_RATE_LIMITS_PER_IP.items()}


def new_topic(api, key, slug, n, **headers):
    return call(api, "post", "/api/v1/topics/", key, data={
        "category": slug, "title": f"Synthetic topic number {n}", "raw": f"Synthetic body {n}."}, **headers)


def assert_rate_limited(response, window: int):
    error = assert_error(response, 429, "rate_limited")
    assert response["Retry-After"] == str(error["retry_after"])
    assert 0 < error["retry_after"] <= window
    return error


def test_posting_over_the_limit_per_person_is_429_with_retry_after(api, settings, frozen, member, public_category,
                                                                    django_capture_on_commit_callbacks):
    person_limits(settings, post=(2, 600))
    key = key_for(member)
    with django_capture_on_commit_callbacks(execute=True):
        assert new_topic(api, key, public_category.slug, 1).status_code == 201
        assert new_topic(api, key, public_category.slug, 2).status_code == 201
        refused = new_topic(api, key, public_category.slug, 3)
    error = assert_rate_limited(refused, 600)
    assert error["retry_after"] == 500  # the window started 100 seconds ago
    assert "2 times" in error["message"]
    assert Topic.objects.filter(author=member).count() == 2
    # The same person through a session is the same person.
    session = Client()
    sign_in(session, member)
    assert_rate_limited(new_topic(session, None, public_category.slug, 4), 600)
    # Someone else is not limited by it.
    with django_capture_on_commit_callbacks(execute=True):
        assert new_topic(api, key_for(UserFactory()), public_category.slug, 5).status_code == 201
    # The next window lets the person post again.
    frozen.shift(600)
    with django_capture_on_commit_callbacks(execute=True):
        assert new_topic(api, key, public_category.slug, 6).status_code == 201


def test_replies_share_the_posting_limit(api, settings, frozen, member, public_category, public_topic,
                                         django_capture_on_commit_callbacks):
    person_limits(settings, post=(2, 600))
    key = key_for(member)
    with django_capture_on_commit_callbacks(execute=True):
        assert new_topic(api, key, public_category.slug, 1).status_code == 201
        assert call(api, "post", f"/api/v1/topics/{public_topic.pk}/posts/", key,
                    data={"raw": "A synthetic reply."}).status_code == 201
        refused = call(api, "post", f"/api/v1/topics/{public_topic.pk}/posts/", key,
                       data={"raw": "Another synthetic reply."})
    assert_rate_limited(refused, 600)
    assert Post.objects.filter(author=member).count() == 2


def test_edits_have_their_own_limit(api, settings, frozen, member, public_topic, django_capture_on_commit_callbacks):
    person_limits(settings, edit=(1, 600))
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.post_create(actor=member, topic_id=public_topic.pk, raw="A synthetic reply.")
    key = key_for(member)
    with django_capture_on_commit_callbacks(execute=True):
        assert call(api, "patch", f"/api/v1/posts/{reply.pk}/", key, data={"raw": "Edited once."}).status_code == 200
        assert_rate_limited(call(api, "patch", f"/api/v1/posts/{reply.pk}/", key, data={"raw": "Edited twice."}),
                            600)
        assert_rate_limited(call(api, "delete", f"/api/v1/posts/{reply.pk}/", key), 600)
    reply.refresh_from_db()
    assert reply.raw == "Edited once." and reply.deleted_at is None


def test_claims_have_their_own_limit(api, settings, frozen, requester, volunteer, public_category,
                                     django_capture_on_commit_callbacks):
    person_limits(settings, claim=(1, 3600))
    with django_capture_on_commit_callbacks(execute=True):
        first = make_request(requester, public_category, title="A first synthetic request")
        second = make_request(requester, public_category, title="A second synthetic request")
        key = key_for(volunteer)
        assert call(api, "post", f"/api/v1/requests/{first.pk}/claim/", key, data={}).status_code == 201
        assert_rate_limited(call(api, "post", f"/api/v1/requests/{second.pk}/claim/", key, data={}), 3600)
    assert Claim.objects.count() == 1


def test_posting_over_the_limit_per_address_is_429(api, settings, frozen, public_category,
                                                    django_capture_on_commit_callbacks):
    ip_limits(settings, post=(2, 600))
    one, two, three = (key_for(UserFactory()) for _ in range(3))
    here = {"REMOTE_ADDR": "192.0.2.10"}
    with django_capture_on_commit_callbacks(execute=True):
        assert new_topic(api, one, public_category.slug, 1).status_code == 201
        assert new_topic(api, two, public_category.slug, 2).status_code == 201
        assert_rate_limited(new_topic(api, three, public_category.slug, 3), 600)
        # From another address the same person may post.
        elsewhere = api.post("/api/v1/topics/", data=json.dumps({
            "category": public_category.slug, "title": "Synthetic topic from elsewhere", "raw": "Synthetic."}),
            content_type="application/json", headers={"Authorization": f"Token {three}"}, **here)
    assert elsewhere.status_code == 201, elsewhere.content
    assert Topic.objects.filter(title__startswith="Synthetic topic").count() == 3


def test_the_address_behind_a_trusted_proxy_is_counted(api, settings, frozen, public_category,
                                                       django_capture_on_commit_callbacks):
    ip_limits(settings, post=(1, 600))
    settings.TRUSTED_PROXY_COUNT = 1
    key = key_for(UserFactory())
    with django_capture_on_commit_callbacks(execute=True):
        assert new_topic(api, key, public_category.slug, 1, **{"X-Forwarded-For": "192.0.2.1"}).status_code == 201
        assert_rate_limited(new_topic(api, key, public_category.slug, 2, **{"X-Forwarded-For": "192.0.2.1"}), 600)
        assert new_topic(api, key, public_category.slug, 3, **{"X-Forwarded-For": "192.0.2.2"}).status_code == 201


def test_moderators_are_not_limited(api, settings, frozen, public_category, django_capture_on_commit_callbacks):
    settings.FORUM_RATE_LIMITS = {**django_settings.FORUM_RATE_LIMITS, "post": (1, 600)}
    settings.FORUM_RATE_LIMITS_PER_IP = {**django_settings.FORUM_RATE_LIMITS_PER_IP, "post": (1, 600)}
    moderator = UserFactory(roles=[Role.MODERATOR], totp=True)
    key = key_for(moderator)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(4):
            assert new_topic(api, key, public_category.slug, n).status_code == 201
    assert Topic.objects.filter(author=moderator).count() == 4


def test_every_attempt_counts_like_on_the_web_even_refused_input(api, settings, frozen, member, public_category):
    """As the web's forms, the limit counts attempts before reading them: a script cannot hammer the
    validation with bad bodies for free."""
    person_limits(settings, post=(2, 600))
    key = key_for(member)
    for _ in range(2):
        assert_error(call(api, "post", "/api/v1/topics/", key, data={"title": "Missing the rest"}), 400, "invalid")
    assert_error(new_topic(api, key, public_category.slug, 1), 429, "rate_limited")


def test_a_read_token_is_refused_before_it_is_counted(api, settings, frozen, member, public_category,
                                                      django_capture_on_commit_callbacks):
    person_limits(settings, post=(1, 600))
    reader = key_for(member, scope="read")
    for n in range(3):
        assert_error(new_topic(api, reader, public_category.slug, n), 403, "token_read_only")
    with django_capture_on_commit_callbacks(execute=True):
        assert new_topic(api, key_for(member), public_category.slug, 9).status_code == 201


# --- Paging: cursors, page sizes and orderings ----------------------------------------------------

@pytest.fixture
def topics(public_category, requester, django_capture_on_commit_callbacks):
    made = []
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            made.append(services.topic_create(actor=requester, category=public_category,
                                              title=f"Synthetic paged topic {n}", raw=f"Synthetic body {n}."))
    return made


LISTS = ["/api/v1/topics/", "/api/v1/tags/", "/api/v1/users/", "/api/v1/requests/", "/api/v1/results/",
         "/api/v1/datasets/"]


def test_following_next_walks_every_topic_once(api, topics):
    seen, url = [], "/api/v1/topics/?page_size=2&ordering=created_at"
    while url:
        page = api.get(url)
        assert page.status_code == 200, page.content
        body = page.json()
        assert len(body["results"]) <= 2
        seen.extend(topic["id"] for topic in body["results"])
        url = body["next"]
    assert seen == [topic.pk for topic in topics]


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("cursor", ["garbage", "gAAA", base64.b64encode(b"o=abc").decode(),
                                    base64.b64encode(b"o=-5").decode(), base64.b64encode(b"r=x").decode()])
def test_an_invalid_cursor_is_refused_in_the_error_shape(api, topics, path, cursor):
    response = api.get(path, {"cursor": cursor})
    assert response.status_code in (400, 404), response.content[:300]
    error = assert_error(response, response.status_code, "invalid" if response.status_code == 400 else "not_found")
    assert "cursor" in error["message"].lower() or "cursor" in error.get("fields", {})


@pytest.mark.parametrize("path", [
    "/api/v1/topics/",
    "/api/v1/topics/{topic}/posts/",
    "/api/v1/users/",
    "/api/v1/requests/",
    "/api/v1/tags/",
    "/api/v1/results/",
])
@pytest.mark.parametrize("position", ["abc", "2026-13-45", "1e999"])
def test_a_cursor_with_a_forged_position_is_never_a_server_error(api, topics, path, position):
    """A cursor is opaque, but a script can still send any base64: the worst it gets is a 4xx."""
    cursor = base64.b64encode(f"p={position}".encode()).decode()
    try:
        response = api.get(path.format(topic=topics[0].pk), {"cursor": cursor})
    except Exception as error:  # the test client re-raises a view's uncaught exception
        pytest.fail(f"server error: {error!r}")
    assert response.status_code < 500, response.content[:300]
    if response.status_code >= 400:
        assert_error(response, response.status_code, json.loads(response.content)["error"]["code"])


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("size", ["0", "-1", "101", "abc", "1.5", ""])
def test_a_page_size_out_of_range_is_invalid(api, path, size):
    error = assert_error(api.get(path, {"page_size": size}), 400, "invalid")
    assert set(error["fields"]) == {"page_size"}
    assert "100" in error["fields"]["page_size"][0]


@pytest.mark.parametrize("size", ["1", "100"])
def test_page_sizes_at_the_bounds_are_read(api, topics, size):
    response = api.get("/api/v1/topics/", {"page_size": size})
    assert response.status_code == 200
    assert len(response.json()["results"]) == min(int(size), len(topics))


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("ordering", ["nonsense", "pk", "-pk", "author__password", "?"])
def test_an_unknown_ordering_is_invalid_and_names_the_choices(api, path, ordering):
    error = assert_error(api.get(path, {"ordering": ordering}), 400, "invalid")
    assert set(error["fields"]) == {"ordering"}
    assert "Order by one of" in error["fields"]["ordering"][0]


def test_the_offered_orderings_work(api, topics):
    newest = api.get("/api/v1/topics/", {"ordering": "-created_at"}).json()["results"]
    oldest = api.get("/api/v1/topics/", {"ordering": "created_at"}).json()["results"]
    assert [t["id"] for t in newest] == [t["id"] for t in reversed(oldest)]
    assert api.get(f"/api/v1/topics/{topics[0].pk}/posts/", {"ordering": "-number"}).status_code == 200


def test_a_list_with_an_error_in_its_filter_and_its_paging_says_one_thing_in_the_shape(api):
    response = api.get("/api/v1/topics/", {"page_size": "0", "ordering": "nonsense"})
    assert_error(response, 400, "invalid")


def test_search_pages_start_at_one(api):
    response = api.get("/api/v1/search/", {"q": "synthetic", "page": "-3"})
    assert response.status_code == 200
    assert response.json()["page"] == 1


def test_a_deleted_reply_does_not_leak_through_errors(api, member, public_topic, django_capture_on_commit_callbacks):
    """Deleting twice: the second time is a refusal in the shape, never a server error."""
    with django_capture_on_commit_callbacks(execute=True):
        reply = services.post_create(actor=member, topic_id=public_topic.pk, raw="A synthetic reply.")
    key = key_for(member)
    with django_capture_on_commit_callbacks(execute=True):
        assert call(api, "delete", f"/api/v1/posts/{reply.pk}/", key).status_code == 204
        second = call(api, "delete", f"/api/v1/posts/{reply.pk}/", key)
    assert second.status_code in (403, 404), second.content
    assert_error(second, second.status_code, "permission_denied" if second.status_code == 403 else "not_found")


# --- Odd input and crashes ------------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/api/v1/topics/?category=a%00b", "/api/v1/tags/?ordering=na%00me",
                                  "/api/v1/users/a%00b/"])
def test_a_nul_character_in_the_address_is_a_parse_error(api, path):
    assert_error(api.get(path), 400, "parse_error")


@pytest.mark.parametrize("field", ["from", "to"])
def test_a_blank_search_date_is_refused_not_read_as_any(api, field):
    error = assert_error(api.get("/api/v1/search/", {"q": "synthetic", field: ""}), 400, "invalid")
    assert field in error["fields"]


def test_a_crash_under_the_api_answers_in_the_json_shape():
    from django.test import RequestFactory

    from config.urls import handler500

    response = handler500(RequestFactory().get("/api/v1/topics/"))
    assert response.status_code == 500
    assert json.loads(response.content)["error"]["code"] == "server_error"
    assert handler500(RequestFactory().get("/latest/"))["Content-Type"].startswith("text/html")


def test_a_title_only_edit_keeps_the_text_read_under_the_lock(api, requester, public_topic,
                                                                django_capture_on_commit_callbacks):
    """The API sends no text for a title-only PATCH (raw=None): the service takes the text from the
    row it locked, so an edit of the text landing just before is never undone by a stale copy."""
    from forum.models import Post

    first = Post.objects.get(topic=public_topic, number=1)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_edit(actor=requester, post_id=first.pk, raw="Text changed meanwhile.")
        response = call(api, "patch", f"/api/v1/posts/{first.pk}/", key_for(requester),
                        data={"title": "A retitled synthetic request"})
    assert response.status_code == 200, response.content[:300]
    first.refresh_from_db()
    first.topic.refresh_from_db()
    assert first.raw == "Text changed meanwhile." and first.topic.title == "A retitled synthetic request"
    with django_capture_on_commit_callbacks(execute=True):
        services.post_edit(actor=requester, post_id=first.pk, raw=None, title="Retitled again")
    first.refresh_from_db()
    assert first.raw == "Text changed meanwhile." and first.topic.title == "Retitled again"
