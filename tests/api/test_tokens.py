"""Personal API tokens: made and revoked by their owner, stored only as a fingerprint, read or
write, refused at once when revoked or when their account is closed, and the settings page
that makes them."""
import datetime
import hashlib
import io
import json
import zipfile

import pytest
import time_machine
from django.apps import apps
from django.contrib.sessions.models import Session
from django.core.cache import cache
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from forum import services
from forum.models import ApiToken, Post, TermsVersion, Topic, User
from forum.permissions import Role, check_token_allows
from forum.services.tokens import PREFIX_LENGTH, TOKEN_START, api_token_create, api_token_revoke, api_token_use
from requests_board.models import Claim, DataRequest
from tests.forum import pagecache_urls
from tests.forum.factories import UserFactory
from tests.helpers import sign_in
from tests.requests_board.factories import make_request

pytestmark = pytest.mark.django_db

PAGE = "/settings/api-tokens/"
T0 = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)


# --- Helpers -----------------------------------------------------------------------------

def make_token(user, scope="read", name="dashboard script", second_factor=True):
    """As made on the tokens page in a session that passed the second factor (unless told)."""
    return api_token_create(actor=user, name=name, scope=scope, second_factor=second_factor)


def call(client, method, path, key=None, data=None, keyword="Token", **headers):
    """One API call; `data` is sent as JSON."""
    if key is not None:
        headers["Authorization"] = f"{keyword} {key}"
    kwargs = {"headers": headers}
    if data is not None:
        kwargs.update(data=json.dumps(data), content_type="application/json")
    return getattr(client, method)(path, **kwargs)


def assert_error(response, status: int, code: str) -> dict:
    """The one error shape, with this status and code."""
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert error["code"] == code, error
    assert isinstance(error["message"], str) and error["message"].strip()
    assert set(error) <= {"code", "message", "fields", "retry_after"}
    return error


def every_stored_value():
    """Every value of every column of every row in the database, as text."""
    for model in apps.get_models(include_auto_created=True):
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [field.attname for field in model._meta.concrete_fields]
        for row in model._base_manager.values_list(*fields):
            for value in row:
                if value is None:
                    continue
                yield model._meta.db_table, bytes(value).decode("latin-1") if isinstance(
                    value, (bytes, memoryview)) else str(value)


def decoded_sessions():
    """Session data is signed, not encrypted: anyone who reads the table reads what is in it."""
    for session in Session.objects.all():
        yield Session._meta.db_table, json.dumps(session.get_decoded())


def assert_nowhere_in_database(secret: str):
    assert any(table == ApiToken._meta.db_table for table, _value in every_stored_value())  # the scan sees tokens
    places = [table for table, value in [*every_stored_value(), *decoded_sessions()] if secret in value]
    assert places == [], f"the key is stored in {places}"


def make_on_page(client, name="page token", scope="write"):
    """Submit the form and follow the redirect to the one page that shows the key: (response, key)."""
    response = client.post(PAGE, {"name": name, "scope": scope}, follow=True)
    assert response.redirect_chain == [(PAGE, 302)], response.content[:300]
    assert response.status_code == 200
    return response, response.context["new_key"]


@pytest.fixture
def reply(public_topic, member, django_capture_on_commit_callbacks):
    """A reply by `member` in the requester's public topic."""
    with django_capture_on_commit_callbacks(execute=True):
        return services.post_create(actor=member, topic_id=public_topic.pk, raw="A synthetic reply by a member.")


# --- Making a token: the service ------------------------------------------------------------

def test_the_key_is_returned_once_and_only_its_sha256_and_prefix_are_stored(member):
    token, key = make_token(member, scope="write")
    assert key.startswith(TOKEN_START)
    assert len(key) == len(TOKEN_START) + 40  # 30 random bytes, url-safe base64: 240 bits
    token.refresh_from_db()
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert len(token.key_hash) == 64
    assert token.prefix == key[:PREFIX_LENGTH]
    assert token.user == member and token.scope == ApiToken.Scope.WRITE and token.name == "dashboard script"
    assert token.last_used_at is None and token.revoked_at is None
    assert key not in str(token) and key not in repr(token)
    assert not hasattr(token, "key")


def test_no_column_of_any_row_holds_the_key_or_its_secret_part(member):
    token, key = make_token(member)
    assert token.key_hash in [value for _table, value in every_stored_value()]  # the scan finds what is stored
    secret_part = key[PREFIX_LENGTH:]
    assert len(secret_part) >= 30
    assert_nowhere_in_database(key)
    assert_nowhere_in_database(secret_part)


def test_no_column_holds_the_key_after_it_is_made_on_the_page_shown_and_used(client, member):
    sign_in(client, member)
    _response, key = make_on_page(client)
    assert key and key.startswith(TOKEN_START)
    assert call(Client(), "get", "/api/v1/notifications/", key).status_code == 200
    assert_nowhere_in_database(key)
    assert_nowhere_in_database(key[PREFIX_LENGTH:])


def test_no_column_holds_the_key_between_making_it_and_showing_it(client, member):
    sign_in(client, member)
    response = client.post(PAGE, {"name": "never shown", "scope": "write"})
    assert response.status_code == 302
    token = ApiToken.objects.get(user=member)
    stored = [value for session in Session.objects.all() for value in session.get_decoded().values()
              if isinstance(value, str)]
    leaked = [value for value in stored if hashlib.sha256(value.encode()).hexdigest() == token.key_hash]
    assert leaked == [], "the working key waits, readable, in the session table"


def test_every_key_is_different(member):
    keys = {make_token(member, name=f"token {n}")[1] for n in range(5)}
    assert len(keys) == 5
    assert len(set(ApiToken.objects.values_list("key_hash", flat=True))) == 5


@pytest.mark.parametrize("name", ["", "   ", "\n\t"])
def test_a_token_needs_a_name(member, name):
    with pytest.raises(ValidationError) as error:
        make_token(member, name=name)
    assert set(error.value.message_dict) == {"name"}
    assert not ApiToken.objects.exists()


def test_a_name_over_100_characters_is_refused_and_spaces_are_tidied(member):
    with pytest.raises(ValidationError) as error:
        make_token(member, name="x" * 101)
    assert "name" in error.value.message_dict
    token, _key = make_token(member, name="  weekly   dashboard\n")
    assert token.name == "weekly dashboard"
    assert make_token(member, name="y" * 100)[0].name == "y" * 100


@pytest.mark.parametrize("scope", ["", "admin", "READ", "readwrite", None])
def test_the_scope_must_be_read_or_write(member, scope):
    with pytest.raises(ValidationError) as error:
        make_token(member, scope=scope)
    assert set(error.value.message_dict) == {"scope"}
    assert not ApiToken.objects.exists()


def test_a_person_has_at_most_the_configured_number_of_live_tokens(settings, member):
    settings.API_MAX_TOKENS_PER_PERSON = 2
    first, _ = make_token(member, name="one")
    make_token(member, name="two")
    with pytest.raises(ValidationError) as error:
        make_token(member, name="three")
    assert "name" in error.value.message_dict
    assert ApiToken.objects.filter(user=member).count() == 2
    # Someone else is not affected, and a revoked token frees a place.
    make_token(UserFactory(), name="theirs")
    api_token_revoke(actor=member, token_id=first.pk)
    make_token(member, name="three")
    assert ApiToken.objects.filter(user=member, revoked_at__isnull=True).count() == 2


def test_a_suspended_person_cannot_make_tokens(member, moderator):
    services.user_suspend(actor=moderator, user_id=member.pk, days=3, reason="Synthetic reason")
    member.refresh_from_db()
    with pytest.raises(PermissionDenied):
        make_token(member)
    assert not ApiToken.objects.exists()


def test_check_token_allows_read_tokens_only_to_read(member):
    read, _ = make_token(member, scope="read", name="r")
    write, _ = make_token(member, scope="write", name="w")
    for method in ("GET", "HEAD", "OPTIONS"):
        check_token_allows(read, method)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        with pytest.raises(PermissionDenied):
            check_token_allows(read, method)
        check_token_allows(write, method)
        check_token_allows(None, method)  # a session


# --- Using and revoking: the service -----------------------------------------------------------

def test_api_token_use_finds_the_live_token_only(member):
    token, key = make_token(member)
    assert api_token_use(key=key) == token
    assert api_token_use(key=key + "x") is None
    assert api_token_use(key=key[:-1]) is None
    assert api_token_use(key="") is None
    assert api_token_use(key=token.key_hash) is None
    assert api_token_use(key=token.prefix) is None
    assert api_token_use(key="x" * 201) is None


def test_revoking_is_immediate_and_idempotent(member):
    token, key = make_token(member)
    with time_machine.travel(T0, tick=False):
        revoked = api_token_revoke(actor=member, token_id=token.pk)
    assert revoked.revoked_at == T0
    assert api_token_use(key=key) is None
    with time_machine.travel(T0 + datetime.timedelta(hours=1), tick=False):
        api_token_revoke(actor=member, token_id=token.pk)
    token.refresh_from_db()
    assert token.revoked_at == T0


def test_someone_elses_token_cannot_be_revoked(member):
    token, key = make_token(member)
    with pytest.raises(ApiToken.DoesNotExist):
        api_token_revoke(actor=UserFactory(), token_id=token.pk)
    with pytest.raises(ApiToken.DoesNotExist):
        api_token_revoke(actor=member, token_id=token.pk + 1000)
    token.refresh_from_db()
    assert token.revoked_at is None
    assert api_token_use(key=key) == token


# --- Signing in with a token ---------------------------------------------------------------------

@pytest.mark.parametrize("keyword", ["Token", "Bearer", "token", "bearer", "TOKEN", "BEARER"])
def test_token_and_bearer_keywords_sign_the_caller_in(client, member, keyword):
    _token, key = make_token(member)
    response = call(client, "get", "/api/v1/notifications/", key, keyword=keyword)
    assert response.status_code == 200, response.content
    assert response.json()["results"] == []


def test_without_a_token_a_signed_in_only_endpoint_says_401_and_how_to_sign_in(client):
    response = client.get("/api/v1/notifications/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"] == 'Token realm="api"'


@pytest.mark.parametrize("header", [
    "Token",
    "Bearer",
    "Token  ",
    "Token one two",
    "Bearer hdk_abc hdk_def",
])
def test_a_malformed_authorization_header_is_refused(client, member, header):
    make_token(member)
    response = client.get("/api/v1/topics/", headers={"Authorization": header})
    error = assert_error(response, 401, "authentication_failed")
    assert "Authorization" in error["message"] or "token" in error["message"].lower()
    assert response["WWW-Authenticate"] == 'Token realm="api"'


@pytest.mark.parametrize("key", ["hdk_unknown-token-0000000000000000000000000000", "x", "hdk_", "é" * 10, "x" * 250])
def test_an_unknown_token_is_refused_even_for_public_reads(client, public_topic, key):
    response = client.get("/api/v1/topics/", headers={"Authorization": f"Token {key}"})
    assert_error(response, 401, "authentication_failed")


def test_another_scheme_is_left_to_the_session_and_counts_as_anonymous(client, member):
    response = client.get("/api/v1/notifications/", headers={"Authorization": "Basic dXNlcjpwYXNz"})
    assert_error(response, 401, "not_authenticated")


def test_the_token_acts_as_its_owner_even_beside_someone_elses_session(client, member, requester, public_topic,
                                                                        django_capture_on_commit_callbacks):
    _token, key = make_token(member, scope="write")
    sign_in(client, requester)  # the token is asked first, and needs no CSRF token
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, "post", f"/api/v1/topics/{public_topic.pk}/posts/", key,
                        data={"raw": "A synthetic reply by token."})
    assert response.status_code == 201, response.content
    assert Post.objects.get(pk=response.json()["id"]).author == member
    assert response.json()["author"]["username"] == member.username


def test_a_revoked_token_is_refused_on_the_very_next_call(client, member):
    token, key = make_token(member)
    assert call(client, "get", "/api/v1/notifications/", key).status_code == 200
    api_token_revoke(actor=member, token_id=token.pk)
    assert_error(call(client, "get", "/api/v1/notifications/", key), 401, "authentication_failed")
    assert_error(call(client, "get", "/api/v1/topics/", key), 401, "authentication_failed")


def test_a_token_revoked_on_the_page_is_refused_on_the_very_next_call(client, member):
    token, key = make_token(member)
    api = Client()
    assert call(api, "get", "/api/v1/notifications/", key).status_code == 200
    sign_in(client, member)
    assert client.post(f"/settings/api-tokens/{token.pk}/revoke/").status_code == 302
    assert_error(call(api, "get", "/api/v1/notifications/", key), 401, "authentication_failed")


def test_the_token_of_a_deleted_account_is_gone_and_refused(client, member, django_capture_on_commit_callbacks):
    _token, key = make_token(member, scope="write")
    other, _other_key = make_token(UserFactory(), name="someone else's")
    assert call(client, "get", "/api/v1/notifications/", key).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        services.account_delete(actor=member, confirm_username=member.username)
    assert not ApiToken.objects.filter(user=member).exists()
    assert ApiToken.objects.filter(pk=other.pk).exists()
    assert_error(call(client, "get", "/api/v1/notifications/", key), 401, "authentication_failed")
    assert_error(call(client, "get", "/api/v1/topics/", key), 401, "authentication_failed")


def test_a_token_of_an_account_marked_deleted_is_refused(client, member):
    """Even if a token row survived, a deleted account signs nobody in."""
    _token, key = make_token(member)
    User.objects.filter(pk=member.pk).update(deleted_at=timezone.now())
    assert api_token_use(key=key) is None
    assert_error(call(client, "get", "/api/v1/notifications/", key), 401, "authentication_failed")


def test_the_token_of_an_inactive_person_is_refused(client, member):
    _token, key = make_token(member)
    User.objects.filter(pk=member.pk).update(is_active=False)
    assert_error(call(client, "get", "/api/v1/notifications/", key), 401, "authentication_failed")
    User.objects.filter(pk=member.pk).update(is_active=True)
    assert call(client, "get", "/api/v1/notifications/", key).status_code == 200


def test_the_token_of_a_suspended_person_reads_nothing(client, member, moderator, public_topic):
    _token, key = make_token(member, scope="write")
    services.user_suspend(actor=moderator, user_id=member.pk, days=3, reason="Synthetic reason")
    for method, path, data in [
        ("get", "/api/v1/notifications/", None),
        ("get", "/api/v1/topics/", None),
        ("get", f"/api/v1/topics/{public_topic.pk}/", None),
        ("post", f"/api/v1/topics/{public_topic.pk}/posts/", {"raw": "Synthetic reply while suspended."}),
    ]:
        error = assert_error(call(client, method, path, key, data=data), 403, "account_suspended")
        assert "Synthetic reason" in error["message"]
    assert Post.objects.filter(author=member).count() == 0


def test_a_suspended_person_with_a_session_gets_json_from_the_api(client, member, moderator):
    services.user_suspend(actor=moderator, user_id=member.pk, days=3, reason="Synthetic reason")
    sign_in(client, member)
    error = assert_error(client.get("/api/v1/topics/"), 403, "account_suspended")
    assert "Synthetic reason" in error["message"]


# --- When the token was last used ----------------------------------------------------------------

def test_last_used_at_is_noted_at_most_once_per_touch_interval(client, settings, member):
    settings.API_TOKEN_TOUCH_SECONDS = 60
    token, key = make_token(member)
    with time_machine.travel(T0, tick=False) as traveller:
        assert call(client, "get", "/api/v1/notifications/", key).status_code == 200
        token.refresh_from_db()
        assert token.last_used_at == T0
        traveller.shift(30)
        assert call(client, "get", "/api/v1/notifications/", key).status_code == 200
        token.refresh_from_db()
        assert token.last_used_at == T0
        traveller.shift(30)  # exactly the interval: not yet
        call(client, "get", "/api/v1/notifications/", key)
        token.refresh_from_db()
        assert token.last_used_at == T0
        traveller.shift(1)
        call(client, "get", "/api/v1/notifications/", key)
        token.refresh_from_db()
        assert token.last_used_at == T0 + datetime.timedelta(seconds=61)


def test_a_read_inside_the_interval_writes_nothing(client, member):
    token, key = make_token(member)
    with time_machine.travel(T0, tick=False):
        call(client, "get", "/api/v1/topics/", key)
        with CaptureQueriesContext(connection) as queries:
            assert call(client, "get", "/api/v1/topics/", key).status_code == 200
    writes = [q["sql"] for q in queries.captured_queries
              if q["sql"].lstrip().upper().startswith(("UPDATE", "INSERT", "DELETE"))]
    assert writes == []


def test_a_zero_interval_notes_every_use(client, settings, member):
    settings.API_TOKEN_TOUCH_SECONDS = 0
    token, key = make_token(member)
    with time_machine.travel(T0, tick=False) as traveller:
        call(client, "get", "/api/v1/topics/", key)
        traveller.shift(1)
        call(client, "get", "/api/v1/topics/", key)
    token.refresh_from_db()
    assert token.last_used_at == T0 + datetime.timedelta(seconds=1)


def test_a_refused_call_does_not_note_a_use(client, member):
    token, key = make_token(member)
    api_token_revoke(actor=member, token_id=token.pk)
    call(client, "get", "/api/v1/topics/", key)
    token.refresh_from_db()
    assert token.last_used_at is None


# --- Read and write tokens ------------------------------------------------------------------------

@pytest.fixture
def world(public_category, public_topic, member, requester, volunteer, reply, django_capture_on_commit_callbacks):
    """A topic with a reply by `member`, and an open request by `requester`."""
    with django_capture_on_commit_callbacks(execute=True):
        data_request = make_request(requester, public_category, title="A synthetic open request")
    return {"topic": public_topic, "reply": reply, "request": data_request}


def snapshot():
    return {
        "topics": Topic.objects.count(),
        "posts": list(Post.objects.order_by("pk").values_list("pk", "raw", "deleted_at")),
        "requests": list(DataRequest.objects.order_by("pk").values_list("pk", "state", "title")),
        "claims": Claim.objects.count(),
    }


def writes(world, category_slug):
    topic, reply, data_request = world["topic"], world["reply"], world["request"]
    return [
        ("post", "/api/v1/topics/", {"category": category_slug, "title": "A new synthetic topic",
                                    "raw": "Synthetic first post."}),
        ("post", f"/api/v1/topics/{topic.pk}/posts/", {"raw": "A synthetic reply through the API."}),
        ("patch", f"/api/v1/posts/{reply.pk}/", {"raw": "An edited synthetic reply."}),
        ("delete", f"/api/v1/posts/{reply.pk}/", None),
        ("post", "/api/v1/notifications/read/", {}),
        ("post", "/api/v1/requests/", {"title": "A synthetic draft", "category": category_slug}),
        ("post", f"/api/v1/requests/{data_request.pk}/claim/", {"plan": "Synthetic plan."}),
        ("post", f"/api/v1/requests/{data_request.pk}/withdraw/", {}),
    ]


@pytest.mark.parametrize("index", range(8))
def test_a_read_token_cannot_write_and_nothing_changes(client, world, member, public_category, index):
    _token, key = make_token(member, scope="read")
    before = snapshot()
    method, path, data = writes(world, public_category.slug)[index]
    error = assert_error(call(client, method, path, key, data=data), 403, "token_read_only")
    assert "read" in error["message"].lower()
    assert snapshot() == before


@pytest.mark.parametrize("person", ["requester", "volunteer"])
def test_a_read_token_of_any_role_cannot_write(client, world, request, public_category, person):
    user = request.getfixturevalue(person)
    _token, key = make_token(user, scope="read")
    before = snapshot()
    for method, path, data in writes(world, public_category.slug):
        assert_error(call(client, method, path, key, data=data), 403, "token_read_only")
    assert snapshot() == before


def test_a_read_token_reads(client, world, member):
    _token, key = make_token(member, scope="read")
    topic = world["topic"]
    assert call(client, "get", "/api/v1/topics/", key).status_code == 200
    assert call(client, "get", f"/api/v1/topics/{topic.pk}/", key).status_code == 200
    assert call(client, "get", f"/api/v1/topics/{topic.pk}/posts/", key).status_code == 200
    assert call(client, "get", f"/api/v1/requests/{world['request'].pk}/", key).status_code == 200
    assert call(client, "head", "/api/v1/topics/", key).status_code == 200
    assert call(client, "options", "/api/v1/topics/", key).status_code == 200


def test_a_read_token_is_refused_even_with_an_invalid_body(client, world, member):
    """The access rule comes before the input: a read token learns nothing about validation."""
    _token, key = make_token(member, scope="read")
    assert_error(call(client, "post", "/api/v1/topics/", key, data={"bogus": 1}), 403, "token_read_only")


def test_a_write_token_writes_as_its_owner(client, world, member, public_category,
                                           django_capture_on_commit_callbacks):
    _token, key = make_token(member, scope="write")
    reply = world["reply"]
    with django_capture_on_commit_callbacks(execute=True):
        created = call(client, "post", "/api/v1/topics/", key, data={
            "category": public_category.slug, "title": "A synthetic topic by token", "raw": "Synthetic body."})
    assert created.status_code == 201, created.content
    topic = Topic.objects.get(pk=created.json()["id"])
    assert topic.author == member and topic.title == "A synthetic topic by token"

    with django_capture_on_commit_callbacks(execute=True):
        answered = call(client, "post", f"/api/v1/topics/{world['topic'].pk}/posts/", key,
                        data={"raw": "A synthetic reply by token."})
    assert answered.status_code == 201, answered.content
    assert Post.objects.get(pk=answered.json()["id"]).author == member

    with django_capture_on_commit_callbacks(execute=True):
        edited = call(client, "patch", f"/api/v1/posts/{reply.pk}/", key, data={"raw": "Edited by token."})
    assert edited.status_code == 200, edited.content
    reply.refresh_from_db()
    assert reply.raw == "Edited by token."

    with django_capture_on_commit_callbacks(execute=True):
        deleted = call(client, "delete", f"/api/v1/posts/{reply.pk}/", key)
    assert deleted.status_code == 204
    reply.refresh_from_db()
    assert reply.deleted_at is not None


def test_a_write_token_of_a_volunteer_claims(client, world, volunteer, django_capture_on_commit_callbacks):
    _token, key = make_token(volunteer, scope="write")
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, "post", f"/api/v1/requests/{world['request'].pk}/claim/", key,
                        data={"plan": "A synthetic plan."})
    assert response.status_code == 201, response.content
    assert Claim.objects.get().volunteer == volunteer


def test_a_write_token_of_a_requester_makes_a_draft(client, requester, public_category,
                                                    django_capture_on_commit_callbacks):
    _token, key = make_token(requester, scope="write")
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, "post", "/api/v1/requests/", key,
                        data={"title": "A synthetic draft by token", "category": public_category.slug})
    assert response.status_code == 201, response.content
    draft = DataRequest.objects.get(pk=response.json()["id"])
    assert draft.author == requester and draft.state == DataRequest.State.DRAFT


def test_a_write_token_cannot_do_what_its_owner_cannot(client, world, member, requester):
    """A token carries its person's rights, no more: someone else's post stays theirs."""
    _token, key = make_token(member, scope="write")
    first_post = Post.objects.get(topic=world["topic"], number=1)
    before = snapshot()
    assert call(client, "patch", f"/api/v1/posts/{first_post.pk}/", key, data={"raw": "Hijacked."}).status_code == 403
    assert call(client, "delete", f"/api/v1/posts/{first_post.pk}/", key).status_code == 403
    assert snapshot() == before


# --- Terms of use --------------------------------------------------------------------------------

def test_writes_need_the_current_terms_accepted(client, public_category, public_topic):
    person = UserFactory(accept_terms=False)
    _token, key = make_token(person, scope="write")
    # As on the web, nothing but the terms until they are accepted: reads are refused too.
    assert_error(call(client, "get", "/api/v1/topics/", key), 403, "terms_not_accepted")
    assert_error(call(client, "get", "/api/v1/notifications/", key), 403, "terms_not_accepted")
    error = assert_error(call(client, "post", f"/api/v1/topics/{public_topic.pk}/posts/", key,
                              data={"raw": "A synthetic reply."}), 403, "terms_not_accepted")
    assert "terms" in error["message"].lower()
    assert_error(call(client, "post", "/api/v1/topics/", key, data={
        "category": public_category.slug, "title": "Synthetic", "raw": "Synthetic."}), 403, "terms_not_accepted")
    assert not Post.objects.filter(author=person).exists()


def test_new_terms_stop_writes_until_accepted(client, member, public_topic, django_capture_on_commit_callbacks):
    _token, key = make_token(member, scope="write")
    newer = TermsVersion.objects.create(version="2026-12-01", published_at=timezone.now())
    cache.clear()  # the current terms are cached
    path = f"/api/v1/topics/{public_topic.pk}/posts/"
    assert_error(call(client, "post", path, key, data={"raw": "A synthetic reply."}), 403, "terms_not_accepted")
    services.terms_accept(user=member, terms_version=newer)
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, "post", path, key, data={"raw": "A synthetic reply."})
    assert response.status_code == 201, response.content


def test_a_read_token_without_terms_is_told_about_the_terms(client, public_topic):
    person = UserFactory(accept_terms=False)
    _token, key = make_token(person, scope="read")
    assert_error(call(client, "post", f"/api/v1/topics/{public_topic.pk}/posts/", key,
                      data={"raw": "A synthetic reply."}), 403, "terms_not_accepted")


@pytest.mark.parametrize("person", ["moderator", "anonymizer"])
def test_a_token_made_without_the_second_factor_does_not_open_private_data(request, person, private_topic):
    user = request.getfixturevalue(person)
    _token, key = make_token(user, second_factor=False)
    assert_error(call(Client(), "get", f"/api/v1/topics/{private_topic.pk}/", key), 401, "authentication_failed")


def test_a_token_stops_working_when_its_person_gets_a_role_that_needs_the_second_factor(client, member,
                                                                                         private_topic):
    from forum.services import role_grant

    _token, key = make_token(member, second_factor=False)
    assert call(client, "get", "/api/v1/topics/", key).status_code == 200
    role_grant(actor=None, user=member, role=Role.ANONYMIZATION)
    assert_error(call(client, "get", f"/api/v1/topics/{private_topic.pk}/", key), 401, "authentication_failed")


def test_new_members_make_read_tokens_only(member):
    newcomer = UserFactory(trust_level=0)
    with pytest.raises(PermissionDenied):
        api_token_create(actor=newcomer, name="poster", scope="write")
    assert api_token_create(actor=newcomer, name="reader", scope="read")[0].scope == "read"


# --- Sessions: CSRF and the second factor --------------------------------------------------------

def csrf_client(user) -> tuple[Client, str]:
    client = Client(enforce_csrf_checks=True)
    sign_in(client, user)
    client.get(PAGE)  # the page sets the CSRF cookie
    return client, client.cookies["csrftoken"].value


def test_session_writes_need_the_csrf_token(member, public_topic, django_capture_on_commit_callbacks):
    client, csrf = csrf_client(member)
    path = f"/api/v1/topics/{public_topic.pk}/posts/"
    error = assert_error(call(client, "post", path, data={"raw": "A synthetic reply."}), 403, "permission_denied")
    assert "CSRF" in error["message"]
    assert not Post.objects.filter(author=member).exists()
    assert_error(call(client, "post", path, data={"raw": "A synthetic reply."}, **{"X-CSRFToken": "wrong" * 8}),
                 403, "permission_denied")
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, "post", path, data={"raw": "A synthetic reply."}, **{"X-CSRFToken": csrf})
    assert response.status_code == 201, response.content
    assert Post.objects.filter(author=member).count() == 1


def test_session_csrf_applies_to_patch_and_delete(member, reply):
    client, _csrf = csrf_client(member)
    assert_error(call(client, "patch", f"/api/v1/posts/{reply.pk}/", data={"raw": "Edited."}), 403,
                 "permission_denied")
    assert_error(call(client, "delete", f"/api/v1/posts/{reply.pk}/"), 403, "permission_denied")
    reply.refresh_from_db()
    assert reply.raw == "A synthetic reply by a member." and reply.deleted_at is None


def test_session_reads_need_no_csrf_token(member):
    client, _csrf = csrf_client(member)
    assert client.get("/api/v1/notifications/").status_code == 200


def test_token_writes_need_no_csrf_token(member, public_topic, django_capture_on_commit_callbacks):
    _token, key = make_token(member, scope="write")
    client = Client(enforce_csrf_checks=True)
    with django_capture_on_commit_callbacks(execute=True):
        response = call(client, "post", f"/api/v1/topics/{public_topic.pk}/posts/", key,
                        data={"raw": "A synthetic reply by token."})
    assert response.status_code == 201, response.content


@pytest.mark.parametrize("role", [Role.MODERATOR, Role.ANONYMIZATION])
def test_a_session_that_skipped_the_second_factor_gets_json_mfa_required(role):
    person = UserFactory(roles=[role], totp=True)
    client = Client()
    client.force_login(person)  # a password-only sign-in: no second factor in this session
    for path in ("/api/v1/topics/", "/api/v1/notifications/", "/api/v1/nowhere/"):
        error = assert_error(client.get(path), 403, "mfa_required")
        assert "token" in error["message"].lower()
    assert_error(call(client, "post", "/api/v1/notifications/read/", data={}), 403, "mfa_required")


def test_a_token_call_is_not_stopped_by_the_clients_half_signed_in_session(client):
    person = UserFactory(roles=[Role.MODERATOR], totp=True)
    client.force_login(person)  # no second factor in this session
    _token, key = make_token(person)
    assert client.get("/api/v1/topics/").status_code == 403
    assert call(client, "get", "/api/v1/notifications/", key=key).status_code == 200


def test_a_moderator_without_totp_set_up_gets_mfa_required_too(client):
    person = UserFactory(roles=[Role.MODERATOR])
    client.force_login(person)
    assert_error(client.get("/api/v1/topics/"), 403, "mfa_required")


def test_a_session_with_the_second_factor_uses_the_api(client, moderator):
    sign_in(client, moderator)
    assert client.get("/api/v1/topics/").status_code == 200
    assert client.get("/api/v1/notifications/").status_code == 200


@pytest.mark.parametrize("person", ["moderator", "anonymizer"])
def test_a_token_works_for_roles_that_need_the_second_factor(request, person, private_topic):
    user = request.getfixturevalue(person)
    _token, key = make_token(user, scope="write")
    client = Client()
    assert call(client, "get", "/api/v1/notifications/", key).status_code == 200
    # ...and sees what the role sees: the private topic.
    assert call(client, "get", f"/api/v1/topics/{private_topic.pk}/", key).status_code == 200
    assert call(client, "post", "/api/v1/notifications/read/", key, data={}).status_code == 200


def test_a_member_session_needs_no_second_factor(client, member):
    client.force_login(member)
    assert client.get("/api/v1/notifications/").status_code == 200


# --- The tokens page --------------------------------------------------------------------------------

def test_the_page_needs_a_signed_in_person(client, member):
    response = client.get(PAGE)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    response = client.post(PAGE, {"name": "sneaky", "scope": "write"})
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    token, _key = make_token(member)
    response = client.post(f"/settings/api-tokens/{token.pk}/revoke/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    token.refresh_from_db()
    assert token.revoked_at is None
    assert ApiToken.objects.count() == 1


def test_the_page_lists_live_tokens_with_name_access_prefix_and_last_use(client, member):
    used, used_key = make_token(member, scope="write", name="weekly dashboard")
    unused, _ = make_token(member, scope="read", name="quick look")
    gone, _ = make_token(member, name="old revoked token")
    api_token_revoke(actor=member, token_id=gone.pk)
    theirs, _ = make_token(UserFactory(), name="someone else's token")
    with time_machine.travel(T0, tick=False):
        call(Client(), "get", "/api/v1/topics/", used_key)
    sign_in(client, member)
    response = client.get(PAGE)
    assert response.status_code == 200
    html = response.content.decode()
    assert "weekly dashboard" in html and "quick look" in html
    assert "old revoked token" not in html and "someone else's token" not in html
    assert f"<code>{used.prefix}…</code>" in html and f"<code>{unused.prefix}…</code>" in html
    assert used_key not in html and used.key_hash not in html
    assert "Read and write" in html
    assert f'datetime="{T0.isoformat()}"' in html or T0.strftime("%Y-%m-%d") in html
    assert "Never" in html  # the unused one
    assert f'action="/settings/api-tokens/{used.pk}/revoke/"' in html
    assert 'aria-label="Revoke token weekly dashboard"' in html
    assert f'action="/settings/api-tokens/{gone.pk}/revoke/"' not in html
    assert f'action="/settings/api-tokens/{theirs.pk}/revoke/"' not in html
    assert list(response.context["tokens"]) == [unused, used]  # newest first


def test_token_names_are_escaped_on_the_page(client, member):
    make_token(member, name='<script>alert("x")</script>')
    sign_in(client, member)
    html = client.get(PAGE).content.decode()
    assert '<script>alert("x")</script>' not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html


def test_the_page_labels_its_fields_and_links_the_docs(client, member):
    sign_in(client, member)
    html = client.get(PAGE).content.decode()
    assert "You have no tokens." in html
    assert 'for="id_name"' in html and 'id="id_name"' in html
    assert 'name="scope"' in html and 'value="read"' in html and 'value="write"' in html
    assert "csrfmiddlewaretoken" in html
    assert 'href="/api/v1/docs/"' in html


def test_making_a_token_shows_its_key_once(client, member):
    sign_in(client, member)
    response = client.post(PAGE, {"name": "weekly dashboard", "scope": "write"})
    assert response.status_code == 302 and response["Location"] == PAGE  # a reload cannot make another
    token = ApiToken.objects.get(user=member)
    shown = client.get(PAGE)
    assert shown.status_code == 200
    assert "no-store" in shown["Cache-Control"]
    key = shown.context["new_key"]
    assert token.key_hash == hashlib.sha256(key.encode()).hexdigest()
    assert token.name == "weekly dashboard" and token.scope == "write"
    html = shown.content.decode()
    assert f'value="{key}"' in html and 'for="new-key"' in html
    assert "not shown again" in html or "cannot be shown again" in html
    # Once: the next visit shows the token, not its key.
    again = client.get(PAGE)
    assert again.status_code == 200 and again.context["new_key"] is None
    assert key not in again.content.decode()
    assert token.prefix in again.content.decode()
    assert "no-store" in again["Cache-Control"]
    assert ApiToken.objects.filter(user=member).count() == 1
    # And the key works.
    assert call(Client(), "get", "/api/v1/notifications/", key).status_code == 200


def test_the_key_is_shown_only_to_the_session_that_made_it(client, member):
    sign_in(client, member)
    client.post(PAGE, {"name": "mine", "scope": "read"})
    elsewhere = Client()
    sign_in(elsewhere, member)
    assert elsewhere.get(PAGE).context["new_key"] is None
    assert client.get(PAGE).context["new_key"]


def test_a_failed_submission_shows_no_earlier_key(client, member):
    sign_in(client, member)
    client.post(PAGE, {"name": "first", "scope": "read"})
    refused = client.post(PAGE, {"name": "", "scope": "read"})
    assert refused.status_code == 400
    assert refused.context["new_key"] is None


def test_a_read_token_made_on_the_page_is_read_only(client, member, public_topic):
    sign_in(client, member)
    _response, key = make_on_page(client, name="reader", scope="read")
    assert ApiToken.objects.get().scope == "read"
    assert_error(call(Client(), "post", f"/api/v1/topics/{public_topic.pk}/posts/", key,
                      data={"raw": "A synthetic reply."}), 403, "token_read_only")


@pytest.mark.parametrize("data", [
    {"name": "", "scope": "read"},
    {"name": "   ", "scope": "read"},
    {"name": "x" * 101, "scope": "read"},
    {"name": "fine", "scope": "admin"},
    {"name": "fine"},
])
def test_an_invalid_form_makes_nothing_and_says_why(client, member, data):
    sign_in(client, member)
    response = client.post(PAGE, data)
    assert response.status_code == 400
    assert response.context["new_key"] is None
    assert response.context["form"].errors
    assert not ApiToken.objects.exists()


def test_the_page_refuses_a_token_over_the_limit(client, settings, member):
    settings.API_MAX_TOKENS_PER_PERSON = 1
    sign_in(client, member)
    make_on_page(client, name="one", scope="read")
    response = client.post(PAGE, {"name": "two", "scope": "read"})
    assert response.status_code == 400
    assert response.context["new_key"] is None
    assert "name" in response.context["form"].errors
    assert ApiToken.objects.count() == 1


def test_the_page_needs_csrf(member):
    client = Client(enforce_csrf_checks=True)
    sign_in(client, member)
    assert client.post(PAGE, {"name": "forged", "scope": "write"}).status_code == 403
    assert not ApiToken.objects.exists()
    token, _key = make_token(member)
    assert client.post(f"/settings/api-tokens/{token.pk}/revoke/").status_code == 403
    token.refresh_from_db()
    assert token.revoked_at is None
    client.get(PAGE)
    csrf = client.cookies["csrftoken"].value
    response = client.post(PAGE, {"name": "real", "scope": "read", "csrfmiddlewaretoken": csrf})
    assert response.status_code == 302
    assert ApiToken.objects.filter(name="real").exists()


def test_the_revoke_button_revokes_and_the_token_leaves_the_list(client, member):
    token, key = make_token(member, name="to revoke")
    sign_in(client, member)
    response = client.post(f"/settings/api-tokens/{token.pk}/revoke/", follow=True)
    assert response.redirect_chain == [(PAGE, 302)]
    token.refresh_from_db()
    assert token.revoked_at is not None
    html = response.content.decode()
    assert "is revoked" in html
    assert f'action="/settings/api-tokens/{token.pk}/revoke/"' not in html
    assert api_token_use(key=key) is None


def test_revoking_needs_post(client, member):
    token, _key = make_token(member)
    sign_in(client, member)
    assert client.get(f"/settings/api-tokens/{token.pk}/revoke/").status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None


def test_someone_elses_token_is_404_on_the_page_and_stays_live(client, member):
    token, key = make_token(member)
    sign_in(client, UserFactory())
    assert client.post(f"/settings/api-tokens/{token.pk}/revoke/").status_code == 404
    assert client.post("/settings/api-tokens/999999/revoke/").status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None
    assert call(Client(), "get", "/api/v1/notifications/", key).status_code == 200


def test_making_tokens_is_rate_limited(client, settings, member):
    settings.FORUM_RATE_LIMITS = {**settings.FORUM_RATE_LIMITS, "token": (2, 86400)}
    sign_in(client, member)
    assert client.post(PAGE, {"name": "one", "scope": "read"}).status_code == 302
    assert client.post(PAGE, {"name": "two", "scope": "read"}).status_code == 302
    refused = client.post(PAGE, {"name": "three", "scope": "read"})
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) > 0
    assert ApiToken.objects.count() == 2
    # Reading the page is not limited; someone else is not limited either.
    assert client.get(PAGE).status_code == 200
    other = Client()
    sign_in(other, UserFactory())
    assert other.post(PAGE, {"name": "theirs", "scope": "read"}).status_code == 302


def test_a_suspended_person_sees_the_suspension_not_the_page(client, member, moderator):
    services.user_suspend(actor=moderator, user_id=member.pk, days=3, reason="Synthetic reason")
    sign_in(client, member)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"name": "while suspended", "scope": "write"}).status_code == 403
    assert not ApiToken.objects.exists()


def test_the_page_is_behind_the_second_factor(moderator):
    client = Client()
    client.force_login(moderator)
    response = client.get(PAGE)
    assert response.status_code == 302
    assert "api-tokens" not in response["Location"].split("?")[0]
    assert client.post(PAGE, {"name": "no mfa", "scope": "write"}).status_code == 302
    assert not ApiToken.objects.exists()
    sign_in(client, moderator)
    assert client.get(PAGE).status_code == 200


def test_the_settings_nav_links_the_page(client, member):
    sign_in(client, member)
    assert f'href="{PAGE}"' in client.get("/settings/account/").content.decode()


# --- Privacy ---------------------------------------------------------------------------------------

def test_the_data_export_lists_tokens_without_their_keys(member):
    token, key = make_token(member, scope="write", name="export me")
    gone, _ = make_token(member, name="revoked one")
    api_token_revoke(actor=member, token_id=gone.pk)
    archive = zipfile.ZipFile(io.BytesIO(services.personal_data_export(actor=member)))
    profile_text = archive.read("profile.json").decode()
    profile = json.loads(profile_text)["profile"]
    listed = {item["name"]: item for item in profile["api_tokens"]}
    assert set(listed) == {"export me", "revoked one"}
    assert listed["export me"]["prefix"] == token.prefix and listed["export me"]["scope"] == "write"
    assert listed["revoked one"]["revoked_at"] is not None
    everything = b"".join(archive.read(name) for name in archive.namelist()).decode()
    assert key not in everything and key[PREFIX_LENGTH:] not in everything
    assert token.key_hash not in everything


# --- The anonymous page cache ----------------------------------------------------------------------

@pytest.mark.urls("tests.forum.pagecache_urls")
def test_a_request_with_an_authorization_header_never_gets_the_anonymous_page(client, settings, member):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 300
    pagecache_urls.calls["count"] = 0
    _token, key = make_token(member)
    client.get("/pagecache/counter/")
    assert client.get("/pagecache/counter/").get("X-Cache") == "hit"
    response = client.get("/pagecache/counter/", headers={"Authorization": f"Token {key}"})
    assert response.get("X-Cache") != "hit"
    assert pagecache_urls.calls["count"] == 2


def test_api_reads_with_a_token_are_never_served_from_the_anonymous_cache(client, member, requester,
                                                                         private_category):
    """An anonymous read and a token's read of the same address see different things."""
    from tests.forum.factories import TopicFactory

    moderator = UserFactory(roles=[Role.MODERATOR], totp=True)
    TopicFactory(category=private_category, author=requester, title="Private synthetic topic")
    _token, key = make_token(moderator)
    anonymous = client.get("/api/v1/topics/").json()
    client.get("/api/v1/topics/")
    with_token = call(client, "get", "/api/v1/topics/", key)
    assert with_token.get("X-Cache") != "hit"
    titles = [topic["title"] for topic in with_token.json()["results"]]
    assert "Private synthetic topic" in titles
    assert "Private synthetic topic" not in [topic["title"] for topic in anonymous["results"]]

