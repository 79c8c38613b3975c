"""Spam traps on sign-up and on new members' first posts: a honeypot field people never see, and a
minimum time between showing a form and sending it (a signed stamp)."""
import datetime
import re
import time

import pytest
import time_machine
from django.core import signing
from django.utils import timezone

from forum.models import Post, Topic, User
from forum.permissions import Role
from tests.forum.factories import UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

SIGNUP_URL = "/accounts/signup/"
HONEYPOT_REFUSAL = ("This form could not be accepted. If you are a person, leave the field “Leave this field "
                    "empty” empty and send it again.")
TOO_QUICK = "That was sent very quickly, or the form is too old. Please check it and send it again."
START = timezone.now().replace(microsecond=0) + datetime.timedelta(hours=1)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


@pytest.fixture
def min_fill(settings):
    settings.FORUM_MIN_FILL_SECONDS = 3
    return 3


def signup_data(**overrides):
    data = {
        "email": "jane.testpatient@example.org",
        "username": "jane_testpatient",
        "display_name": "Dr. Jane Testpatient",
        "password1": "a-long-synthetic-passphrase-77",
        "password2": "a-long-synthetic-passphrase-77",
        "roles": ["requester"],
        "accept_terms": "on",
        "accept_guidelines": "on",
        "accept_pledge": "on",
    }
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def shown_at(response) -> str:
    """The stamp a rendered form carries."""
    match = re.search(r'<input type="hidden" name="shown_at" value="([^"]*)"', response.content.decode())
    assert match, "the form carries no shown_at stamp"
    return match.group(1)


def has_trap(response) -> bool:
    return 'name="homepage"' in response.content.decode()


def stamp(seconds_ago: float) -> str:
    """A stamp as the site would have made it `seconds_ago` (the signature carries its own time)."""
    with time_machine.travel(timezone.now() - datetime.timedelta(seconds=seconds_ago), tick=False):
        return signing.dumps(time.time(), salt="forum.shown_at")


# --- The honeypot ------------------------------------------------------------------------------------

def test_the_honeypot_is_rendered_hidden_with_a_label(client):
    page = client.get(SIGNUP_URL).content.decode()
    trap = re.search(r'<div class="trap"[^>]*>(.*?)</div>', page, re.DOTALL)
    assert trap, "no trap wrapper"
    inner = trap.group(1)
    assert re.search(r'<label for="id_homepage">Leave this field empty</label>', inner)
    assert re.search(r'<input[^>]*name="homepage"', inner)
    assert 'tabindex="-1"' in inner and 'autocomplete="off"' in inner
    assert 'aria-hidden="true"' in trap.group(0)
    assert page.count('name="homepage"') == 1


def test_a_filled_honeypot_refuses_sign_up_and_creates_nobody(client, mailoutbox):
    response = client.post(SIGNUP_URL, signup_data(homepage="https://spam.example.org/"))
    assert response.status_code == 200
    assert HONEYPOT_REFUSAL in response.content.decode()
    assert not User.objects.filter(email="jane.testpatient@example.org").exists()
    assert mailoutbox == []


def test_a_filled_honeypot_is_refused_whatever_the_timing(client, min_fill, clock):
    data = signup_data(shown_at=shown_at(client.get(SIGNUP_URL)), homepage="spam")
    clock.shift(datetime.timedelta(minutes=5))
    response = client.post(SIGNUP_URL, data)
    assert HONEYPOT_REFUSAL in response.content.decode()
    assert not User.objects.exists()


def test_an_empty_honeypot_is_fine(client):
    response = client.post(SIGNUP_URL, signup_data(homepage=""))
    assert response.status_code == 302
    assert User.objects.filter(email="jane.testpatient@example.org").exists()


# --- The minimum fill time -------------------------------------------------------------------------------

def test_the_stamp_is_signed_with_its_own_salt(client, clock):
    value = shown_at(client.get(SIGNUP_URL))
    assert signing.loads(value, salt="forum.shown_at") == pytest.approx(START.timestamp())
    with pytest.raises(signing.BadSignature):
        signing.loads(value)


def test_a_sign_up_sent_too_quickly_is_refused_and_accepted_later(client, min_fill, clock, mailoutbox):
    data = signup_data(shown_at=shown_at(client.get(SIGNUP_URL)))
    clock.shift(datetime.timedelta(seconds=1))
    response = client.post(SIGNUP_URL, data)
    assert response.status_code == 200
    assert TOO_QUICK in response.content.decode()
    assert not User.objects.exists() and mailoutbox == []

    clock.shift(datetime.timedelta(seconds=min_fill))
    response = client.post(SIGNUP_URL, data)
    assert response.status_code == 302
    assert User.objects.filter(email="jane.testpatient@example.org").exists()


def test_the_minimum_comes_from_settings(client, settings, clock):
    settings.FORUM_MIN_FILL_SECONDS = 30
    data = signup_data(shown_at=shown_at(client.get(SIGNUP_URL)))
    clock.shift(datetime.timedelta(seconds=20))
    assert TOO_QUICK in client.post(SIGNUP_URL, data).content.decode()
    clock.shift(datetime.timedelta(seconds=11))
    assert client.post(SIGNUP_URL, data).status_code == 302


@pytest.mark.parametrize("value", [
    None,  # missing
    "",
    "not-a-stamp",
    "tampered",  # a real stamp with one character changed
    "unsalted",  # signed for another purpose
    "old",  # more than a day old
])
def test_a_missing_tampered_or_stale_stamp_is_refused(client, min_fill, clock, value):
    real = shown_at(client.get(SIGNUP_URL))
    if value == "tampered":
        value = real[:-1] + ("A" if real[-1] != "A" else "B")
    elif value == "unsalted":
        value = signing.dumps(START.timestamp() - 60)
    elif value == "old":
        value = stamp(seconds_ago=86400 + 60)
    clock.shift(datetime.timedelta(minutes=1))
    response = client.post(SIGNUP_URL, signup_data(shown_at=value))
    assert response.status_code == 200
    assert TOO_QUICK in response.content.decode()
    assert not User.objects.exists()


def test_a_form_shown_again_after_a_refusal_counts_from_then(client, min_fill, clock):
    stale = stamp(seconds_ago=2 * 86400)
    response = client.post(SIGNUP_URL, signup_data(shown_at=stale))
    assert TOO_QUICK in response.content.decode()
    fresh_stamp = shown_at(response)
    assert fresh_stamp != stale
    clock.shift(datetime.timedelta(seconds=min_fill + 1))
    response = client.post(SIGNUP_URL, signup_data(shown_at=fresh_stamp))
    assert response.status_code == 302


def test_with_no_minimum_a_missing_stamp_is_accepted(client, settings):
    settings.FORUM_MIN_FILL_SECONDS = 0
    assert client.post(SIGNUP_URL, signup_data()).status_code == 302


# --- New members' topics and replies ------------------------------------------------------------------------

@pytest.fixture
def newcomer(db):
    return UserFactory(trust_level=0, username="newcomer")


def topic_data(category, **extra):
    return {"title": "A synthetic first question", "category": category.pk, "raw": "Synthetic data only.",
            "tags": "", **extra}


def test_a_new_members_topic_form_has_the_trap(client, newcomer, clock):
    sign_in(client, newcomer)
    response = client.get("/t/new/")
    assert has_trap(response) and 'class="trap"' in response.content.decode()
    assert signing.loads(shown_at(response), salt="forum.shown_at") == pytest.approx(START.timestamp())


def test_a_new_members_topic_sent_too_quickly_is_refused_then_accepted(client, newcomer, public_category,
                                                                       min_fill, clock):
    sign_in(client, newcomer)
    data = topic_data(public_category, shown_at=shown_at(client.get("/t/new/")))
    response = client.post("/t/new/", data)
    assert TOO_QUICK in response.content.decode()
    assert not Topic.objects.filter(author=newcomer).exists()
    clock.shift(datetime.timedelta(seconds=min_fill))
    response = client.post("/t/new/", data)
    assert response.status_code == 302
    assert Topic.objects.filter(author=newcomer, title="A synthetic first question").exists()


def test_a_new_members_topic_with_the_honeypot_filled_is_refused(client, newcomer, public_category, clock):
    sign_in(client, newcomer)
    data = topic_data(public_category, shown_at=shown_at(client.get("/t/new/")), homepage="spam")
    response = client.post("/t/new/", data)
    assert HONEYPOT_REFUSAL in response.content.decode()
    assert not Topic.objects.filter(author=newcomer).exists()


def test_a_new_members_reply_form_has_the_trap_on_the_topic_page_too(client, newcomer, public_topic, clock):
    sign_in(client, newcomer)
    assert has_trap(client.get(f"/t/{public_topic.pk}/reply/"))
    page = client.get(public_topic.get_absolute_url())
    assert has_trap(page) and shown_at(page)


def test_a_new_members_reply_sent_too_quickly_is_refused_then_accepted(client, newcomer, public_topic,
                                                                       min_fill, clock):
    sign_in(client, newcomer)
    data = {"raw": "A synthetic first reply.", "shown_at": shown_at(client.get(f"/t/{public_topic.pk}/reply/"))}
    response = client.post(f"/t/{public_topic.pk}/reply/", data)
    assert TOO_QUICK in response.content.decode()
    assert not Post.objects.filter(author=newcomer).exists()
    clock.shift(datetime.timedelta(seconds=min_fill))
    assert client.post(f"/t/{public_topic.pk}/reply/", data).status_code == 302
    assert Post.objects.filter(author=newcomer, raw="A synthetic first reply.").exists()


def test_a_new_members_reply_with_the_honeypot_filled_is_refused(client, newcomer, public_topic, clock):
    sign_in(client, newcomer)
    data = {"raw": "A synthetic reply.", "homepage": "https://spam.example.org/",
            "shown_at": shown_at(client.get(f"/t/{public_topic.pk}/reply/"))}
    clock.shift(datetime.timedelta(minutes=1))
    response = client.post(f"/t/{public_topic.pk}/reply/", data)
    assert HONEYPOT_REFUSAL in response.content.decode()
    assert not Post.objects.filter(author=newcomer).exists()


def test_a_new_members_reply_without_a_stamp_is_refused(client, newcomer, public_topic, min_fill, clock):
    sign_in(client, newcomer)
    response = client.post(f"/t/{public_topic.pk}/reply/", {"raw": "A synthetic reply."})
    assert TOO_QUICK in response.content.decode()
    assert not Post.objects.filter(author=newcomer).exists()


@pytest.mark.parametrize("who", ["basic", "member", "regular", "moderator_at_level_0"])
def test_members_past_level_zero_and_moderators_have_no_trap(client, public_category, public_topic, min_fill,
                                                              clock, who):
    user = {
        "basic": lambda: UserFactory(trust_level=1),
        "member": lambda: UserFactory(trust_level=2),
        "regular": lambda: UserFactory(trust_level=3),
        "moderator_at_level_0": lambda: UserFactory(roles=[Role.MODERATOR], trust_level=0, totp=True),
    }[who]()
    sign_in(client, user)
    assert not has_trap(client.get("/t/new/"))
    assert not has_trap(client.get(f"/t/{public_topic.pk}/reply/"))
    # Sent at once, without a stamp, even with the honeypot filled: nothing is checked.
    response = client.post("/t/new/", topic_data(public_category, homepage="anything"))
    assert response.status_code == 302
    response = client.post(f"/t/{public_topic.pk}/reply/", {"raw": "A synthetic reply.", "homepage": "x"})
    assert response.status_code == 302
    assert Post.objects.filter(author=user).count() == 2


def test_the_trap_goes_once_a_member_reaches_level_one(client, newcomer, public_topic, min_fill, clock):
    sign_in(client, newcomer)
    assert has_trap(client.get(f"/t/{public_topic.pk}/reply/"))
    User.objects.filter(pk=newcomer.pk).update(trust_level=1)
    assert not has_trap(client.get(f"/t/{public_topic.pk}/reply/"))
    assert client.post(f"/t/{public_topic.pk}/reply/", {"raw": "A synthetic reply."}).status_code == 302
