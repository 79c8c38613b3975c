"""A control character in an address, a query string, a form or an API body gets a clear 400 or a
404, never a 500 (issue 20, point 6): PostgreSQL refuses NUL in text, and nothing else should
store one. A sweep over every URL pattern, as a visitor, a moderator and a staff member, then the
forms and API bodies that take text, then the text that must still pass (tabs, line breaks)."""
import json
import re
from urllib.parse import urlencode

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from django.urls import URLResolver, get_resolver
from rest_framework.test import APIClient

from forum import services
from forum.models import Post, Topic, User
from forum.permissions import Role
from tests.forum.factories import UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

BAD = ("%00", "%01")
# A refusal, a missing page, or a step first (sign in, a wrong method): anything but a success or a crash.
ACCEPTED = {301, 302, 400, 403, 404, 405}
_ROUTE_ARGUMENT = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")
_REGEX_GROUP = re.compile(r"\(\?P<\w+>(?:[^()]|\([^()]*\))*\)")
MESSAGE = "contains a control character"


def _routes(patterns=None, prefix=""):
    """The text of every URL pattern of the project, its prefixes included (the admin, allauth, the API)."""
    for pattern in get_resolver().url_patterns if patterns is None else patterns:
        text = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, text)
        else:
            yield text


def _fill(route: str, value: str) -> tuple[str, bool]:
    """`route` as a path with `value` in each argument an integer cannot refuse ("1" for those);
    and whether any argument took `value`."""
    took = False

    def argument(match) -> str:
        nonlocal took
        if match.group("converter") == "int":
            return "1"
        took = True
        return value

    def group(_match) -> str:
        nonlocal took
        took = True
        return value

    path = _ROUTE_ARGUMENT.sub(argument, _REGEX_GROUP.sub(group, route))  # groups first: they hold <name>
    return "/" + path.replace("^", "").replace("$", "").replace("\\", ""), took


def sweep_urls() -> list[str]:
    """For every pattern and bad character: the character in each path argument (or, when the
    pattern has none that takes text, in the query string), and in a `q` and `tag` query."""
    urls = set()
    for route in _routes():
        for bad in BAD:
            path, took = _fill(route, bad)
            urls.add(path if took else f"{path}?page={bad}")
            urls.add(f"{_fill(route, 'x')[0]}?q={bad}&tag={bad}")
    return sorted(urls)


def test_the_sweep_covers_every_kind_of_address():
    urls = sweep_urls()
    assert "/u/%00/" in urls and "/terms/%01/" in urls and "/latest/?q=%00&tag=%00" in urls
    assert "/api/v1/users/%00/" in urls and "/api/v1/topics/1/?page=%00" in urls  # an int takes the query
    assert "/accounts/confirm-email/%00/" in urls and "/admin/forum/topic/%01/change/" in urls
    assert "/notifications/%00/%00/" in urls  # a regex pattern
    assert len(urls) > 4 * 300


@pytest.fixture(params=["visitor", "moderator", "staff"])
def sweeping_client(request, public_topic):
    client = Client(raise_request_exception=False)  # a crash shows as a 500 to collect, not an exception
    if request.param != "visitor":
        extra = {"is_staff": True, "is_superuser": True} if request.param == "staff" else {}
        sign_in(client, UserFactory(roles=[Role.MODERATOR], totp=True, **extra))
    return client


def test_no_address_with_a_control_character_crashes_or_succeeds(sweeping_client):
    answers = {url: sweeping_client.get(url).status_code for url in sweep_urls()}
    wrong = {url: status for url, status in answers.items() if status not in ACCEPTED}
    assert not wrong


def test_a_page_says_why_in_html(client):
    for url in ("/u/%00/", "/terms/%00/", "/latest/?tag=%00", "/latest/?%00=1", "/search/?q=a%09b", "/?q=%7F"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response["Content-Type"].startswith("text/html")
        assert MESSAGE in response.content.decode()


def test_the_api_says_why_in_json(client):
    for url in ("/api/v1/users/%00/", "/api/v1/topics/?tag=%00", "/api/v1/search/?q=%1b", "/api/v1/nowhere/%00/"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert response.json()["error"]["code"] == "parse_error"
        assert MESSAGE in response.json()["error"]["message"]


def test_the_page_cache_never_answers_a_bad_address(client, public_topic):
    assert client.get("/latest/").status_code == 200
    assert client.get("/latest/").status_code == 200  # served from the cache
    for _ in range(2):
        assert client.get("/latest/?tag=%00").status_code == 400


def test_an_encoded_percent_sign_is_no_control_character(client, public_topic):
    assert client.get("/u/a%2500/").status_code == 404  # the path holds the text "%00", no NUL
    assert client.get("/search/?q=100%2501").status_code == 200
    assert client.get("/latest/?tag=a%2509").status_code in (200, 404)


# --- Forms ---------------------------------------------------------------------------

SIGNUP = {"email": "jane.testpatient@example.org", "username": "jane_testpatient",
          "display_name": "Dr. Jane Testpatient", "password1": "a-long-synthetic-passphrase-77",
          "password2": "a-long-synthetic-passphrase-77", "roles": ["requester"], "accept_terms": "on",
          "accept_guidelines": "on", "accept_pledge": "on"}
PROFILE = {"display_name": "Dr. Jane Testpatient", "affiliation": "Synthetic University Hospital",
           "orcid": "", "bio": "I work on imaging.", "expertise": "imaging", "roles": ["requester"]}


def _refused(response) -> bool:
    return response.status_code == 400 and MESSAGE in response.content.decode()


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x1b", "\x0b"])
def test_a_new_topic_with_a_control_character_is_refused(client, volunteer, public_category, bad):
    sign_in(client, volunteer)
    for field in ("title", "raw", "tags"):
        data = {"title": "Cohort table", "category": public_category.pk, "tags": "statistics", "raw": "Text"}
        data[field] = f"{data[field]}{bad}end"
        assert _refused(client.post("/t/new/", data)), field
        encoded = client.post("/t/new/", urlencode(data), content_type="application/x-www-form-urlencoded")
        assert _refused(encoded), field
    assert not Topic.objects.exists()


def test_a_field_name_with_a_control_character_is_refused(client, volunteer, public_category):
    sign_in(client, volunteer)
    response = client.post("/t/new/", f"title=Cohort&category={public_category.pk}&raw=Text&x%00=1",
                           content_type="application/x-www-form-urlencoded")
    assert _refused(response)
    assert not Topic.objects.exists()


def test_a_reply_with_nul_is_refused(client, public_topic, volunteer):
    sign_in(client, volunteer)
    assert _refused(client.post(f"/t/{public_topic.pk}/reply/", {"raw": "A\x00reply"}))
    assert Post.objects.filter(topic=public_topic).count() == 1


def test_a_profile_with_nul_is_refused(client, member):
    sign_in(client, member)
    assert _refused(client.post("/settings/profile/", {**PROFILE, "display_name": "Dr.\x00Jane"}))
    member.refresh_from_db()
    assert "\x00" not in member.display_name and member.affiliation == ""


def test_a_sign_up_with_nul_is_refused(client, mailoutbox):
    for field in ("username", "email", "display_name", "password1"):
        response = client.post("/accounts/signup/", {**SIGNUP, field: f"jane\x00{SIGNUP[field]}"})
        assert _refused(response), field
    assert not User.objects.filter(email__contains="testpatient").exists() and not EmailAddress.objects.exists()
    assert not mailoutbox


def test_a_sign_in_with_nul_is_refused(client, member):
    assert _refused(client.post("/accounts/login/", {"login": f"{member.email}\x00", "password": "x"}))


def test_an_unreadable_form_is_a_400(client, volunteer):
    sign_in(client, volunteer)
    assert client.post("/t/new/", b"x", content_type="multipart/form-data").status_code == 400  # no boundary
    assert not Topic.objects.exists()


def test_tabs_and_line_breaks_still_pass(client, volunteer, public_category):
    sign_in(client, volunteer)
    raw = "Line one\r\n\tindented\nline three"
    response = client.post("/t/new/", {"title": "Cohort\ttable", "category": public_category.pk, "raw": raw})
    assert response.status_code == 302
    topic = Topic.objects.get()
    assert "indented" in Post.objects.get(topic=topic).raw
    response = client.post(f"/t/{topic.pk}/reply/", {"raw": "First\n\tsecond\r\nthird"})
    assert response.status_code == 302
    assert Post.objects.filter(topic=topic).count() == 2


# --- API bodies ----------------------------------------------------------------------

def api(user) -> APIClient:
    client = APIClient()
    _token, key = services.api_token_create(actor=user, name="control characters", scope="write",
                                            second_factor=True)
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _api_refused(response) -> bool:
    return response.status_code == 400 and response.json()["error"]["code"] == "parse_error" and (
        "control character" in response.json()["error"]["message"])


@pytest.mark.parametrize("bad", ["\x00", "\x01", "\x1f", "\b", "\f"])
def test_an_api_topic_with_a_control_character_is_refused(member, public_category, bad):
    client = api(member)
    payload = {"category": public_category.slug, "title": "A synthetic question", "raw": "Synthetic text.",
               "tags": ["statistics"]}
    for field, value in (("title", f"A{bad}question"), ("raw", f"Text{bad}"), ("tags", [f"stat{bad}"])):
        response = client.post("/api/v1/topics/", {**payload, field: value}, format="json")
        assert _api_refused(response), (field, response.content)
    assert _api_refused(client.post("/api/v1/topics/", {**payload, f"note{bad}": "x"}, format="json"))
    assert not Topic.objects.exists()


def test_an_api_post_edit_with_nul_is_refused(member, public_category):
    topic = services.topic_create(actor=member, category=public_category, title="Synthetic topic", raw="First")
    post = Post.objects.get(topic=topic)
    response = api(member).patch(f"/api/v1/posts/{post.pk}/", {"raw": "Fixed\x00", "reason": "typo"},
                                 format="json")
    assert _api_refused(response)
    post.refresh_from_db()
    assert post.raw == "First"


def test_an_api_form_is_never_read_as_text(member, public_category):
    """The API reads text only from JSON; a form to a JSON endpoint stays unread (415)."""
    response = api(member).post("/api/v1/topics/", {"category": public_category.slug, "title": "A\x00title",
                                                    "raw": "Text"}, format="multipart")
    assert response.status_code == 415
    assert not Topic.objects.exists()


def test_nul_deep_in_json_is_found(member, public_category):
    nested = "[" * 500 + '{"\\u0000": 1}' + "]" * 500
    body = f'{{"category": "{public_category.slug}", "title": "T", "raw": "R", "extra": {nested}}}'
    response = api(member).generic("POST", "/api/v1/topics/", body, content_type="application/json")
    assert _api_refused(response)


def test_escaped_backslashes_and_line_breaks_pass_the_api(member, public_category):
    payload = {"category": public_category.slug, "title": "A synthetic question\\u0000",
               "raw": "Line one\n\tindented\r\nline three \\x00", "tags": ["statistics"]}
    response = api(member).generic("POST", "/api/v1/topics/", json.dumps(payload), content_type="application/json")
    assert response.status_code == 201, response.content
    topic = Topic.objects.get()
    assert topic.title == "A synthetic question\\u0000"
    assert Post.objects.get(topic=topic).raw.startswith("Line one\n\tindented")
