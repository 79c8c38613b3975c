"""Rate limits: per person and per address for every kind, moderators exempt, fixed windows that
reset, and the 429 that every limited view answers with (a page, or JSON when asked)."""
import datetime
import json

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth.models import AnonymousUser

from forum import services
from forum.models import Post
from forum.permissions import Role
from forum.ratelimit import RateLimited, client_ip, rate_limit_check, wait_text
from requests_board.models import Claim
from tests.forum.factories import PASSWORD, UserFactory
from tests.helpers import sign_in
from tests.requests_board.factories import make_request

pytestmark = pytest.mark.django_db

# Counted per signed-in account; sign-ins are counted per email typed, failures only, by the view
# decorator (tested through HTTP below).
PERSON_KINDS = sorted(set(django_settings.FORUM_RATE_LIMITS) - {"login"})
IP_KINDS = sorted(django_settings.FORUM_RATE_LIMITS_PER_IP)
IP = "192.0.2.10"
OTHER_IP = "198.51.100.7"

# A moment 100 seconds into a day, so every window (all divide a day) started 100 seconds ago.
DAY_START = (datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)).replace(
    hour=0, minute=0, second=0, microsecond=0)
T0 = DAY_START + datetime.timedelta(seconds=100)


@pytest.fixture
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


@pytest.fixture
def small_limits(settings):
    """Two actions per window for every kind, per person and per address; windows as configured."""
    settings.FORUM_RATE_LIMITS = {kind: (2, window) for kind, (_n, window) in django_settings.FORUM_RATE_LIMITS.items()}
    settings.FORUM_RATE_LIMITS_PER_IP = {
        kind: (2, window) for kind, (_n, window) in django_settings.FORUM_RATE_LIMITS_PER_IP.items()}
    return settings


def only_person_limits(settings, **limits):
    """Per-person limits as given (others generous); no per-address limits to get in the way."""
    settings.FORUM_RATE_LIMITS = {kind: limits.get(kind, (1000, window))
                                  for kind, (_n, window) in django_settings.FORUM_RATE_LIMITS.items()}
    settings.FORUM_RATE_LIMITS_PER_IP = {}


def only_ip_limits(settings, **limits):
    settings.FORUM_RATE_LIMITS = {}
    settings.FORUM_RATE_LIMITS_PER_IP = {kind: limits.get(kind, (1000, window))
                                         for kind, (_n, window) in django_settings.FORUM_RATE_LIMITS_PER_IP.items()}


def window_of(settings_dict, kind) -> int:
    return settings_dict[kind][1]


def person(kind, user):
    """The identity a kind is counted by: the account."""
    return {"user": user}


# --- The service: per person ------------------------------------------------------------------------

@pytest.mark.parametrize("kind", PERSON_KINDS)
def test_the_action_after_the_limit_is_refused_per_person(settings, frozen, member, kind):
    only_person_limits(settings, **{kind: (2, django_settings.FORUM_RATE_LIMITS[kind][1])})
    window = window_of(settings.FORUM_RATE_LIMITS, kind)
    rate_limit_check(kind, **person(kind, member))
    rate_limit_check(kind, **person(kind, member))
    with pytest.raises(RateLimited) as error:
        rate_limit_check(kind, **person(kind, member))
    refusal = error.value
    assert (refusal.kind, refusal.limit, refusal.window) == (kind, 2, window)
    assert 1 <= refusal.retry_after <= window
    assert refusal.retry_after == window - 100
    assert "You have done this 2 times in a short time." in refusal.message
    assert "try again in" in refusal.message and "try again in" in str(refusal)


@pytest.mark.parametrize("kind", PERSON_KINDS)
def test_other_people_are_counted_separately(settings, frozen, member, volunteer, kind):
    only_person_limits(settings, **{kind: (1, 3600)})
    rate_limit_check(kind, **person(kind, member))
    rate_limit_check(kind, **person(kind, volunteer))
    with pytest.raises(RateLimited):
        rate_limit_check(kind, **person(kind, member))


@pytest.mark.parametrize("kind", PERSON_KINDS)
def test_the_count_resets_when_the_window_passes(settings, frozen, member, kind):
    window = django_settings.FORUM_RATE_LIMITS[kind][1]
    only_person_limits(settings, **{kind: (1, window)})
    rate_limit_check(kind, **person(kind, member))
    with pytest.raises(RateLimited):
        rate_limit_check(kind, **person(kind, member))
    frozen.shift(datetime.timedelta(seconds=window - 100 - 1))
    with pytest.raises(RateLimited) as error:
        rate_limit_check(kind, **person(kind, member))
    assert error.value.retry_after == 1
    frozen.shift(datetime.timedelta(seconds=1))
    rate_limit_check(kind, **person(kind, member))
    with pytest.raises(RateLimited):
        rate_limit_check(kind, **person(kind, member))


@pytest.mark.parametrize("kind", PERSON_KINDS)
def test_moderators_are_never_limited(small_limits, frozen, moderator, kind):
    for _ in range(10):
        rate_limit_check(kind, user=moderator, ip=IP)


def test_kinds_are_counted_separately(settings, frozen, member):
    only_person_limits(settings, post=(1, 600), edit=(1, 600))
    rate_limit_check("post", user=member)
    rate_limit_check("edit", user=member)
    with pytest.raises(RateLimited):
        rate_limit_check("post", user=member)


def test_a_kind_without_a_limit_is_never_refused(settings, frozen, member):
    settings.FORUM_RATE_LIMITS = {}
    settings.FORUM_RATE_LIMITS_PER_IP = {}
    for _ in range(5):
        rate_limit_check("post", user=member, ip=IP)


def test_a_visitor_without_an_account_or_key_is_counted_by_address_only(settings, frozen):
    only_person_limits(settings, post=(1, 600))
    for _ in range(3):
        rate_limit_check("post", user=AnonymousUser(), ip=IP)


# --- The service: per address --------------------------------------------------------------------------

@pytest.mark.parametrize("kind", IP_KINDS)
def test_the_action_after_the_limit_is_refused_per_address(settings, frozen, kind):
    window = django_settings.FORUM_RATE_LIMITS_PER_IP[kind][1]
    only_ip_limits(settings, **{kind: (2, window)})
    people = [UserFactory() for _ in range(3)]
    rate_limit_check(kind, user=people[0], ip=IP)
    rate_limit_check(kind, user=people[1], ip=IP)
    with pytest.raises(RateLimited) as error:
        rate_limit_check(kind, user=people[2], ip=IP)  # a third account, the same address
    assert (error.value.kind, error.value.limit, error.value.window) == (kind, 2, window)
    assert 1 <= error.value.retry_after <= window
    assert "try again in" in error.value.message
    rate_limit_check(kind, user=people[2], ip=OTHER_IP)


@pytest.mark.parametrize("kind", IP_KINDS)
def test_the_address_count_resets_when_the_window_passes(settings, frozen, kind):
    window = django_settings.FORUM_RATE_LIMITS_PER_IP[kind][1]
    only_ip_limits(settings, **{kind: (1, window)})
    rate_limit_check(kind, ip=IP)
    with pytest.raises(RateLimited):
        rate_limit_check(kind, ip=IP)
    frozen.shift(datetime.timedelta(seconds=window))
    rate_limit_check(kind, ip=IP)


@pytest.mark.parametrize("kind", IP_KINDS)
def test_moderators_are_not_limited_per_address_either(settings, frozen, moderator, kind):
    only_ip_limits(settings, **{kind: (1, 600)})
    for _ in range(3):
        rate_limit_check(kind, user=moderator, ip=IP)


# --- Messages -------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("seconds", "text"), [
    (1, "1 second"), (59, "59 seconds"), (60, "1 minute"), (61, "2 minutes"), (600, "10 minutes"),
    (3599, "60 minutes"),
])
def test_the_wait_is_worded_and_never_understated(seconds, text):
    assert wait_text(seconds) == text


def test_a_limit_of_one_reads_once():
    assert RateLimited("flag", 1, 3600, 30).message == (
        "You have done this once in a short time. Please try again in 30 seconds.")


# --- The client's address ---------------------------------------------------------------------------------

def test_a_forged_forwarded_for_header_does_not_dodge_the_address_limit(settings, client, frozen):
    settings.TRUSTED_PROXY_COUNT = 0
    only_ip_limits(settings, signup=(1, 3600))
    client.post("/accounts/signup/", {}, HTTP_X_FORWARDED_FOR="203.0.113.1")
    response = client.post("/accounts/signup/", {}, HTTP_X_FORWARDED_FOR="203.0.113.2")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_address_it_saw_is_counted(settings, rf):
    settings.TRUSTED_PROXY_COUNT = 1
    request = rf.post("/", HTTP_X_FORWARDED_FOR="203.0.113.9, 192.0.2.44", REMOTE_ADDR="10.0.0.2")
    assert client_ip(request) == "192.0.2.44"
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.2"


# --- Through HTTP: the 429 ----------------------------------------------------------------------------------

@pytest.fixture
def replying(settings, client, member, public_topic, frozen):
    """`member`, signed in, has used up two replies in ten minutes."""
    only_person_limits(settings, post=(2, 600))
    sign_in(client, member)
    for n in range(2):
        response = client.post(f"/t/{public_topic.pk}/reply/", {"raw": f"Synthetic reply {n}."})
        assert response.status_code == 302
    return client


def test_a_reply_above_the_limit_gets_a_429_page_with_the_wait(replying, public_topic, member):
    response = replying.post(f"/t/{public_topic.pk}/reply/", {"raw": "One synthetic reply too many."})
    assert response.status_code == 429
    assert response["Retry-After"] == "500"
    page = response.content.decode()
    assert "You have done this 2 times in a short time. Please try again in 9 minutes." in page
    assert response["Content-Type"].startswith("text/html")
    assert not Post.objects.filter(raw="One synthetic reply too many.").exists()


def test_a_client_asking_for_json_gets_json(replying, public_topic):
    response = replying.post(f"/t/{public_topic.pk}/reply/", {"raw": "Too many."}, HTTP_ACCEPT="application/json")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/json"
    assert response["Retry-After"] == "500"
    body = json.loads(response.content)
    assert set(body) == {"detail", "retry_after"}
    assert body["retry_after"] == 500 and "try again in 9 minutes" in body["detail"]


def test_a_browser_accepting_html_and_json_gets_the_page(replying, public_topic):
    response = replying.post(f"/t/{public_topic.pk}/reply/", {"raw": "Too many."},
                             HTTP_ACCEPT="text/html,application/json;q=0.9")
    assert response.status_code == 429 and response["Content-Type"].startswith("text/html")


def test_reading_is_never_limited(replying, public_topic):
    assert replying.get(f"/t/{public_topic.pk}/reply/").status_code == 200
    assert replying.get(public_topic.get_absolute_url()).status_code == 200


def test_the_reply_limit_lifts_after_the_window(replying, public_topic, frozen):
    frozen.shift(datetime.timedelta(seconds=500))
    response = replying.post(f"/t/{public_topic.pk}/reply/", {"raw": "Synthetic reply after the wait."})
    assert response.status_code == 302


def test_moderators_are_not_limited_over_http(settings, client, moderator, public_topic, frozen):
    only_person_limits(settings, post=(1, 600))
    sign_in(client, moderator)
    for n in range(3):
        assert client.post(f"/t/{public_topic.pk}/reply/", {"raw": f"Moderator note {n}."}).status_code == 302


def test_new_topics_share_the_post_limit(settings, client, member, public_category, public_topic, frozen):
    only_person_limits(settings, post=(1, 600))
    sign_in(client, member)
    assert client.post(f"/t/{public_topic.pk}/reply/", {"raw": "A synthetic reply."}).status_code == 302
    response = client.post("/t/new/", {"title": "Synthetic", "category": public_category.pk, "raw": "Synthetic."})
    assert response.status_code == 429


# --- Through HTTP: sign-in and sign-up ----------------------------------------------------------------------

def log_in(client, email, password="wrong-password-000", **extra):
    return client.post("/accounts/login/", {"login": email, "password": password}, **extra)


def test_sign_in_is_limited_per_email_typed(settings, client, member, frozen):
    only_person_limits(settings, login=(2, 900))
    for _ in range(2):
        assert log_in(client, member.email).status_code == 200
    response = log_in(client, member.email.upper(), PASSWORD)
    assert response.status_code == 429
    assert "try again in 14 minutes" in response.content.decode()
    assert 1 <= int(response["Retry-After"]) <= 900
    assert "_auth_user_id" not in client.session


def test_the_email_limit_holds_from_any_address(settings, client, member, frozen):
    only_person_limits(settings, login=(2, 900))
    log_in(client, member.email, REMOTE_ADDR=IP)
    log_in(client, member.email, REMOTE_ADDR=OTHER_IP)
    assert log_in(client, member.email, REMOTE_ADDR="203.0.113.50").status_code == 429


def test_another_email_is_not_held_back_by_the_limit(settings, client, member, volunteer, frozen):
    only_person_limits(settings, login=(1, 900))
    log_in(client, member.email)
    assert log_in(client, member.email).status_code == 429
    response = log_in(client, volunteer.email, PASSWORD)
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(volunteer.pk)


def test_successful_sign_ins_do_not_lock_a_person_out(settings, client, member, frozen):
    only_person_limits(settings, login=(2, 900))
    for _ in range(3):
        response = log_in(client, member.email, PASSWORD)
        assert response.status_code == 302
        client.logout()


def test_failed_sign_ins_are_forgotten_when_the_window_passes(settings, client, member, frozen):
    only_person_limits(settings, login=(1, 900))
    log_in(client, member.email)
    assert log_in(client, member.email).status_code == 429
    frozen.shift(datetime.timedelta(seconds=900))
    assert log_in(client, member.email, PASSWORD).status_code == 302


def test_sign_in_is_limited_per_address(settings, client, frozen):
    only_ip_limits(settings, login=(2, 900))
    people = [UserFactory() for _ in range(3)]
    log_in(client, people[0].email)
    log_in(client, people[1].email)
    response = log_in(client, people[2].email, PASSWORD)
    assert response.status_code == 429 and "_auth_user_id" not in client.session
    assert log_in(client, people[2].email, PASSWORD, REMOTE_ADDR=OTHER_IP).status_code == 302


def test_sign_up_is_limited_per_address(settings, client, frozen):
    only_ip_limits(settings, signup=(2, 3600))
    for _ in range(2):
        assert client.post("/accounts/signup/", {"email": "not-an-email"}).status_code == 200
    response = client.post("/accounts/signup/", {"email": "jane.testpatient@example.org"})
    assert response.status_code == 429
    assert response["Retry-After"] == str(3600 - 100)
    assert "try again in 59 minutes" in response.content.decode()
    assert client.get("/accounts/signup/").status_code == 200  # the form itself is still shown
    assert client.post("/accounts/signup/", {}, REMOTE_ADDR=OTHER_IP).status_code == 200


# --- Through HTTP: the other limited views ------------------------------------------------------------------

def test_flagging_above_the_limit_gets_a_429(settings, client, public_topic, requester, volunteer, frozen):
    only_person_limits(settings, flag=(1, 3600))
    posts = [services.post_create(actor=requester, topic_id=public_topic.pk, raw=f"Synthetic {n}.")
             for n in range(2)]
    sign_in(client, volunteer)
    assert client.post(f"/p/{posts[0].pk}/flag/", {"reason": "spam"}).status_code == 302
    response = client.post(f"/p/{posts[1].pk}/flag/", {"reason": "spam"})
    assert response.status_code == 429 and response["Retry-After"] == "3500"
    assert posts[1].flags.count() == 0


def test_claiming_above_the_limit_gets_a_429(settings, client, requester, volunteer, public_category,
                                             private_category, frozen):
    only_person_limits(settings, claim=(1, 3600))
    first, second = (make_request(requester, public_category, title=f"Synthetic cohort {n}") for n in range(2))
    sign_in(client, volunteer)
    assert client.post(f"/requests/{first.pk}/claim/", {}).status_code in (200, 302, 400)
    response = client.post(f"/requests/{second.pk}/claim/", {})
    assert response.status_code == 429
    assert not Claim.objects.filter(data_request=second).exists()


def test_uploading_above_the_limit_gets_a_429(settings, client, requester, public_category, private_category,
                                              frozen):
    only_person_limits(settings, upload=(1, 3600))
    data_request = make_request(requester, public_category)
    sign_in(client, requester)
    assert client.post(f"/requests/{data_request.pk}/files/", {}).status_code != 429
    response = client.post(f"/requests/{data_request.pk}/files/", {}, HTTP_ACCEPT="application/json")
    assert response.status_code == 429
    assert json.loads(response.content)["retry_after"] == 3500


def test_editing_above_the_limit_gets_a_429(settings, client, member, public_topic, frozen):
    only_person_limits(settings, edit=(1, 600))
    post = services.post_create(actor=member, topic_id=public_topic.pk, raw="Synthetic original.")
    sign_in(client, member)
    assert client.post(f"/p/{post.pk}/edit/", {"raw": "Synthetic edit one."}).status_code == 302
    response = client.post(f"/p/{post.pk}/edit/", {"raw": "Synthetic edit two."})
    assert response.status_code == 429
    post.refresh_from_db()
    assert post.raw == "Synthetic edit one."


def test_exporting_your_data_above_the_limit_gets_a_429(settings, client, member, frozen):
    only_person_limits(settings, export=(1, 86400))
    sign_in(client, member)
    first = client.post("/settings/account/export/")
    assert first.status_code == 200 and first["Content-Type"] == "application/zip"
    response = client.post("/settings/account/export/")
    assert response.status_code == 429
    assert response["Retry-After"] == str(86400 - 100)
    assert "try again in" in response.content.decode()


def test_a_limit_on_one_person_does_not_touch_another(settings, client, member, volunteer, public_topic, frozen):
    only_person_limits(settings, post=(1, 600))
    sign_in(client, member)
    client.post(f"/t/{public_topic.pk}/reply/", {"raw": "A synthetic reply."})
    assert client.post(f"/t/{public_topic.pk}/reply/", {"raw": "Another."}).status_code == 429
    sign_in(client, volunteer)
    assert client.post(f"/t/{public_topic.pk}/reply/", {"raw": "A volunteer's reply."}).status_code == 302


def test_a_moderator_at_trust_level_zero_is_exempt(settings, frozen):
    only_person_limits(settings, flag=(1, 600))
    moderator = UserFactory(roles=[Role.MODERATOR], trust_level=0)
    for _ in range(3):
        rate_limit_check("flag", user=moderator)
