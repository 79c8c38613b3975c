"""Moderation pages: flagging, the review queue, editing under review, the moderation log, restricting a
person and a person's own account page; and that a hidden post's text reaches nobody who may not read it.

Who may use what is a matrix of every role by every private view: a visitor is sent to sign in, a role
without the right is refused (403), and an item a reviewer may not act on is a 404 like a missing one.
The anonymization team acts on personal-data items only, a category moderator on their category's items
only. Refused writes change nothing. Pages run a fixed number of queries whatever the queue or log holds.
All data is synthetic.
"""
import html
import re
from types import SimpleNamespace

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from forum import services
from forum.models import Flag, ModerationLogEntry, Post, ReviewItem, Topic, TopicRead, User
from forum.permissions import Role
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

SIGN_IN_URL = reverse("account_login")
REVIEW_URL = reverse("forum:review-queue")
LOG_URL = reverse("forum:moderation-log")
ACCOUNT_URL = reverse("forum:account-settings")
EXPORT_URL = reverse("forum:account-export")

HIDDEN_NOTE = "This post is hidden until a moderator reviews it."
HELD_NOTE = "A new member's post, waiting for a moderator's approval."
AUTHOR_NOTE = "Only its author and moderators see this post."
SUSPENDED_TITLE = "Your account is suspended"

# Words that appear only in one post each, so their presence on a page means that post's text leaked.
PERSONAL_WORD = "Quuxleyfield"
FLAGGED_WORD = "Zebrafishery"
OPENING_WORD = "Opensesamoid"


def text(response) -> str:
    """The page as a reader sees it: entities (apostrophes, quotes) unescaped."""
    return html.unescape(response.content.decode())


def section(page, start: str, end: str) -> str:
    """The part of a page (a response or its text) between two markers (e.g. a table body), so labels
    elsewhere on the page do not count."""
    page = page if isinstance(page, str) else text(page)
    match = re.search(re.escape(start) + "(.*?)" + re.escape(end), page, re.DOTALL)
    assert match, f"{start!r} not on the page"
    return match.group(1)


def message_after(client, response) -> str:
    """Follow a redirect and return the page the person lands on (with its flash message)."""
    assert response.status_code == 302, response.status_code
    return text(client.get(response.url, follow=True))


# --- A small forum with one flagged and one personal-data item, and one spam sweep -------------------

@pytest.fixture
def world(db, django_capture_on_commit_callbacks):
    category = CategoryFactory(slug="imaging", name="Imaging")
    other_category = CategoryFactory(slug="genomics", name="Genomics")
    author = UserFactory(username="poster", display_name="Pat Poster")
    topic = TopicFactory(
        category=category, author=author, title="Synthetic MRI cohort question",
        raw=f"Synthetic opening post {OPENING_WORD}.",
    )
    flagged = services.post_create(actor=author, topic_id=topic.pk, raw=f"Synthetic reply about {FLAGGED_WORD}.")
    personal = services.post_create(
        actor=author, topic_id=topic.pk, raw=f"Synthetic reply naming patient {PERSONAL_WORD}.",
    )
    flagger = UserFactory(username="flagger", display_name="Fran Flagger")
    sweeper = UserFactory(username="sweeper", display_name="Sam Sweeper", roles=[Role.MODERATOR], totp=True)
    spammer = UserFactory(username="spammer", display_name="Spam Account")
    TopicFactory(category=other_category, author=spammer, title="Synthetic spam topic", raw="Buy synthetic things.")
    with django_capture_on_commit_callbacks(execute=True):
        services.post_flag(actor=flagger, post_id=flagged.pk, reason=Flag.Reason.OFF_TOPIC, note="Not about imaging")
        services.post_flag(actor=flagger, post_id=personal.pk, reason=Flag.Reason.PERSONAL_DATA)
        sweep = services.spammer_delete(actor=sweeper, user_id=spammer.pk, reason="Synthetic spam sweep")
    return SimpleNamespace(
        category=category, other_category=other_category, author=author, topic=topic,
        first=topic.posts.get(number=1), flagged=flagged, personal=personal, flagger=flagger,
        sweeper=sweeper, spammer=spammer, sweep=sweep,
        flagged_item=ReviewItem.objects.get(post=flagged, status=ReviewItem.Status.PENDING),
        personal_item=ReviewItem.objects.get(post=personal, status=ReviewItem.Status.PENDING),
    )


ROLES = [
    "anonymous", "new_member", "member", "requester", "volunteer", "anonymizer",
    "category_moderator", "other_category_moderator", "moderator", "staff",
]


def make_person(role, world):
    """A fresh person in `role` (None for a visitor); category moderators moderate the topic's
    category, or the other one."""
    if role == "anonymous":
        return None
    if role == "new_member":
        return UserFactory(trust_level=0)
    if role == "member":
        return UserFactory()
    if role == "requester":
        return UserFactory(roles=[Role.REQUESTER])
    if role == "volunteer":
        return UserFactory(roles=[Role.VOLUNTEER])
    if role == "anonymizer":
        return UserFactory(roles=[Role.ANONYMIZATION], totp=True)
    if role in ("category_moderator", "other_category_moderator"):
        person = UserFactory(totp=True)
        (world.category if role == "category_moderator" else world.other_category).moderators.add(person)
        return person
    if role == "moderator":
        return UserFactory(roles=[Role.MODERATOR], totp=True)
    if role == "staff":
        return UserFactory(roles=[Role.MODERATOR], totp=True, is_staff=True)
    raise AssertionError(role)


def _as(client, person):
    if person is not None:
        sign_in(client, person)
    return person


# --- The permission matrix ----------------------------------------------------------------------

SIGN_IN = "sent to sign in"
REVIEWERS = {"anonymizer", "category_moderator", "other_category_moderator", "moderator", "staff"}
MODERATORS = {"moderator", "staff"}
ON_FLAGGED_ITEM = {"category_moderator"} | MODERATORS
ON_PERSONAL_ITEM = {"anonymizer", "category_moderator"} | MODERATORS
EDITED_RAW = "Synthetic reply, tidied during review."


def _on_item(role, allowed, done):
    """An item action: `done` when allowed; 404 for reviewers who may not see the item; 403 otherwise."""
    if role == "anonymous":
        return SIGN_IN
    if role in allowed:
        return done
    return 404 if role in REVIEWERS else 403


def _only(role, allowed, done):
    if role == "anonymous":
        return SIGN_IN
    return done if role in allowed else 403


def _everybody(role, done):
    return SIGN_IN if role == "anonymous" else done


MATRIX = {
    "review_queue": {r: _only(r, REVIEWERS, 200) for r in ROLES},
    "approve_flagged": {r: _on_item(r, ON_FLAGGED_ITEM, 302) for r in ROLES},
    "approve_personal_data": {r: _on_item(r, ON_PERSONAL_ITEM, 302) for r in ROLES},
    "review_edit_flagged_get": {r: _on_item(r, ON_FLAGGED_ITEM, 200) for r in ROLES},
    "review_edit_flagged_post": {r: _on_item(r, ON_FLAGGED_ITEM, 302) for r in ROLES},
    "review_edit_personal_data_get": {r: _on_item(r, ON_PERSONAL_ITEM, 200) for r in ROLES},
    "review_edit_personal_data_post": {r: _on_item(r, ON_PERSONAL_ITEM, 302) for r in ROLES},
    "moderation_log": {r: _only(r, MODERATORS, 200) for r in ROLES},
    "spammer_restore": {r: _only(r, MODERATORS, 302) for r in ROLES},
    "person_moderate_get": {r: _only(r, MODERATORS, 200) for r in ROLES},
    "person_moderate_post": {r: _only(r, MODERATORS, 302) for r in ROLES},
    "flag_own_post": {r: _everybody(r, 403) for r in ROLES},
    "flag_others_post": {r: _everybody(r, 200) for r in ROLES},
    "account_settings": {r: _everybody(r, 200) for r in ROLES},
    "account_export": {r: _everybody(r, 200) for r in ROLES},
}


def _own_post(world, person):
    if person is None:
        return world.first
    return services.post_create(actor=person, topic_id=world.topic.pk, raw=f"Synthetic reply by {person.username}.")


# view -> (method, url(world, person), data)
REQUESTS = {
    "review_queue": ("get", lambda w, p: REVIEW_URL, None),
    "approve_flagged": ("post", lambda w, p: f"/review/{w.flagged_item.pk}/", {"action": "approve"}),
    "approve_personal_data": ("post", lambda w, p: f"/review/{w.personal_item.pk}/", {"action": "approve"}),
    "review_edit_flagged_get": ("get", lambda w, p: f"/review/{w.flagged_item.pk}/edit/", None),
    "review_edit_flagged_post": ("post", lambda w, p: f"/review/{w.flagged_item.pk}/edit/", {"raw": EDITED_RAW}),
    "review_edit_personal_data_get": ("get", lambda w, p: f"/review/{w.personal_item.pk}/edit/", None),
    "review_edit_personal_data_post": (
        "post", lambda w, p: f"/review/{w.personal_item.pk}/edit/", {"raw": EDITED_RAW},
    ),
    "moderation_log": ("get", lambda w, p: LOG_URL, None),
    "spammer_restore": ("post", lambda w, p: f"/review/log/{w.sweep.pk}/restore/", {}),
    "person_moderate_get": ("get", lambda w, p: "/u/poster/moderate/", None),
    "person_moderate_post": (
        "post", lambda w, p: "/u/poster/moderate/",
        {"do": "silence", "silence-days": "3", "silence-reason": "Synthetic cooling-off period"},
    ),
    "flag_own_post": ("get", lambda w, p: f"/p/{_own_post(w, p).pk}/flag/", None),
    "flag_others_post": ("get", lambda w, p: f"/p/{w.first.pk}/flag/", None),
    "account_settings": ("get", lambda w, p: ACCOUNT_URL, None),
    "account_export": ("post", lambda w, p: EXPORT_URL, {}),
}


def _took_effect(view, world) -> bool | None:
    """Whether a write view changed what it changes (None for reads)."""
    if view.startswith("approve_"):
        item = world.flagged_item if view == "approve_flagged" else world.personal_item
        return ReviewItem.objects.get(pk=item.pk).status == ReviewItem.Status.APPROVED
    if view.startswith("review_edit_") and view.endswith("_post"):
        post = world.flagged if "flagged" in view else world.personal
        return Post.objects.get(pk=post.pk).raw == EDITED_RAW
    if view == "spammer_restore":
        return bool(ModerationLogEntry.objects.get(pk=world.sweep.pk).detail.get("restored"))
    if view == "person_moderate_post":
        return User.objects.get(pk=world.author.pk).is_silenced()
    return None


@pytest.mark.parametrize("view", sorted(MATRIX))
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(client, world, view, role):
    person = _as(client, make_person(role, world))
    method, url, data = REQUESTS[view]
    url = url(world, person)
    response = client.post(url, data) if method == "post" else client.get(url)
    expected = MATRIX[view][role]
    if expected == SIGN_IN:
        assert response.status_code == 302, (view, role)
        assert response.url.startswith(SIGN_IN_URL)
    else:
        assert response.status_code == expected, (view, role, response.status_code)
    allowed = expected in (200, 302)
    effect = _took_effect(view, world)
    if effect is not None:
        assert effect == allowed, (view, role)
    if response.status_code in (403, 404):
        # A refusal never shows the text of the post it concerns.
        assert PERSONAL_WORD not in text(response) and FLAGGED_WORD not in text(response)
    if view == "account_export" and allowed:
        assert response["Content-Type"] == "application/zip"


def test_moderators_cannot_restrict_themselves_or_other_moderators(client, world):
    moderator = _as(client, make_person("moderator", world))
    assert client.get(f"/u/{moderator.username}/moderate/").status_code == 403
    assert client.get(f"/u/{world.sweeper.username}/moderate/").status_code == 403
    staff = UserFactory(is_staff=True)
    assert client.get(f"/u/{staff.username}/moderate/").status_code == 403
    response = client.post(f"/u/{world.sweeper.username}/moderate/", {
        "do": "suspend", "suspend-days": "3", "suspend-reason": "Synthetic",
    })
    assert response.status_code == 403
    assert not User.objects.get(pk=world.sweeper.pk).is_suspended()


def test_moderating_an_unknown_person_is_a_404(client, world):
    _as(client, make_person("moderator", world))
    assert client.get("/u/nobody-by-this-name/moderate/").status_code == 404


def test_restoring_a_log_entry_that_is_not_a_spam_sweep_is_a_404(client, world):
    _as(client, make_person("moderator", world))
    entry = ModerationLogEntry.objects.filter(action=ModerationLogEntry.Action.POST_HIDDEN_PERSONAL_DATA).get()
    assert client.post(f"/review/log/{entry.pk}/restore/").status_code == 404


def test_review_actions_refuse_get(client, world):
    _as(client, make_person("moderator", world))
    assert client.get(f"/review/{world.flagged_item.pk}/").status_code == 405
    assert client.get(f"/review/log/{world.sweep.pk}/restore/").status_code == 405
    assert ReviewItem.objects.get(pk=world.flagged_item.pk).status == ReviewItem.Status.PENDING


# --- Flagging -------------------------------------------------------------------------------------

def test_flag_page_offers_every_reason_as_a_labelled_radio_button(client, world):
    _as(client, make_person("member", world))
    response = client.get(f"/p/{world.first.pk}/flag/")
    assert response.status_code == 200
    page = text(response)
    assert "Flag this post for the moderators" in page
    assert "<legend>What is wrong with this post?</legend>" in page
    for value, label in Flag.Reason.choices:
        match = re.search(rf'<label for="(id_reason_\d+)">\s*<input type="radio" name="reason" value="{value}"', page)
        assert match, value
        assert str(label) in page
    assert 'name="note"' in page
    assert world.topic.title in page


def test_flagging_for_personal_data_hides_the_post_and_thanks_the_flagger(client, world):
    member = _as(client, make_person("member", world))
    post = services.post_create(actor=world.author, topic_id=world.topic.pk, raw="Synthetic reply, date of birth.")
    response = client.post(f"/p/{post.pk}/flag/", {"reason": "personal_data", "note": "Has a birth date"})
    assert response.status_code == 302
    assert response.url == f"/p/{post.pk}/"
    landing = text(client.get(response.url, follow=True))
    assert "Thank you. The post is hidden until the anonymization team and moderators have reviewed it" in landing
    post.refresh_from_db()
    assert post.hidden == Post.Hidden.PERSONAL_DATA
    flag = Flag.objects.get(post=post, flagger=member)
    assert flag.note == "Has a birth date"
    assert flag.review_item.personal_data


def test_flagging_for_another_reason_thanks_the_flagger_and_keeps_the_post_shown(client, world):
    _as(client, make_person("member", world))
    response = client.post(f"/p/{world.first.pk}/flag/", {"reason": "spam"})
    assert response.status_code == 302
    assert "Thank you. Moderators will look at it" in message_after(client, response)
    world.first.refresh_from_db()
    assert world.first.hidden == Post.Hidden.NO


def test_flagging_a_first_post_hides_the_topic_and_sends_the_flagger_home_not_to_a_404(client, world):
    _as(client, make_person("member", world))
    response = client.post(f"/p/{world.first.pk}/flag/", {"reason": "personal_data"})
    assert response.status_code == 302
    assert response.url == reverse("forum:home")
    landing = client.get(response.url)
    assert landing.status_code == 200
    assert "Thank you. The post is hidden" in text(landing)
    assert Topic.objects.get(pk=world.topic.pk).hidden_at is not None
    # The flagger no longer sees the topic; its author still does.
    assert client.get(world.topic.get_absolute_url()).status_code == 404
    author_client = Client()
    sign_in(author_client, world.author)
    assert author_client.get(world.topic.get_absolute_url()).status_code == 200


def test_flag_without_a_reason_is_refused_with_the_error_shown(client, world):
    _as(client, make_person("member", world))
    response = client.post(f"/p/{world.first.pk}/flag/", {"note": "Something"})
    assert response.status_code == 400
    assert "This field is required." in text(response)
    assert not Flag.objects.filter(post=world.first).exists()


def test_flag_as_something_else_needs_a_note(client, world):
    _as(client, make_person("member", world))
    response = client.post(f"/p/{world.first.pk}/flag/", {"reason": "other", "note": "   "})
    assert response.status_code == 400
    assert "Please say what is wrong with this post." in text(response)
    assert not Flag.objects.filter(post=world.first).exists()


def test_flagging_twice_is_refused_with_the_error_shown(client, world):
    _as(client, world.flagger)
    response = client.post(f"/p/{world.flagged.pk}/flag/", {"reason": "spam"})
    assert response.status_code == 400
    assert "You already flagged this post" in text(response)
    assert Flag.objects.filter(post=world.flagged, flagger=world.flagger).count() == 1


def test_a_post_in_a_topic_the_flagger_cannot_see_is_a_404(client, world):
    private = CategoryFactory(slug="clinic", name="Clinic", private=True)
    hidden_topic = TopicFactory(category=private, author=world.author, title="Synthetic private question")
    _as(client, make_person("member", world))
    response = client.get(f"/p/{hidden_topic.posts.get().pk}/flag/")
    assert response.status_code == 404
    assert "Synthetic private question" not in text(response)


# --- The review queue -----------------------------------------------------------------------------

def test_review_queue_shows_pending_items_with_flags_reasons_notes_and_author(client, world):
    new_flagger = UserFactory(trust_level=0, display_name="Nia Newcomer")
    services.post_flag(actor=new_flagger, post_id=world.flagged.pk, reason=Flag.Reason.SPAM)
    _as(client, make_person("moderator", world))
    response = client.get(REVIEW_URL)
    assert response.status_code == 200
    page = text(response)
    assert "2 posts" in page
    flagged = section(response, f'id="review-{world.flagged_item.pk}"', "</section>")
    assert f"{world.topic.title} #{world.flagged.number}" in flagged
    assert "Off-topic — Fran Flagger: “Not about imaging”" in flagged
    assert 'Spam or advertising — Nia Newcomer <span class="muted">(new member)</span>' in flagged
    assert "by Pat Poster (@poster)" in flagged
    assert "trust level: basic" in flagged
    assert FLAGGED_WORD in flagged
    assert "Personal data" not in flagged
    personal = section(response, f'id="review-{world.personal_item.pk}"', "</section>")
    assert '<span class="badge-personal">Personal data</span>' in personal
    assert "Contains personal data that may identify a patient — Fran Flagger" in personal
    assert str(Post.Hidden.PERSONAL_DATA.label) in personal
    assert PERSONAL_WORD in personal
    for item in (world.flagged_item, world.personal_item):
        assert f'action="/review/{item.pk}/"' in page
        assert f'href="/review/{item.pk}/edit/"' in page
    assert 'href="/u/poster/moderate/"' in page  # moderators may restrict the author


def test_review_queue_lists_pending_items_oldest_first(client, world):
    _as(client, make_person("moderator", world))
    page = text(client.get(REVIEW_URL))
    assert page.index(f'id="review-{world.flagged_item.pk}"') < page.index(f'id="review-{world.personal_item.pk}"')


def test_anonymization_team_sees_only_personal_data_items_and_no_restrict_link(client, world):
    _as(client, make_person("anonymizer", world))
    response = client.get(REVIEW_URL)
    page = text(response)
    assert "1 post" in page
    assert f'id="review-{world.personal_item.pk}"' in page
    assert PERSONAL_WORD in page
    assert f'id="review-{world.flagged_item.pk}"' not in page
    assert FLAGGED_WORD not in page
    assert "/moderate/" not in page


def test_category_moderator_of_another_category_sees_none_of_these_items(client, world):
    _as(client, make_person("other_category_moderator", world))
    page = text(client.get(REVIEW_URL))
    assert "Nothing waits for review. Thank you!" in page
    assert PERSONAL_WORD not in page and FLAGGED_WORD not in page and world.topic.title not in page


def test_category_moderator_sees_their_categorys_items_but_may_not_restrict_authors(client, world):
    _as(client, make_person("category_moderator", world))
    page = text(client.get(REVIEW_URL))
    assert f'id="review-{world.flagged_item.pk}"' in page
    assert f'id="review-{world.personal_item.pk}"' in page
    assert "/moderate/" not in page


def test_review_queue_links_to_the_other_queues_each_reviewer_works_through(client, world):
    moderator_client, anonymizer_client, category_client = Client(), Client(), Client()
    _as(moderator_client, make_person("moderator", world))
    _as(anonymizer_client, make_person("anonymizer", world))
    _as(category_client, make_person("category_moderator", world))
    license_link = f'<a href="{reverse("licensing:license-report")}">Held for their license</a>'
    uploads_link = f'<a href="{reverse("anonymization:queue")}">Uploads waiting for the anonymization team</a>'
    moderator_page = text(moderator_client.get(REVIEW_URL))
    assert license_link in moderator_page and uploads_link in moderator_page
    anonymizer_page = text(anonymizer_client.get(REVIEW_URL))
    assert uploads_link in anonymizer_page and license_link not in anonymizer_page
    category_page = text(category_client.get(REVIEW_URL))
    assert "Other queues" not in category_page


def test_review_queue_links_to_the_log_only_for_people_who_may_read_it(client, world):
    _as(client, make_person("anonymizer", world))
    assert f'href="{LOG_URL}"' not in text(client.get(REVIEW_URL))


@pytest.mark.parametrize(("action", "message", "status", "hidden"), [
    ("approve", "Approved: the post is shown.", ReviewItem.Status.APPROVED, Post.Hidden.NO),
    ("hide", "The post stays hidden.", ReviewItem.Status.HIDDEN, Post.Hidden.MODERATOR),
    ("delete", "The post is deleted.", ReviewItem.Status.DELETED, Post.Hidden.PERSONAL_DATA),
])
def test_review_actions_redirect_back_to_the_queue_with_a_message(client, world, action, message, status, hidden,
                                                                   django_capture_on_commit_callbacks):
    moderator = _as(client, make_person("moderator", world))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/review/{world.personal_item.pk}/", {"action": action, "note": "Synthetic note"})
    assert response.status_code == 302
    assert response.url == REVIEW_URL
    landing = message_after(client, response)
    assert f"{message} Its author and the flaggers are told." in landing
    item = ReviewItem.objects.get(pk=world.personal_item.pk)
    assert (item.status, item.resolved_by_id, item.resolution_note) == (status, moderator.pk, "Synthetic note")
    post = Post.objects.get(pk=world.personal.pk)
    assert post.hidden == hidden
    assert (post.deleted_at is not None) == (action == "delete")
    # The resolved item leaves the pending view and shows in its own view, with who decided and why.
    assert f'id="review-{item.pk}"' not in landing
    resolved = text(client.get(REVIEW_URL, {"status": status}))
    assert f'id="review-{item.pk}"' in resolved
    assert f"{item.get_status_display()} — {moderator.name}: “Synthetic note”" in resolved
    assert f'action="/review/{item.pk}/"' not in resolved


def test_rejecting_a_flagged_post_is_refused_with_a_message(client, world):
    _as(client, make_person("moderator", world))
    response = client.post(f"/review/{world.flagged_item.pk}/", {"action": "reject"})
    assert response.status_code == 302
    assert "Only held posts are rejected; hide or delete a flagged post." in message_after(client, response)
    assert ReviewItem.objects.get(pk=world.flagged_item.pk).status == ReviewItem.Status.PENDING


def test_an_unknown_review_action_is_refused_with_a_message(client, world):
    _as(client, make_person("moderator", world))
    response = client.post(f"/review/{world.flagged_item.pk}/", {"action": "launch"})
    assert "Unknown action." in message_after(client, response)
    assert ReviewItem.objects.get(pk=world.flagged_item.pk).status == ReviewItem.Status.PENDING


def test_acting_on_an_item_someone_already_reviewed_redirects_back_with_a_message(
        client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.review_resolve(actor=world.sweeper, item_id=world.flagged_item.pk, action="approve")
    _as(client, make_person("moderator", world))
    response = client.post(f"/review/{world.flagged_item.pk}/", {"action": "delete"})
    assert response.status_code == 302
    assert "Someone already reviewed this post." in message_after(client, response)


def test_an_unknown_status_shows_the_pending_items(client, world):
    _as(client, make_person("moderator", world))
    page = text(client.get(REVIEW_URL, {"status": "everything"}))
    assert f'id="review-{world.flagged_item.pk}"' in page


def test_held_posts_are_offered_for_approval_or_rejection(client, world, settings, django_capture_on_commit_callbacks):
    settings.FORUM_HOLD_FIRST_POSTS = 2  # 2 holds a first post, wherever the count starts
    newcomer = UserFactory(trust_level=0, display_name="Nova Newcomer")
    held = services.post_create(actor=newcomer, topic_id=world.topic.pk, raw="Synthetic first words, held.")
    item = ReviewItem.objects.get(post=held)
    _as(client, make_person("moderator", world))
    block = section(client.get(REVIEW_URL), f'id="review-{item.pk}"', "</section>")
    assert "New member's post held for approval" in block
    assert "trust level: new" in block
    assert "Approve and publish" in block and 'value="reject"' in block
    assert 'value="hide"' not in block
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/review/{item.pk}/", {"action": "reject"})
    assert "The held post is rejected." in message_after(client, response)
    assert Post.objects.get(pk=held.pk).deleted_at is not None


# --- Editing under review -------------------------------------------------------------------------

def test_review_edit_shows_the_post_text_to_edit(client, world):
    _as(client, make_person("anonymizer", world))
    response = client.get(f"/review/{world.personal_item.pk}/edit/")
    assert response.status_code == 200
    page = text(response)
    assert f"Edit “{world.topic.title}” #{world.personal.number}" in page
    assert f"Synthetic reply naming patient {PERSONAL_WORD}." in page
    assert f'href="{REVIEW_URL}#review-{world.personal_item.pk}"' in page


def test_review_edit_changes_the_text_keeps_the_item_pending_and_is_logged(client, world):
    anonymizer = _as(client, make_person("anonymizer", world))
    response = client.post(f"/review/{world.personal_item.pk}/edit/", {
        "raw": "Synthetic reply naming patient [removed].", "reason": "Removed a name",
    })
    assert response.status_code == 302
    assert response.url == f"{REVIEW_URL}#review-{world.personal_item.pk}"
    assert "Saved. The post is still waiting for your decision." in message_after(client, response)
    post = Post.objects.get(pk=world.personal.pk)
    assert post.raw == "Synthetic reply naming patient [removed]."
    assert "[removed]" in post.html and PERSONAL_WORD not in post.html
    assert post.hidden == Post.Hidden.PERSONAL_DATA
    assert ReviewItem.objects.get(pk=world.personal_item.pk).status == ReviewItem.Status.PENDING
    entry = ModerationLogEntry.objects.get(action=ModerationLogEntry.Action.EDITED)
    assert (entry.actor_id, entry.post_id, entry.reason) == (anonymizer.pk, post.pk, "Removed a name")


def test_review_edit_without_text_is_refused_with_the_error_shown(client, world):
    _as(client, make_person("moderator", world))
    response = client.post(f"/review/{world.flagged_item.pk}/edit/", {"raw": ""})
    assert response.status_code == 400
    assert "This field is required." in text(response)
    assert Post.objects.get(pk=world.flagged.pk).raw.endswith(f"{FLAGGED_WORD}.")


def test_editing_an_already_reviewed_item_is_a_404(client, world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.review_resolve(actor=world.sweeper, item_id=world.flagged_item.pk, action="approve")
    _as(client, make_person("moderator", world))
    assert client.get(f"/review/{world.flagged_item.pk}/edit/").status_code == 404


# --- The moderation log ---------------------------------------------------------------------------

def test_moderation_log_lists_entries_newest_first(client, world):
    moderator = _as(client, make_person("moderator", world))
    services.user_silence(actor=moderator, user_id=world.author.pk, days=2, reason="Synthetic heated words")
    rows = section(client.get(LOG_URL), "<tbody>", "</tbody>")
    assert "silenced a person" in rows and "Synthetic heated words" in rows and "Pat Poster" in rows
    assert "deleted a spammer and their posts" in rows and "Sam Sweeper" in rows and "Spam Account" in rows
    assert "hid a post flagged for personal data" in rows and "the system" in rows
    assert f'href="/p/{world.personal.pk}/"' in rows
    assert rows.index("silenced a person") < rows.index("deleted a spammer and their posts")


def test_moderation_log_filters_by_action(client, world):
    moderator = _as(client, make_person("moderator", world))
    services.user_silence(actor=moderator, user_id=world.author.pk, days=2, reason="Synthetic heated words")
    response = client.get(LOG_URL, {"action": "silenced"})
    rows = section(response, "<tbody>", "</tbody>")
    assert "silenced a person" in rows
    assert "deleted a spammer" not in rows and "hid a post" not in rows
    assert '<option value="silenced" selected>' in text(response)
    # An unknown action shows everything.
    everything = section(client.get(LOG_URL, {"action": "bogus"}), "<tbody>", "</tbody>")
    assert "deleted a spammer" in everything and "silenced a person" in everything


def test_moderation_log_offers_undo_only_on_sweeps_not_yet_restored(client, world):
    _as(client, make_person("moderator", world))
    undo = f'action="/review/log/{world.sweep.pk}/restore/"'
    rows = section(client.get(LOG_URL), "<tbody>", "</tbody>")
    assert rows.count("Undo: restore them and their posts") == 1
    assert undo in rows
    response = client.post(f"/review/log/{world.sweep.pk}/restore/")
    assert response.status_code == 302 and response.url == LOG_URL
    landing = message_after(client, response)
    assert "The person is active again and their posts are back." in landing
    assert "Undo: restore them and their posts" not in section(landing, "<tbody>", "</tbody>")
    assert "restored a person deleted as a spammer" in landing
    spammer = User.objects.get(pk=world.spammer.pk)
    assert spammer.is_active
    assert not Post.objects.filter(author=spammer, deleted_at__isnull=False).exists()
    # A second undo is refused with a message.
    again = client.post(f"/review/log/{world.sweep.pk}/restore/")
    assert "This sweep was already undone." in message_after(client, again)


# --- Restricting a person -------------------------------------------------------------------------

PERSON_URL = "/u/poster/moderate/"


def test_person_page_shows_the_forms_and_the_persons_record(client, world):
    _as(client, make_person("moderator", world))
    response = client.get(PERSON_URL)
    assert response.status_code == 200
    page = text(response)
    assert "Moderate Pat Poster" in page
    assert "trust level: basic" in page and "3 posts" in page and "2 flags received" in page
    for do in ("silence", "suspend", "trust", "spammer"):
        assert f'<input type="hidden" name="do" value="{do}">' in page
    assert "Lift the silence" not in page and "Lift the suspension" not in page
    assert "hid a post flagged for personal data" in page  # recent moderation about them


@pytest.mark.parametrize(("data", "errors"), [
    ({"do": "silence", "silence-days": "0", "silence-reason": ""},
     ["Ensure this value is greater than or equal to 1.", "This field is required."]),
    ({"do": "suspend", "suspend-days": "5000", "suspend-reason": "Synthetic"},
     ["Ensure this value is less than or equal to 3650."]),
    ({"do": "suspend", "suspend-days": "3", "suspend-reason": "   "}, ["This field is required."]),
    ({"do": "trust", "trust-level": "9"}, ["Select a valid choice."]),
])
def test_invalid_restrictions_are_refused_with_the_errors_shown(client, world, data, errors):
    _as(client, make_person("moderator", world))
    response = client.post(PERSON_URL, data)
    assert response.status_code == 400
    page = text(response)
    for error in errors:
        assert error in page
    author = User.objects.get(pk=world.author.pk)
    assert not author.is_silenced() and not author.is_suspended() and author.trust_level == 1
    assert not ModerationLogEntry.objects.filter(target_user=author, actor__isnull=False).exists()


def test_an_unknown_person_action_is_a_404(client, world):
    _as(client, make_person("moderator", world))
    assert client.post(PERSON_URL, {"do": "banish"}).status_code == 404


def test_silence_is_shown_and_can_be_lifted(client, world, django_capture_on_commit_callbacks):
    moderator = _as(client, make_person("moderator", world))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(PERSON_URL, {"do": "silence", "silence-days": "3", "silence-reason": "Synthetic rant"})
    assert response.status_code == 302 and response.url == PERSON_URL
    page = message_after(client, response)
    assert "Silenced. They are told why and until when." in page
    assert "Silenced until" in page and ": Synthetic rant" in page and "Lift the silence" in page
    author = User.objects.get(pk=world.author.pk)
    assert author.is_silenced() and author.silence_reason == "Synthetic rant"
    assert ModerationLogEntry.objects.filter(action="silenced", actor=moderator, target_user=author).exists()
    response = client.post(PERSON_URL, {"do": "lift-silence"})
    assert "Lifted." in message_after(client, response)
    assert not User.objects.get(pk=world.author.pk).is_silenced()
    assert ModerationLogEntry.objects.filter(action="unsilenced", target_user=author).exists()


def test_suspension_is_shown_and_can_be_lifted(client, world, django_capture_on_commit_callbacks):
    _as(client, make_person("moderator", world))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(PERSON_URL, {"do": "suspend", "suspend-days": "7", "suspend-reason": "Synthetic abuse"})
    page = message_after(client, response)
    assert "Suspended. They are told why and until when." in page
    assert "Suspended until" in page and ": Synthetic abuse" in page and "Lift the suspension" in page
    assert User.objects.get(pk=world.author.pk).is_suspended()
    response = client.post(PERSON_URL, {"do": "lift-suspension"})
    assert "Lifted." in message_after(client, response)
    assert not User.objects.get(pk=world.author.pk).is_suspended()


def test_trust_level_is_set_and_locked(client, world):
    _as(client, make_person("moderator", world))
    response = client.post(PERSON_URL, {
        "do": "trust", "trust-level": "3", "trust-locked": "on", "trust-reason": "Synthetic long-time helper",
    })
    page = message_after(client, response)
    assert "Trust level saved." in page
    assert "trust level: regular (locked)" in page
    author = User.objects.get(pk=world.author.pk)
    assert (author.trust_level, author.trust_level_locked) == (3, True)
    assert ModerationLogEntry.objects.get(action="trust_locked", target_user=author).reason == (
        "Synthetic long-time helper"
    )
    response = client.post(PERSON_URL, {"do": "trust", "trust-level": "2"})
    assert "trust level: member" in message_after(client, response)
    assert User.objects.get(pk=world.author.pk).trust_level_locked is False


def test_deleting_a_spammer_goes_to_the_log_with_an_undo(client, world, django_capture_on_commit_callbacks):
    _as(client, make_person("moderator", world))
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(PERSON_URL, {"do": "spammer", "spammer-reason": "Synthetic link farm"})
    assert response.status_code == 302 and response.url == LOG_URL
    page = message_after(client, response)
    assert "Deleted as a spammer" in page and "You can undo this from the moderation log." in page
    author = User.objects.get(pk=world.author.pk)
    assert not author.is_active
    assert not Post.objects.filter(author=author, deleted_at__isnull=True).exists()
    entry = ModerationLogEntry.objects.get(action="spammer_deleted", target_user=author)
    assert f'action="/review/log/{entry.pk}/restore/"' in page
    # Their pending review items are resolved with the sweep.
    assert not ReviewItem.objects.filter(post__author=author, status=ReviewItem.Status.PENDING).exists()


# --- Suspended and silenced people ----------------------------------------------------------------

@pytest.fixture
def suspended(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.user_suspend(actor=world.sweeper, user_id=world.author.pk, days=5, reason="Synthetic harassment")
    return User.objects.get(pk=world.author.pk)


@pytest.mark.parametrize("url", [
    "/", "/latest/", "/search/?q=synthetic", "/my/notifications/", "/my/bookmarks/", "/settings/profile/",
    "/t/new/", "/u/poster/", "TOPIC", "REPLY", REVIEW_URL,
])
def test_a_suspended_person_sees_why_on_every_page(client, world, suspended, url):
    sign_in(client, suspended)
    url = {"TOPIC": world.topic.get_absolute_url(), "REPLY": f"/t/{world.topic.pk}/reply/"}.get(url, url)
    response = client.get(url)
    assert response.status_code == 403
    page = text(response)
    assert SUSPENDED_TITLE in page
    assert "Reason: Synthetic harassment" in page
    assert "A moderator suspended your account until" in page
    assert f'href="{ACCOUNT_URL}"' in page


def test_a_suspended_person_cannot_post(client, world, suspended):
    sign_in(client, suspended)
    response = client.post(f"/t/{world.topic.pk}/reply/", {"raw": "Synthetic reply while suspended."})
    assert response.status_code == 403
    assert SUSPENDED_TITLE in text(response)
    assert not Post.objects.filter(raw="Synthetic reply while suspended.").exists()


@pytest.mark.parametrize("url", [ACCOUNT_URL, "/guidelines/", "/faq/", "/terms/"])
def test_a_suspended_person_can_still_reach_their_account_and_the_rules(client, suspended, url):
    sign_in(client, suspended)
    response = client.get(url)
    assert response.status_code == 200
    assert SUSPENDED_TITLE not in text(response)


def test_a_suspended_person_can_download_their_data_and_sign_out(client, suspended):
    sign_in(client, suspended)
    export = client.post(EXPORT_URL)
    assert export.status_code == 200 and export["Content-Type"] == "application/zip"
    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_a_lifted_suspension_opens_the_site_again(client, world, suspended):
    services.user_restriction_lift(actor=world.sweeper, user_id=suspended.pk, restriction="suspension")
    sign_in(client, suspended)
    assert client.get("/").status_code == 200


@pytest.fixture
def silenced(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.user_silence(actor=world.sweeper, user_id=world.author.pk, days=2, reason="Synthetic shouting")
    return User.objects.get(pk=world.author.pk)


def test_a_silenced_person_reads_but_sees_no_reply_box(client, world, silenced):
    sign_in(client, silenced)
    response = client.get(world.topic.get_absolute_url())
    assert response.status_code == 200
    page = text(response)
    assert 'id="reply"' not in page
    assert f'action="/t/{world.topic.pk}/reply/"' not in page


def test_a_silenced_person_is_told_why_when_posting(client, world, silenced):
    sign_in(client, silenced)
    response = client.post(f"/t/{world.topic.pk}/reply/", {"raw": "Synthetic reply while silenced."})
    assert response.status_code == 403
    page = text(response)
    assert "A moderator silenced you until" in page and "Synthetic shouting" in page
    assert not Post.objects.filter(raw="Synthetic reply while silenced.").exists()


def test_a_silenced_person_cannot_flag_and_is_told_why(client, world, silenced):
    sign_in(client, silenced)
    assert "/flag/" not in text(client.get(world.topic.get_absolute_url()))
    other = services.post_create(actor=world.flagger, topic_id=world.topic.pk, raw="Synthetic reply by the flagger.")
    response = client.post(f"/p/{other.pk}/flag/", {"reason": "spam"})
    assert response.status_code == 403
    assert "A moderator silenced you until" in text(response) and "Synthetic shouting" in text(response)
    assert not Flag.objects.filter(flagger=silenced).exists()


def test_other_people_still_see_the_reply_box_when_someone_is_silenced(client, world, silenced):
    _as(client, make_person("member", world))
    assert 'id="reply"' in text(client.get(world.topic.get_absolute_url()))


# --- Hidden posts on the topic page, and nowhere else --------------------------------------------

def _topic_page(world, person):
    client = Client()
    _as(client, person)
    response = client.get(world.topic.get_absolute_url())
    assert response.status_code == 200
    return text(response)


def _post_block(page, number):
    match = re.search(rf'<article [^>]*id="post-{number}".*?</article>', page, re.DOTALL)
    assert match, number
    return match.group(0)


@pytest.mark.parametrize("role", ["anonymous", "new_member", "member", "volunteer", "anonymizer",
                                  "other_category_moderator"])
def test_a_hidden_reply_shows_only_a_placeholder_to_others(world, role):
    page = _topic_page(world, make_person(role, world))
    block = _post_block(page, world.personal.number)
    assert HIDDEN_NOTE in block
    assert PERSONAL_WORD not in page
    assert "Pat Poster" in block  # who wrote it is no secret; what they wrote is
    assert FLAGGED_WORD in page  # a flagged post under the threshold stays shown


@pytest.mark.parametrize("role", ["author", "category_moderator", "moderator", "staff"])
def test_a_hidden_reply_is_readable_by_its_author_and_moderators_with_a_note(world, role):
    person = world.author if role == "author" else make_person(role, world)
    block = _post_block(_topic_page(world, person), world.personal.number)
    assert PERSONAL_WORD in block
    assert AUTHOR_NOTE in block and str(Post.Hidden.PERSONAL_DATA.label) in block
    assert HIDDEN_NOTE not in block


def test_a_held_post_says_it_awaits_approval(world, settings):
    settings.FORUM_HOLD_FIRST_POSTS = 2  # 2 holds a first post, wherever the count starts
    newcomer = UserFactory(trust_level=0)
    held = services.post_create(actor=newcomer, topic_id=world.topic.pk, raw="Synthetic newcomer words Heldoverly.")
    assert held.hidden == Post.Hidden.AWAITING_APPROVAL
    for person in (None, make_person("member", world)):
        page = _topic_page(world, person)
        assert HELD_NOTE in _post_block(page, held.number)
        assert "Heldoverly" not in page
    own = _post_block(_topic_page(world, newcomer), held.number)
    assert "Heldoverly" in own and "Waiting for a moderator's approval." in own


def test_the_flag_link_shows_on_other_peoples_posts_only(world):
    member = make_person("member", world)
    own = services.post_create(actor=member, topic_id=world.topic.pk, raw="Synthetic reply of my own.")
    page = _topic_page(world, member)
    assert f'href="/p/{world.first.pk}/flag/"' in page
    assert f'href="/p/{world.flagged.pk}/flag/"' in page
    assert f'href="/p/{own.pk}/flag/"' not in page
    assert f'href="/p/{world.personal.pk}/flag/"' not in page  # hidden from them: nothing to flag
    author_page = _topic_page(world, world.author)
    assert f'href="/p/{world.first.pk}/flag/"' not in author_page
    assert f'href="/p/{own.pk}/flag/"' in author_page


def test_visitors_see_no_flag_link(world):
    assert "/flag/" not in _topic_page(world, None)


def test_quoting_a_hidden_post_does_not_leak_its_text(client, world):
    _as(client, make_person("member", world))
    response = client.get(f"/t/{world.topic.pk}/reply/", {"to": world.personal.number, "quote": "1"})
    assert response.status_code == 200
    assert PERSONAL_WORD not in text(response)
    # A shown post is quoted, so the check above means something.
    shown = client.get(f"/t/{world.topic.pk}/reply/", {"to": world.flagged.number, "quote": "1"})
    assert f"> Synthetic reply about {FLAGGED_WORD}." in text(shown)


def _search_results(person, word):
    client = Client()
    _as(client, person)
    response = client.get("/search/", {"q": word})
    assert response.status_code == 200
    return section(response, 'id="search-results-heading"', "</section>")


@pytest.mark.parametrize("role", ["anonymous", "member", "anonymizer", "other_category_moderator"])
def test_search_does_not_find_a_hidden_post_for_others(world, role):
    results = _search_results(make_person(role, world), PERSONAL_WORD)
    assert "0 results" in results
    assert 'class="search-result"' not in results
    assert f"/p/{world.personal.pk}/" not in results


@pytest.mark.parametrize("role", ["author", "moderator"])
def test_search_finds_a_hidden_post_for_its_author_and_moderators(world, role):
    person = world.author if role == "author" else make_person(role, world)
    results = _search_results(person, PERSONAL_WORD)
    assert "1 result" in results and f"/p/{world.personal.pk}/" in results


@pytest.mark.parametrize("role", ["anonymous", "member", "anonymizer"])
def test_revisions_of_a_hidden_post_are_not_shown_to_others(client, world, role):
    _as(client, make_person(role, world))
    response = client.get(f"/p/{world.personal.pk}/revisions/")
    assert response.status_code == 404
    assert PERSONAL_WORD not in text(response)


def test_revisions_of_a_hidden_post_are_shown_to_its_author(client, world):
    sign_in(client, world.author)
    response = client.get(f"/p/{world.personal.pk}/revisions/")
    assert response.status_code == 200 and PERSONAL_WORD in text(response)


def test_an_approved_redaction_leaves_no_trace_of_the_removed_text(client, world, django_capture_on_commit_callbacks):
    """The anonymization team edits the name out and approves: the post is shown again, but neither its
    history nor search gives the name to anybody else."""
    team = Client()
    _as(team, make_person("anonymizer", world))
    assert team.post(f"/review/{world.personal_item.pk}/edit/", {
        "raw": "Synthetic reply naming patient [removed].", "reason": "Removed a name",
    }).status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert team.post(f"/review/{world.personal_item.pk}/", {"action": "approve"}).status_code == 302
    for person in (None, make_person("member", world)):
        page = _topic_page(world, person)
        assert "[removed]" in page and PERSONAL_WORD not in page
        reader = Client()
        _as(reader, person)
        history = reader.get(f"/p/{world.personal.pk}/revisions/")
        assert history.status_code == 200
        assert "[removed]" in text(history) and PERSONAL_WORD not in text(history)
        assert "0 results" in _search_results(person, PERSONAL_WORD)


def test_hiding_a_post_makes_the_anonymous_cached_topic_page_stale(world, django_capture_on_commit_callbacks):
    visitor = Client()
    url = world.topic.get_absolute_url()
    first = visitor.get(url)
    assert first.get("X-Cache") != "hit" and FLAGGED_WORD in text(first)
    second = visitor.get(url)
    assert second.get("X-Cache") == "hit" and FLAGGED_WORD in text(second)
    member = make_person("member", world)
    with django_capture_on_commit_callbacks(execute=True):
        services.post_flag(actor=member, post_id=world.flagged.pk, reason=Flag.Reason.PERSONAL_DATA)
    after = visitor.get(url)
    assert after.get("X-Cache") != "hit"
    assert FLAGGED_WORD not in text(after)
    assert HIDDEN_NOTE in _post_block(text(after), world.flagged.number)


def test_hiding_a_first_post_takes_the_topic_off_the_anonymous_cached_lists(world, django_capture_on_commit_callbacks):
    visitor = Client()
    assert world.topic.title in text(visitor.get("/latest/"))
    assert visitor.get("/latest/").get("X-Cache") == "hit"
    with django_capture_on_commit_callbacks(execute=True):
        services.post_flag(actor=world.flagger, post_id=world.first.pk, reason=Flag.Reason.PERSONAL_DATA)
    assert world.topic.title not in text(visitor.get("/latest/"))
    assert visitor.get(world.topic.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("feed", ["/latest.atom", "/latest.rss", "/c/imaging/feed.atom"])
def test_a_topic_hidden_for_review_leaves_the_feeds(world, feed, django_capture_on_commit_callbacks):
    visitor = Client()
    assert OPENING_WORD in visitor.get(feed).content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        services.post_flag(actor=world.flagger, post_id=world.first.pk, reason=Flag.Reason.PERSONAL_DATA)
    content = visitor.get(feed).content.decode()
    assert OPENING_WORD not in content and world.topic.title not in content


def test_enough_trusted_flags_hide_a_post(world, settings, django_capture_on_commit_callbacks):
    settings.FORUM_FLAGS_TO_HIDE = 2
    with django_capture_on_commit_callbacks(execute=True):
        services.post_flag(actor=make_person("member", world), post_id=world.flagged.pk, reason=Flag.Reason.SPAM)
    block = _post_block(_topic_page(world, None), world.flagged.number)
    assert HIDDEN_NOTE in block and FLAGGED_WORD not in block


def test_untrusted_flags_do_not_hide_a_post(world, settings, django_capture_on_commit_callbacks):
    settings.FORUM_FLAGS_TO_HIDE = 2
    with django_capture_on_commit_callbacks(execute=True):
        services.post_flag(actor=UserFactory(trust_level=0), post_id=world.flagged.pk, reason=Flag.Reason.SPAM)
    assert FLAGGED_WORD in _post_block(_topic_page(world, None), world.flagged.number)


# --- The Review link in the header ----------------------------------------------------------------

REVIEW_LINK = f'<a href="{REVIEW_URL}">Review</a>'


@pytest.mark.parametrize("role", ROLES)
def test_the_review_link_is_in_the_header_for_moderators_and_the_anonymization_team(client, world, role):
    _as(client, make_person(role, world))
    page = text(client.get("/"))
    assert (REVIEW_LINK in page) == (role in {"moderator", "staff", "anonymizer"}), role


def test_a_category_moderator_finds_the_review_queue_from_their_category(client, world):
    _as(client, make_person("category_moderator", world))
    assert f'href="{REVIEW_URL}"' in text(client.get(world.category.get_absolute_url()))


# --- Queries: a fixed number whatever the queue, log or topic holds ---------------------------------

def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _flag_many(count, category, flaggers, capture):
    """`count` replies by as many authors in a new topic of `category`, each flagged by every flagger,
    the last for personal data (which hides the post, and hidden posts cannot be flagged again)."""
    opener = UserFactory()
    topic = TopicFactory(category=category, author=opener, title=f"Synthetic busy topic {Topic.objects.count()}")
    reasons = [Flag.Reason.OTHER, Flag.Reason.INAPPROPRIATE, Flag.Reason.PERSONAL_DATA]
    with capture(execute=True):
        for n in range(count):
            post = services.post_create(actor=UserFactory(), topic_id=topic.pk, raw=f"Synthetic busy reply {n}.")
            for i, flagger in enumerate(flaggers):
                services.post_flag(actor=flagger, post_id=post.pk, reason=reasons[i],
                                   note=f"Synthetic note {n}-{i}")


@pytest.mark.parametrize("role", ["moderator", "anonymizer", "category_moderator"])
def test_review_queue_runs_a_fixed_number_of_queries(client, world, role, django_assert_max_num_queries,
                                                      django_capture_on_commit_callbacks):
    flaggers = [UserFactory() for _ in range(3)]
    ReviewItem.objects.all().delete()
    _flag_many(3, world.category, flaggers, django_capture_on_commit_callbacks)
    _as(client, make_person(role, world))
    client.get("/faq/")  # warm the terms cache, as on a running site
    small = _count_queries(client, REVIEW_URL)
    _flag_many(27, world.category, flaggers, django_capture_on_commit_callbacks)
    assert ReviewItem.objects.filter(status=ReviewItem.Status.PENDING).count() == 30
    client.get("/faq/")  # what a write made stale (the bell's count) is counted once again
    with django_assert_max_num_queries(small):
        response = client.get(REVIEW_URL)
    assert text(response).count('class="review-item"') == 20  # a full page


def test_resolved_review_view_runs_a_fixed_number_of_queries(client, world, django_assert_max_num_queries,
                                                             django_capture_on_commit_callbacks):
    flaggers = [UserFactory() for _ in range(3)]
    moderator = _as(client, make_person("moderator", world))

    def resolve_all():
        with django_capture_on_commit_callbacks(execute=True):
            for item in ReviewItem.objects.filter(status=ReviewItem.Status.PENDING):
                services.review_resolve(actor=moderator, item_id=item.pk, action="hide", note="Synthetic")

    _flag_many(3, world.category, flaggers, django_capture_on_commit_callbacks)
    resolve_all()
    client.get("/faq/")
    url = f"{REVIEW_URL}?status=hidden"
    small = _count_queries(client, url)
    _flag_many(27, world.category, flaggers, django_capture_on_commit_callbacks)
    resolve_all()
    client.get("/faq/")  # what a write made stale (the bell's count) is counted once again
    with django_assert_max_num_queries(small):
        assert client.get(url).status_code == 200


def _log_many(count, actor, world):
    for n in range(count):
        target = UserFactory()
        services.moderation_log(
            actor=actor if n % 2 else None, action=ModerationLogEntry.Action.HIDDEN, target_user=target,
            post=world.flagged if n % 3 else None, topic=None if n % 3 else world.topic, reason=f"Synthetic {n}",
        )


def test_moderation_log_runs_a_fixed_number_of_queries(client, world, django_assert_max_num_queries):
    ModerationLogEntry.objects.all().delete()
    moderator = _as(client, make_person("moderator", world))
    _log_many(5, moderator, world)
    client.get("/faq/")
    small = _count_queries(client, LOG_URL)
    _log_many(55, moderator, world)
    client.get("/faq/")  # what a write made stale (the bell's count) is counted once again
    with django_assert_max_num_queries(small):
        response = client.get(LOG_URL)
    assert section(response, "<tbody>", "</tbody>").count("<tr>") == 50  # a full page


def test_person_page_runs_a_fixed_number_of_queries(client, world, django_assert_max_num_queries,
                                                    django_capture_on_commit_callbacks):
    moderator = _as(client, make_person("moderator", world))
    client.get("/faq/")
    small = _count_queries(client, PERSON_URL)
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(25):
            services.trust_level_set(actor=moderator, user_id=world.author.pk, level=n % 3, locked=bool(n % 2))
            services.post_create(actor=world.author, topic_id=world.topic.pk, raw=f"Synthetic extra reply {n}.")
    with django_assert_max_num_queries(small):
        assert client.get(PERSON_URL).status_code == 200


def _hide_replies(world, count, flagger, capture):
    with capture(execute=True):
        for n in range(count):
            post = services.post_create(actor=UserFactory(), topic_id=world.topic.pk, raw=f"Synthetic hidden {n}.")
            services.post_flag(actor=flagger, post_id=post.pk, reason=Flag.Reason.PERSONAL_DATA)


@pytest.mark.parametrize("role", ["anonymous", "member", "author", "moderator", "category_moderator"])
def test_topic_page_with_hidden_posts_runs_a_fixed_number_of_queries(world, role, django_assert_max_num_queries,
                                                                     django_capture_on_commit_callbacks):
    """Measured on a first visit with 3 posts (1 hidden), then on another first visit with 18 (16 hidden)."""
    flagger = UserFactory()
    url = world.topic.get_absolute_url()

    def first_visit_client():
        client = Client()
        person = world.author if role == "author" else make_person(role, world)
        _as(client, person)
        if person is not None:  # nothing read yet: each measured visit is a first one
            TopicRead.objects.filter(user=person, topic=world.topic).delete()
        client.get("/faq/")  # warm the terms cache, as on a running site
        return client

    small = _count_queries(first_visit_client(), url)
    _hide_replies(world, 15, flagger, django_capture_on_commit_callbacks)
    assert Topic.objects.get(pk=world.topic.pk).last_post_number == 18
    client = first_visit_client()
    with django_assert_max_num_queries(small):
        response = client.get(url)
    assert response.get("X-Cache") != "hit"
    assert text(response).count('<article class="post') == 18
