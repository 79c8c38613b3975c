"""Moderation services: flags, the review queue, held posts, silences and suspensions, spam
sweeps, and how hidden posts stay out of search, text reads and notifications."""
import datetime

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import timezone

from forum import notifications as kinds
from forum import services
from forum.models import Flag, ModerationLogEntry, Notification, Post, PostRevision, ReviewItem, Topic, User
from forum.permissions import (
    Role,
    can_read_post_text,
    can_review_item,
    post_texts_readable_by,
    review_items_visible_to,
    topics_visible_to,
)
from forum.search import search_posts
from forum.selectors import post_revision_list, review_item_list
from tests.forum.factories import CategoryFactory, TopicFactory, UserFactory
from tests.helpers import sign_in

from .notification_factories import committed, told, watch

pytestmark = pytest.mark.django_db

ANONYMOUS = AnonymousUser()
Action = ModerationLogEntry.Action
REASON = "Synthetic reason: repeated off-topic posts about Jane Testpatient's cohort."


# --- Helpers ----------------------------------------------------------------------------------------

def flag(actor, post, reason=Flag.Reason.SPAM, note=""):
    return committed(services.post_flag, actor=actor, post_id=post.pk, reason=reason, note=note)


def resolve(actor, item, action, note=""):
    return committed(services.review_resolve, actor=actor, item_id=item.pk, action=action, note=note)


def reply(author, topic, raw="A synthetic reply about the cohort."):
    return committed(services.post_create, actor=author, topic_id=topic.pk, raw=raw)


def fresh(obj):
    obj.refresh_from_db()
    return obj


def first_post(topic):
    return Post.objects.get(topic=topic, number=1)


def visible(user, topic) -> bool:
    return topics_visible_to(user, Topic.objects.filter(pk=topic.pk)).exists()


def log_actions(**filters) -> list[str]:
    return list(ModerationLogEntry.objects.filter(**filters).order_by("pk").values_list("action", flat=True))


def kinds_for(user) -> list[str]:
    return [n.kind for n in told(user)]


@pytest.fixture
def answer(public_topic, member):
    """A reply by `member` in the requester's public topic."""
    return reply(member, public_topic, "The median incubation period is 5.1 days (synthetic).")


@pytest.fixture
def flaggers(db):
    return [UserFactory() for _ in range(3)]


# --- Flags -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("reason", [r for r in Flag.Reason.values if r != Flag.Reason.OTHER])
def test_each_flag_reason_is_recorded_with_a_pending_review_item(answer, volunteer, reason):
    created = flag(volunteer, answer, reason)
    item = ReviewItem.objects.get(post=answer)
    assert (created.reason, created.flagger, created.outcome, created.review_item) == (
        reason, volunteer, Flag.Outcome.PENDING, item)
    assert item.kind == ReviewItem.Kind.FLAGGED and item.status == ReviewItem.Status.PENDING
    assert item.personal_data is (reason == Flag.Reason.PERSONAL_DATA)


def test_something_else_needs_a_note(answer, volunteer):
    with pytest.raises(ValidationError) as error:
        flag(volunteer, answer, Flag.Reason.OTHER, note="   ")
    assert error.value.message_dict == {"note": ["Please say what is wrong with this post."]}
    assert not Flag.objects.exists() and not ReviewItem.objects.exists()

    created = flag(volunteer, answer, Flag.Reason.OTHER, note="  Looks   like a synthetic  advert. ")
    assert created.note == "Looks like a synthetic advert."


def test_unknown_reason_and_overlong_note_are_refused(answer, volunteer):
    with pytest.raises(ValidationError) as error:
        flag(volunteer, answer, "boring")
    assert "reason" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        flag(volunteer, answer, Flag.Reason.OTHER, note="x" * 501)
    assert "note" in error.value.message_dict
    assert not Flag.objects.exists()


def test_one_flag_per_person_and_post(answer, volunteer):
    flag(volunteer, answer, Flag.Reason.SPAM)
    with pytest.raises(ValidationError) as error:
        flag(volunteer, answer, Flag.Reason.OFF_TOPIC)
    assert error.value.messages == ["You already flagged this post; moderators will look at it."]
    assert Flag.objects.filter(post=answer).count() == 1


def test_later_flags_join_the_one_pending_review_item(answer, flaggers):
    for person in flaggers[:2]:
        flag(person, answer, Flag.Reason.OFF_TOPIC)
    item = ReviewItem.objects.get(post=answer)
    assert item.flags.count() == 2


def test_you_cannot_flag_your_own_post(answer, member):
    with pytest.raises(PermissionDenied, match="You cannot flag your own post."):
        flag(member, answer)


def test_you_cannot_flag_a_deleted_post(answer, member, volunteer):
    committed(services.post_delete, actor=member, post_id=answer.pk)
    with pytest.raises(PermissionDenied, match="This post cannot be flagged."):
        flag(volunteer, answer)


def test_you_cannot_flag_a_post_in_a_deleted_topic(public_topic, answer, moderator, volunteer):
    committed(services.post_delete, actor=moderator, post_id=first_post(public_topic).pk)
    with pytest.raises((PermissionDenied, Post.DoesNotExist)):
        flag(volunteer, answer)
    assert not Flag.objects.exists()


def test_a_post_you_cannot_see_is_as_if_it_did_not_exist(private_topic, member):
    post = first_post(private_topic)
    with pytest.raises(Post.DoesNotExist):
        flag(member, post, Flag.Reason.PERSONAL_DATA)
    assert not Flag.objects.exists() and not fresh(post).hidden


def test_flagging_a_post_you_cannot_see_is_a_404_over_http(client, private_topic, member):
    sign_in(client, member)
    response = client.post(f"/p/{first_post(private_topic).pk}/flag/", {"reason": "spam"})
    assert response.status_code == 404
    assert not Flag.objects.exists()


def test_a_post_held_for_approval_cannot_be_flagged_by_people_who_cannot_read_it(
        settings, public_topic, volunteer):
    settings.FORUM_HOLD_FIRST_POSTS = 2
    newcomer = UserFactory(trust_level=0)
    held = reply(newcomer, public_topic, "A held synthetic first post.")
    assert held.held is True
    assert not can_read_post_text(volunteer, fresh(held))
    with pytest.raises((PermissionDenied, Post.DoesNotExist)):
        flag(volunteer, held, Flag.Reason.PERSONAL_DATA)
    assert fresh(held).hidden == Post.Hidden.AWAITING_APPROVAL


def test_a_held_post_flagged_meanwhile_still_sends_its_notifications_when_approved(
        settings, public_topic, requester, volunteer, moderator):
    settings.FORUM_HOLD_FIRST_POSTS = 2
    newcomer = UserFactory(trust_level=0)
    held = reply(newcomer, public_topic, "A held synthetic first post.")
    assert held.held is True
    try:
        flag(volunteer, held, Flag.Reason.PERSONAL_DATA)
    except (PermissionDenied, Post.DoesNotExist):
        pass  # refusing the flag is a fix too
    resolve(moderator, ReviewItem.objects.get(post=held, status=ReviewItem.Status.PENDING), "approve")
    assert (kinds.REPLIED, held.pk) in [(n.kind, n.post_id) for n in told(requester)]
    assert kinds.POST_APPROVED in kinds_for(newcomer)


def test_a_post_hidden_after_flags_cannot_be_flagged_by_people_who_cannot_read_it(settings, answer, flaggers):
    settings.FORUM_FLAGS_TO_HIDE = 2
    flag(flaggers[0], answer)
    flag(flaggers[1], answer)
    assert fresh(answer).hidden == Post.Hidden.FLAGGED
    with pytest.raises(PermissionDenied):
        flag(flaggers[2], answer, Flag.Reason.PERSONAL_DATA)
    assert fresh(answer).hidden == Post.Hidden.FLAGGED


def test_a_silenced_person_cannot_flag_and_is_told_why(moderator, volunteer, answer):
    committed(services.user_silence, actor=moderator, user_id=volunteer.pk, days=3, reason=REASON)
    with pytest.raises(PermissionDenied) as error:
        flag(fresh(volunteer), answer)
    assert REASON in str(error.value)
    assert not Flag.objects.exists()


# --- Personal data ------------------------------------------------------------------------------------

def test_a_personal_data_flag_hides_the_post_at_once(answer, volunteer, anonymizer, moderator, member):
    flag(volunteer, answer, Flag.Reason.PERSONAL_DATA)
    answer = fresh(answer)
    assert answer.hidden == Post.Hidden.PERSONAL_DATA
    assert not can_read_post_text(ANONYMOUS, answer) and not can_read_post_text(volunteer, answer)
    assert can_read_post_text(member, answer) and can_read_post_text(moderator, answer)
    assert not post_texts_readable_by(ANONYMOUS, Post.objects.filter(pk=answer.pk)).exists()
    # A reply hides only itself: the topic stays listed.
    assert fresh(answer.topic).hidden_at is None and visible(ANONYMOUS, answer.topic)


def test_a_personal_data_flag_on_a_first_post_hides_its_topic(public_topic, requester, volunteer, moderator,
                                                               member, anonymizer):
    flag(volunteer, first_post(public_topic), Flag.Reason.PERSONAL_DATA)
    assert fresh(public_topic).hidden_at is not None
    assert not visible(ANONYMOUS, public_topic)
    assert not visible(member, public_topic) and not visible(volunteer, public_topic)
    assert visible(requester, public_topic) and visible(moderator, public_topic)


def test_a_personal_data_flag_tells_the_anonymization_team_without_the_title(answer, volunteer, anonymizer,
                                                                             moderator):
    second = UserFactory(roles=[Role.ANONYMIZATION], totp=True)
    created = flag(volunteer, answer, Flag.Reason.PERSONAL_DATA)
    for person in (anonymizer, second):
        [notification] = told(person)
        assert notification.kind == kinds.PERSONAL_DATA_FLAGGED
        assert notification.title == "" and notification.topic is None and notification.post is None
        assert notification.url == "/review/"
    assert not Notification.objects.filter(kind=kinds.PERSONAL_DATA_FLAGGED, user=moderator).exists()
    [entry] = ModerationLogEntry.objects.filter(action=Action.POST_HIDDEN_PERSONAL_DATA)
    assert (entry.actor, entry.target_user, entry.post, entry.topic) == (None, answer.author, answer, answer.topic)
    assert entry.detail == {"flag": created.pk}


def test_a_personal_data_flag_tells_the_author(answer, member, volunteer, anonymizer):
    flag(volunteer, answer, Flag.Reason.PERSONAL_DATA)
    assert kinds.POST_HIDDEN in kinds_for(member)


def test_a_second_personal_data_flag_does_not_tell_the_team_again(answer, volunteer, anonymizer, moderator):
    flag(volunteer, answer, Flag.Reason.PERSONAL_DATA)
    flag(moderator, answer, Flag.Reason.PERSONAL_DATA)  # moderators still read the hidden post
    assert Notification.objects.filter(user=anonymizer, kind=kinds.PERSONAL_DATA_FLAGGED).count() == 1
    assert log_actions(action=Action.POST_HIDDEN_PERSONAL_DATA) == [Action.POST_HIDDEN_PERSONAL_DATA]


# --- Enough trusted flags hide ------------------------------------------------------------------------

def test_enough_trusted_flags_hide_the_post(settings, answer, member, flaggers):
    settings.FORUM_FLAGS_TO_HIDE = 3
    for person in flaggers[:2]:
        flag(person, answer, Flag.Reason.INAPPROPRIATE)
    assert fresh(answer).hidden == ""
    assert kinds.POST_HIDDEN not in kinds_for(member)
    flag(flaggers[2], answer, Flag.Reason.OFF_TOPIC)
    assert fresh(answer).hidden == Post.Hidden.FLAGGED
    [entry] = ModerationLogEntry.objects.filter(action=Action.POST_HIDDEN_BY_FLAGS)
    assert entry.actor is None and entry.post == answer and entry.detail == {"flags": 3}
    assert kinds_for(member).count(kinds.POST_HIDDEN) == 1


def test_flags_from_new_members_do_not_count_towards_hiding(settings, answer):
    settings.FORUM_FLAGS_TO_HIDE = 2
    newcomers = [UserFactory(trust_level=0) for _ in range(3)]
    for person in newcomers:
        flag(person, answer, Flag.Reason.SPAM)
    assert fresh(answer).hidden == ""
    assert not Flag.objects.filter(trusted=True).exists()
    assert ReviewItem.objects.get(post=answer).flags.count() == 3  # still reviewed
    flag(UserFactory(), answer, Flag.Reason.SPAM)
    assert fresh(answer).hidden == ""
    flag(UserFactory(), answer, Flag.Reason.SPAM)
    assert fresh(answer).hidden == Post.Hidden.FLAGGED


def test_the_trusted_level_comes_from_settings(settings, answer):
    settings.FORUM_FLAGS_TO_HIDE = 1
    settings.FORUM_FLAG_TRUSTED_LEVEL = 2
    flag(UserFactory(trust_level=1), answer)
    assert fresh(answer).hidden == ""
    flag(UserFactory(trust_level=2), answer)
    assert fresh(answer).hidden == Post.Hidden.FLAGGED


def test_a_moderators_flag_counts_whatever_their_level(settings, answer):
    settings.FORUM_FLAGS_TO_HIDE = 1
    flag(UserFactory(roles=[Role.MODERATOR], trust_level=0), answer)
    assert fresh(answer).hidden == Post.Hidden.FLAGGED


def test_flags_hiding_a_first_post_hide_its_topic(settings, public_topic, flaggers, requester):
    settings.FORUM_FLAGS_TO_HIDE = 1
    flag(flaggers[0], first_post(public_topic))
    assert not visible(ANONYMOUS, public_topic) and visible(requester, public_topic)


# --- Review: decisions ----------------------------------------------------------------------------------

@pytest.fixture
def hidden_by_flags(settings, answer, flaggers):
    """`answer` hidden after two trusted flags; returns its review item."""
    settings.FORUM_FLAGS_TO_HIDE = 2
    flag(flaggers[0], answer, Flag.Reason.SPAM)
    flag(flaggers[1], answer, Flag.Reason.OFF_TOPIC)
    assert fresh(answer).hidden == Post.Hidden.FLAGGED
    return ReviewItem.objects.get(post=answer)


def test_approve_shows_the_post_and_disagrees_with_the_flags(hidden_by_flags, answer, moderator, flaggers):
    item = resolve(moderator, hidden_by_flags, "approve", note="  Fine,   synthetic. ")
    answer = fresh(answer)
    assert answer.hidden == "" and answer.deleted_at is None
    item = fresh(item)
    assert (item.status, item.resolved_by, item.resolution_note) == (
        ReviewItem.Status.APPROVED, moderator, "Fine, synthetic.")
    assert item.resolved_at is not None
    assert set(Flag.objects.filter(review_item=item).values_list("outcome", flat=True)) == {Flag.Outcome.DISAGREED}
    [entry] = ModerationLogEntry.objects.filter(action=Action.APPROVED)
    assert (entry.actor, entry.target_user, entry.post, entry.reason) == (
        moderator, answer.author, answer, "Fine, synthetic.")
    assert entry.detail == {"review_item": item.pk, "kind": ReviewItem.Kind.FLAGGED}
    for person in flaggers[:2]:
        assert kinds_for(person) == [kinds.FLAG_DISAGREED]
    assert not Notification.objects.filter(user=flaggers[2]).exists()


def test_approving_a_post_hidden_after_flags_tells_its_author(hidden_by_flags, moderator, member):
    resolve(moderator, hidden_by_flags, "approve")
    assert kinds.POST_APPROVED in kinds_for(member)


def test_hide_keeps_the_post_hidden_for_good(hidden_by_flags, answer, moderator, member, flaggers):
    item = fresh(resolve(moderator, hidden_by_flags, "hide"))
    answer = fresh(answer)
    assert answer.hidden == Post.Hidden.MODERATOR and answer.deleted_at is None
    assert item.status == ReviewItem.Status.HIDDEN
    assert set(Flag.objects.filter(review_item=item).values_list("outcome", flat=True)) == {Flag.Outcome.AGREED}
    assert log_actions(action=Action.HIDDEN, actor=moderator, post=answer) == [Action.HIDDEN]
    assert kinds_for(member)[-1] == kinds.POST_REMOVED
    for person in flaggers[:2]:
        assert kinds_for(person) == [kinds.FLAG_AGREED]


def test_delete_soft_deletes_the_post(hidden_by_flags, answer, public_topic, moderator, member, flaggers):
    count_before = fresh(public_topic).post_count
    item = fresh(resolve(moderator, hidden_by_flags, "delete"))
    answer = fresh(answer)
    assert answer.deleted_at is not None and answer.deleted_by == moderator
    assert fresh(public_topic).post_count == count_before - 1
    assert item.status == ReviewItem.Status.DELETED
    assert set(Flag.objects.filter(review_item=item).values_list("outcome", flat=True)) == {Flag.Outcome.AGREED}
    assert log_actions(action=Action.DELETED, actor=moderator, post=answer) == [Action.DELETED]
    assert kinds_for(member)[-1] == kinds.POST_REMOVED
    for person in flaggers[:2]:
        assert kinds_for(person) == [kinds.FLAG_AGREED]


def test_reject_is_only_for_held_posts(hidden_by_flags, moderator):
    with pytest.raises(ValidationError, match="Only held posts are rejected"):
        resolve(moderator, hidden_by_flags, "reject")
    assert fresh(hidden_by_flags).status == ReviewItem.Status.PENDING


def test_an_unknown_action_is_refused(hidden_by_flags, moderator):
    with pytest.raises(ValidationError, match="Unknown action."):
        resolve(moderator, hidden_by_flags, "publish")
    assert fresh(hidden_by_flags).status == ReviewItem.Status.PENDING


@pytest.mark.parametrize("second", ["approve", "hide", "delete"])
def test_a_second_decision_is_refused(hidden_by_flags, answer, moderator, second):
    resolve(moderator, hidden_by_flags, "hide")
    other = UserFactory(roles=[Role.MODERATOR])
    with pytest.raises(ValidationError, match="Someone already reviewed this post."):
        resolve(other, hidden_by_flags, second)
    assert fresh(answer).hidden == Post.Hidden.MODERATOR and fresh(answer).deleted_at is None
    assert fresh(hidden_by_flags).resolved_by == moderator
    assert log_actions(post=answer).count(Action.HIDDEN) == 1


def test_a_flag_after_a_review_opens_a_new_item(hidden_by_flags, answer, moderator, flaggers):
    resolve(moderator, hidden_by_flags, "approve")
    flag(flaggers[2], answer, Flag.Reason.OFF_TOPIC)
    pending = ReviewItem.objects.get(post=answer, status=ReviewItem.Status.PENDING)
    assert pending.pk != hidden_by_flags.pk and pending.flags.count() == 1


# --- Review: personal data, edited under review ------------------------------------------------------------

# What a person recognises and the detector cannot (no name, number or date): flags are for these.
IDENTIFYING = "The patient in bed 4 of the synthetic east ward, the mayor's twin, had a fever for 5 days."
REDACTED = "A patient had a fever for 5 days."


@pytest.fixture
def identifying_post(public_topic, member):
    return reply(member, public_topic, IDENTIFYING)


def test_approving_a_personal_data_item_after_an_edit_hides_the_earlier_versions(
        identifying_post, volunteer, anonymizer, moderator, member):
    post = identifying_post
    flag(volunteer, post, Flag.Reason.PERSONAL_DATA)
    item = ReviewItem.objects.get(post=post)
    committed(services.review_edit, actor=anonymizer, item_id=item.pk, raw=REDACTED, reason="Removed identifiers")
    post = fresh(post)
    assert (post.raw, post.revision_count) == (REDACTED, 2)
    assert fresh(item).status == ReviewItem.Status.PENDING
    assert log_actions(action=Action.EDITED, actor=anonymizer) == [Action.EDITED]
    assert PostRevision.objects.filter(post=post, hidden=True).count() == 0

    resolve(anonymizer, item, "approve")
    post = fresh(post)
    assert post.hidden == "" and fresh(item).status == ReviewItem.Status.APPROVED
    old = PostRevision.objects.get(post=post, number=1)
    assert old.hidden is True and old.raw == IDENTIFYING
    assert PostRevision.objects.get(post=post, number=2).hidden is False
    for reader in (ANONYMOUS, volunteer, member):
        texts = [view.revision.raw for view in post_revision_list(user=reader, post=post)]
        assert texts == [REDACTED]
        assert not any("Testpatient" in text for text in texts)
    assert [v.revision.number for v in post_revision_list(user=moderator, post=post)] == [1, 2]
    assert kinds_for(volunteer) == [kinds.FLAG_DISAGREED]


def test_a_hidden_post_has_no_readable_history_for_others(identifying_post, volunteer, anonymizer, member):
    flag(volunteer, identifying_post, Flag.Reason.PERSONAL_DATA)
    post = fresh(identifying_post)
    with pytest.raises(Http404):
        post_revision_list(user=volunteer, post=post)
    with pytest.raises(Http404):
        post_revision_list(user=ANONYMOUS, post=post)
    assert [v.revision.raw for v in post_revision_list(user=member, post=post)] == [IDENTIFYING]


def test_approving_an_ordinary_flag_keeps_the_history(identifying_post, volunteer, moderator, member):
    committed(services.post_edit, actor=member, post_id=identifying_post.pk, raw=REDACTED)
    flag(volunteer, identifying_post, Flag.Reason.OFF_TOPIC)
    resolve(moderator, ReviewItem.objects.get(post=identifying_post), "approve")
    assert not PostRevision.objects.filter(post=identifying_post, hidden=True).exists()


def test_editing_under_review_is_refused_after_the_decision(identifying_post, volunteer, anonymizer):
    flag(volunteer, identifying_post, Flag.Reason.PERSONAL_DATA)
    item = ReviewItem.objects.get(post=identifying_post)
    resolve(anonymizer, item, "hide")
    with pytest.raises(ValidationError, match="Someone already reviewed this post."):
        committed(services.review_edit, actor=anonymizer, item_id=item.pk, raw=REDACTED)
    assert fresh(identifying_post).raw == IDENTIFYING


def test_a_personal_data_flag_on_a_first_post_then_approval_shows_the_topic_again(
        public_topic, volunteer, anonymizer):
    flag(volunteer, first_post(public_topic), Flag.Reason.PERSONAL_DATA)
    resolve(anonymizer, ReviewItem.objects.get(post__topic=public_topic), "approve")
    assert fresh(public_topic).hidden_at is None and visible(ANONYMOUS, public_topic)


# --- Review: who may review what ----------------------------------------------------------------------------

@pytest.fixture
def imaging(db):
    """A public category with its own category moderator."""
    category_moderator = UserFactory(totp=True)
    category = CategoryFactory(slug="imaging", name="Imaging", moderators=[category_moderator])
    category.category_moderator = category_moderator
    return category


@pytest.fixture
def items(imaging, public_topic, requester, member, volunteer):
    """One ordinary flag and one personal-data flag in each of two public categories."""
    imaging_topic = TopicFactory(category=imaging, author=requester, title="Synthetic scans")
    made = {}
    for name, topic in (("public", public_topic), ("imaging", imaging_topic)):
        ordinary = reply(member, topic, f"An ordinary synthetic reply in {name}.")
        personal = reply(member, topic, f"A synthetic reply naming Jane Testpatient in {name}.")
        flag(volunteer, ordinary, Flag.Reason.SPAM)
        flag(volunteer, personal, Flag.Reason.PERSONAL_DATA)
        made[name] = ReviewItem.objects.get(post=ordinary)
        made[f"{name}-personal"] = ReviewItem.objects.get(post=personal)
    return made


def reviewable(user, items) -> set[str]:
    return {name for name, item in items.items() if can_review_item(user, item)}


def test_moderators_review_every_item(items, moderator):
    assert reviewable(moderator, items) == set(items)
    assert review_item_list(user=moderator).count() == 4


def test_category_moderators_review_only_their_categories(items, imaging):
    assert reviewable(imaging.category_moderator, items) == {"imaging", "imaging-personal"}
    with pytest.raises(PermissionDenied, match="You cannot review this post."):
        resolve(imaging.category_moderator, items["public"], "hide")
    resolve(imaging.category_moderator, items["imaging"], "hide")
    assert fresh(items["imaging"]).status == ReviewItem.Status.HIDDEN


def test_the_anonymization_team_reviews_only_personal_data_items(items, anonymizer):
    assert reviewable(anonymizer, items) == {"public-personal", "imaging-personal"}
    with pytest.raises(PermissionDenied):
        resolve(anonymizer, items["public"], "approve")
    assert fresh(items["public"]).status == ReviewItem.Status.PENDING


def test_the_anonymization_team_does_not_review_private_categories_it_is_not_in(requester, volunteer, anonymizer,
                                                                                moderator):
    closed = CategoryFactory(slug="clinic-staff", name="Clinic staff", security="private",
                             group_names=("Requesters",))
    topic = TopicFactory(category=closed, author=requester, title="Synthetic staff rota")
    colleague = UserFactory(roles=[Role.REQUESTER])
    post = reply(colleague, topic, "Jane Testpatient's synthetic shift.")
    flag(requester, post, Flag.Reason.PERSONAL_DATA)
    item = ReviewItem.objects.get(post=post)
    assert not can_review_item(anonymizer, item) and can_review_item(moderator, item)


def test_a_parent_categorys_moderators_review_its_subcategories(imaging, requester, member, volunteer):
    sub = CategoryFactory(slug="imaging-mri", name="MRI", parent=imaging)
    topic = TopicFactory(category=sub, author=requester, title="Synthetic MRI")
    post = reply(member, topic, "A synthetic MRI reply.")
    flag(volunteer, post, Flag.Reason.SPAM)
    assert can_review_item(imaging.category_moderator, ReviewItem.objects.get(post=post))


def test_members_review_nothing(items, member, volunteer):
    for person in (member, volunteer):
        assert reviewable(person, items) == set()
        assert not review_items_visible_to(person, ReviewItem.objects.all()).exists()
        with pytest.raises(PermissionDenied):
            resolve(person, items["public"], "approve")
        with pytest.raises(PermissionDenied):
            committed(services.review_edit, actor=person, item_id=items["public-personal"].pk, raw="Edited.")
    assert not ReviewItem.objects.exclude(status=ReviewItem.Status.PENDING).exists()


# --- Held posts ---------------------------------------------------------------------------------------------

# The held-post flow runs with two first posts to hold (one is tested on its own below).
HOLD = 2


@pytest.fixture
def newcomer(settings):
    settings.FORUM_HOLD_FIRST_POSTS = HOLD
    return UserFactory(trust_level=0, username="newcomer")


def test_with_one_post_to_hold_a_new_members_first_post_is_held(settings, public_topic, public_category):
    settings.FORUM_HOLD_FIRST_POSTS = 1
    post = reply(UserFactory(trust_level=0), public_topic, "A synthetic first reply.")
    topic = committed(services.topic_create, actor=UserFactory(trust_level=0), category=public_category,
                      title="A synthetic first question", raw="Synthetic data only.")
    assert (post.held, fresh(post).hidden) == (True, Post.Hidden.AWAITING_APPROVAL)
    assert topic.first_post.held is True
    assert ReviewItem.objects.filter(kind=ReviewItem.Kind.HELD).count() == 2


def test_a_new_members_first_reply_is_held_and_tells_nobody(newcomer, public_topic, requester, member, volunteer):
    watch(volunteer, topic=public_topic)
    post = reply(newcomer, public_topic, f"Hello @{member.username}, a synthetic first reply.")
    assert post.held is True
    post = fresh(post)
    assert post.hidden == Post.Hidden.AWAITING_APPROVAL
    item = ReviewItem.objects.get(post=post)
    assert (item.kind, item.status, item.personal_data) == (ReviewItem.Kind.HELD, ReviewItem.Status.PENDING, False)
    assert log_actions(action=Action.POST_HELD, target_user=newcomer) == [Action.POST_HELD]
    assert not Notification.objects.filter(post=post).exists()
    for person in (requester, member, volunteer):
        assert told(person) == []
    assert not can_read_post_text(member, post) and can_read_post_text(newcomer, post)


def test_approving_a_held_post_sends_its_notifications(newcomer, public_topic, requester, member, volunteer,
                                                       moderator):
    watch(volunteer, topic=public_topic)
    post = reply(newcomer, public_topic, f"Hello @{member.username}, a synthetic first reply.")
    item = ReviewItem.objects.get(post=post)
    resolve(moderator, item, "approve")
    assert fresh(post).hidden == "" and fresh(item).status == ReviewItem.Status.APPROVED
    assert [(n.kind, n.post_id) for n in told(member)] == [(kinds.MENTIONED, post.pk)]
    assert [(n.kind, n.post_id) for n in told(requester)] == [(kinds.REPLIED, post.pk)]
    assert [(n.kind, n.post_id) for n in told(volunteer)] == [(kinds.POSTED, post.pk)]
    assert kinds_for(newcomer) == [kinds.POST_APPROVED]
    assert log_actions(action=Action.APPROVED) == [Action.APPROVED]


def test_once_enough_posts_are_published_the_next_is_not_held(settings, public_topic, requester):
    settings.FORUM_HOLD_FIRST_POSTS = 0
    newcomer = UserFactory(trust_level=0)
    for number in range(HOLD):
        reply(newcomer, public_topic, f"Synthetic reply {number}.")
    settings.FORUM_HOLD_FIRST_POSTS = HOLD
    post = reply(newcomer, public_topic, "A synthetic reply after the first ones.")
    assert post.held is False and fresh(post).hidden == ""
    assert (kinds.REPLIED, post.pk) in [(n.kind, n.post_id) for n in told(requester)]


def test_posts_before_approval_are_held_too(newcomer, public_topic):
    reply(newcomer, public_topic, "A synthetic first reply.")
    second = reply(newcomer, public_topic, "A synthetic second reply.")
    assert second.held is True
    assert ReviewItem.objects.filter(kind=ReviewItem.Kind.HELD).count() == 2


def test_a_held_first_post_hides_its_new_topic_until_approved(newcomer, public_category, moderator, member):
    topic = committed(services.topic_create, actor=newcomer, category=public_category,
                      title="A synthetic first question", raw="Synthetic data only.")
    assert topic.first_post.held is True
    assert not visible(ANONYMOUS, topic) and not visible(member, topic)
    assert visible(newcomer, topic) and visible(moderator, topic)
    resolve(moderator, ReviewItem.objects.get(post=topic.first_post), "approve")
    assert visible(ANONYMOUS, topic)


def test_rejecting_a_held_post_deletes_it_unpublished(newcomer, public_topic, requester, moderator):
    post = reply(newcomer, public_topic, "A synthetic spammy first reply.")
    item = fresh(resolve(moderator, ReviewItem.objects.get(post=post), "reject", note="Advertising"))
    post = fresh(post)
    assert post.deleted_at is not None and item.status == ReviewItem.Status.REJECTED
    assert log_actions(action=Action.REJECTED, actor=moderator) == [Action.REJECTED]
    assert kinds_for(newcomer) == [kinds.POST_REJECTED]
    assert told(requester) == []


def test_keeping_a_held_post_hidden_tells_its_author_it_was_not_published(newcomer, public_topic, moderator):
    post = reply(newcomer, public_topic, "A synthetic first reply.")
    resolve(moderator, ReviewItem.objects.get(post=post), "hide")
    assert fresh(post).hidden == Post.Hidden.MODERATOR
    assert kinds_for(newcomer) == [kinds.POST_REJECTED]


def test_members_posts_are_never_held(settings, public_topic, member):
    settings.FORUM_HOLD_FIRST_POSTS = 5
    assert reply(member, public_topic).held is False
    assert not ReviewItem.objects.exists()


def test_nothing_is_held_when_the_setting_is_off(settings, public_topic):
    settings.FORUM_HOLD_FIRST_POSTS = 0
    assert reply(UserFactory(trust_level=0), public_topic).held is False


# --- Silences and suspensions -------------------------------------------------------------------------------

def silence(actor, user, days=3, reason=REASON):
    return committed(services.user_silence, actor=actor, user_id=user.pk, days=days, reason=reason)


def suspend(actor, user, days=3, reason=REASON):
    return committed(services.user_suspend, actor=actor, user_id=user.pk, days=days, reason=reason)


def test_silence_records_until_when_why_and_tells_the_person(moderator, member):
    before = timezone.now()
    user = silence(moderator, member, days=3)
    user = fresh(user)
    assert user.is_silenced() and user.silence_reason == REASON
    assert before + datetime.timedelta(days=3) <= user.silenced_until <= timezone.now() + datetime.timedelta(days=3)
    [entry] = ModerationLogEntry.objects.filter(action=Action.SILENCED)
    assert (entry.actor, entry.target_user, entry.reason, entry.detail["days"]) == (moderator, member, REASON, 3)
    [notification] = told(member)
    assert (notification.kind, notification.title) == (kinds.ACCOUNT_SILENCED, REASON)


def test_a_silenced_person_cannot_write_and_is_told_why(moderator, member, public_category, public_topic,
                                                        answer):
    own_post = answer
    silence(moderator, member)
    member = fresh(member)
    attempts = [
        lambda: services.topic_create(actor=member, category=public_category, title="Synthetic", raw="Synthetic."),
        lambda: services.post_create(actor=member, topic_id=public_topic.pk, raw="A synthetic reply."),
        lambda: services.post_edit(actor=member, post_id=own_post.pk, raw="Edited synthetic text."),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied) as error:
            committed(attempt)
        assert REASON in str(error.value) and "silenced you until" in str(error.value)
    with pytest.raises(PermissionDenied):
        committed(services.post_like, actor=member, post_id=first_post(public_topic).pk)
    assert fresh(own_post).raw != "Edited synthetic text."


def test_a_silenced_author_may_still_delete_their_own_post(moderator, member, answer):
    silence(moderator, member)
    committed(services.post_delete, actor=fresh(member), post_id=answer.pk)
    assert fresh(answer).deleted_at is not None


def test_a_silenced_persons_like_is_refused_with_the_reason(moderator, member, public_topic):
    silence(moderator, member)
    with pytest.raises(PermissionDenied) as error:
        committed(services.post_like, actor=fresh(member), post_id=first_post(public_topic).pk)
    assert REASON in str(error.value)


def test_a_silenced_person_still_reads(moderator, member, public_topic):
    silence(moderator, member)
    assert visible(fresh(member), public_topic)


def test_a_silence_lifts_when_its_time_passes(moderator, member, public_topic):
    silence(moderator, member, days=2)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=2, minutes=1), tick=False):
        member = fresh(member)
        assert not member.is_silenced()
        post = reply(member, public_topic, "Back with a synthetic reply.")
        assert post.pk and fresh(post).deleted_at is None


def test_a_silence_lifted_early_lets_the_person_post(moderator, member, public_topic):
    silence(moderator, member, days=30)
    user = committed(services.user_restriction_lift, actor=moderator, user_id=member.pk, restriction="silence",
                     reason="  Appeal   accepted ")
    user = fresh(user)
    assert user.silenced_until is None and user.silence_reason == ""
    [entry] = ModerationLogEntry.objects.filter(action=Action.UNSILENCED)
    assert (entry.actor, entry.target_user, entry.reason) == (moderator, member, "Appeal accepted")
    assert reply(user, public_topic).pk


def test_suspension_records_until_when_why_and_tells_the_person(moderator, member):
    user = fresh(suspend(moderator, member, days=7))
    assert user.is_suspended() and user.suspension_reason == REASON
    assert user.is_suspended(now=timezone.now() + datetime.timedelta(days=6, hours=23))
    assert not user.is_suspended(now=timezone.now() + datetime.timedelta(days=7, minutes=1))
    assert log_actions(action=Action.SUSPENDED, target_user=member) == [Action.SUSPENDED]
    [notification] = told(member)
    assert (notification.kind, notification.title) == (kinds.ACCOUNT_SUSPENDED, REASON)


def test_a_suspended_person_sees_why_on_every_page(client, moderator, member):
    suspend(moderator, member)
    sign_in(client, fresh(member))
    response = client.get("/")
    assert response.status_code == 403
    assert REASON.replace("'", "&#x27;") in response.content.decode()
    assert client.get("/settings/account/").status_code == 200


def test_a_suspension_ends_when_its_time_passes(moderator, member):
    suspend(moderator, member, days=1)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, minutes=1), tick=False):
        assert not fresh(member).is_suspended()


def test_a_suspension_lifted_early(moderator, member):
    suspend(moderator, member, days=30)
    user = fresh(committed(services.user_restriction_lift, actor=moderator, user_id=member.pk,
                           restriction="suspension"))
    assert not user.is_suspended() and user.suspended_until is None and user.suspension_reason == ""
    assert log_actions(action=Action.UNSUSPENDED) == [Action.UNSUSPENDED]


def test_an_unknown_restriction_to_lift_is_refused(moderator, member):
    with pytest.raises(ValidationError, match="Unknown restriction."):
        committed(services.user_restriction_lift, actor=moderator, user_id=member.pk, restriction="ban")


@pytest.mark.parametrize("service", [services.user_silence, services.user_suspend])
def test_moderators_staff_and_oneself_cannot_be_restricted(moderator, service):
    targets = [
        moderator,
        UserFactory(roles=[Role.MODERATOR]),
        UserFactory(is_staff=True),
        UserFactory(is_superuser=True),
    ]
    for target in targets:
        with pytest.raises(PermissionDenied, match="You cannot moderate this person."):
            committed(service, actor=moderator, user_id=target.pk, days=3, reason=REASON)
        target = fresh(target)
        assert not target.is_silenced() and not target.is_suspended()
    assert not ModerationLogEntry.objects.exists()


@pytest.mark.parametrize("service", [services.user_silence, services.user_suspend])
def test_only_moderators_restrict_people(member, volunteer, anonymizer, service):
    for actor in (volunteer, anonymizer):
        with pytest.raises(PermissionDenied):
            committed(service, actor=actor, user_id=member.pk, days=3, reason=REASON)
    with pytest.raises(PermissionDenied):
        committed(services.user_restriction_lift, actor=volunteer, user_id=member.pk, restriction="silence")


@pytest.mark.parametrize("days", [0, -1, 3651, "three", None])
@pytest.mark.parametrize("service", [services.user_silence, services.user_suspend])
def test_days_outside_one_to_3650_are_refused(moderator, member, service, days):
    with pytest.raises(ValidationError) as error:
        committed(service, actor=moderator, user_id=member.pk, days=days, reason=REASON)
    assert error.value.message_dict == {"days": ["Choose between 1 and 3650 days."]}
    member = fresh(member)
    assert member.silenced_until is None and member.suspended_until is None


@pytest.mark.parametrize(("reason", "message"), [
    ("", "Please give a reason: the person will see it."),
    ("   \n ", "Please give a reason: the person will see it."),
    ("x" * 501, "Please keep the reason under 500 characters."),
])
@pytest.mark.parametrize("service", [services.user_silence, services.user_suspend])
def test_a_reason_is_required_and_bounded(moderator, member, service, reason, message):
    with pytest.raises(ValidationError) as error:
        committed(service, actor=moderator, user_id=member.pk, days=3, reason=reason)
    assert error.value.message_dict == {"reason": [message]}


def test_the_longest_restriction_is_accepted(moderator, member):
    assert fresh(silence(moderator, member, days=3650)).is_silenced()


# --- Spam sweeps --------------------------------------------------------------------------------------------

@pytest.fixture
def spammer_world(public_category, public_topic, member, volunteer):
    """A spammer with a topic (answered by a member), replies in their own and another topic, likes on
    two of their posts, and a reply they deleted themselves."""
    spammer = UserFactory(username="cheap_pills")
    own_topic = committed(services.topic_create, actor=spammer, category=public_category,
                          title="Cheap synthetic pills", raw="Buy synthetic pills at example.org.")
    answer_by_member = reply(member, own_topic, "This looks like synthetic spam.")
    own_reply = reply(spammer, own_topic, "Still cheap synthetic pills.")
    elsewhere = reply(spammer, public_topic, "Pills for your synthetic cohort.")
    self_deleted = reply(spammer, public_topic, "An early synthetic pill advert.")
    committed(services.post_delete, actor=spammer, post_id=self_deleted.pk)
    committed(services.post_like, actor=member, post_id=elsewhere.pk)
    committed(services.post_like, actor=volunteer, post_id=elsewhere.pk)
    committed(services.post_like, actor=member, post_id=own_topic.first_post.pk)
    return {
        "spammer": spammer, "own_topic": own_topic, "other_topic": public_topic,
        "posts": [own_topic.first_post, own_reply, elsewhere], "self_deleted": self_deleted,
        "answer_by_member": answer_by_member,
    }


def topic_state(topic):
    topic = Topic.objects.get(pk=topic.pk)
    return (topic.post_count, topic.like_count, topic.deleted_at)


def post_state(post):
    post = Post.objects.get(pk=post.pk)
    return (post.raw, post.html, post.like_count, post.deleted_at, post.hidden)


def test_spammer_delete_deletes_every_live_post_and_deactivates_them(spammer_world, moderator):
    world = spammer_world
    other_before = topic_state(world["other_topic"])
    entry = committed(services.spammer_delete, actor=moderator, user_id=world["spammer"].pk,
                      reason="  Pill   adverts ")
    assert not fresh(world["spammer"]).is_active
    for post in world["posts"]:
        post = fresh(post)
        assert post.deleted_at is not None and post.deleted_by == moderator
    own = fresh(world["own_topic"])
    assert own.deleted_at is not None
    assert own.post_count == 1 and own.like_count == 0  # the member's answer is left, unliked
    assert fresh(world["answer_by_member"]).deleted_at is None
    assert topic_state(world["other_topic"])[:2] == (other_before[0] - 1, other_before[1] - 2)
    assert (entry.action, entry.actor, entry.target_user, entry.reason) == (
        Action.SPAMMER_DELETED, moderator, world["spammer"], "Pill adverts")
    assert sorted(entry.detail["post_ids"]) == sorted(p.pk for p in world["posts"])
    assert world["self_deleted"].pk not in entry.detail["post_ids"]
    assert not visible(ANONYMOUS, own)


def test_spammer_delete_closes_their_pending_review_items(spammer_world, moderator, member):
    elsewhere = spammer_world["posts"][2]
    flag(UserFactory(), elsewhere, Flag.Reason.SPAM)
    committed(services.spammer_delete, actor=moderator, user_id=spammer_world["spammer"].pk)
    item = ReviewItem.objects.get(post=elsewhere)
    assert (item.status, item.resolved_by) == (ReviewItem.Status.DELETED, moderator)


def test_spammer_restore_brings_everything_back_intact(spammer_world, moderator):
    world = spammer_world
    topics_before = {key: topic_state(world[key]) for key in ("own_topic", "other_topic")}
    posts_before = {post.pk: post_state(post) for post in world["posts"]}
    self_deleted_before = post_state(world["self_deleted"])
    entry = committed(services.spammer_delete, actor=moderator, user_id=world["spammer"].pk)

    restored = committed(services.spammer_restore, actor=moderator, log_entry_id=entry.pk)

    assert fresh(world["spammer"]).is_active
    assert {key: topic_state(world[key]) for key in topics_before} == topics_before
    assert {post.pk: post_state(post) for post in world["posts"]} == posts_before
    assert post_state(world["self_deleted"]) == self_deleted_before
    assert fresh(world["self_deleted"]).deleted_at is not None
    assert (restored.action, restored.actor, restored.target_user) == (
        Action.SPAMMER_RESTORED, moderator, world["spammer"])
    assert sorted(restored.detail["post_ids"]) == sorted(posts_before)
    assert fresh(entry).detail["restored"] is True
    assert visible(ANONYMOUS, world["own_topic"])


def test_a_sweep_is_undone_only_once(spammer_world, moderator):
    entry = committed(services.spammer_delete, actor=moderator, user_id=spammer_world["spammer"].pk)
    committed(services.spammer_restore, actor=moderator, log_entry_id=entry.pk)
    counts = topic_state(spammer_world["other_topic"])
    with pytest.raises(ValidationError, match="This sweep was already undone."):
        committed(services.spammer_restore, actor=moderator, log_entry_id=entry.pk)
    assert topic_state(spammer_world["other_topic"]) == counts
    assert log_actions(action=Action.SPAMMER_RESTORED) == [Action.SPAMMER_RESTORED]


def test_only_sweep_entries_are_restored(moderator, member):
    entry = silence(moderator, member)
    log = ModerationLogEntry.objects.get(action=Action.SILENCED, target_user=entry)
    with pytest.raises(ModerationLogEntry.DoesNotExist):
        committed(services.spammer_restore, actor=moderator, log_entry_id=log.pk)


def test_restoring_a_sweep_leaves_a_person_inactive_if_they_were_before(spammer_world, moderator):
    spammer = spammer_world["spammer"]
    User.objects.filter(pk=spammer.pk).update(is_active=False)
    entry = committed(services.spammer_delete, actor=moderator, user_id=spammer.pk)
    committed(services.spammer_restore, actor=moderator, log_entry_id=entry.pk)
    assert not fresh(spammer).is_active


def test_spam_sweeps_are_for_moderators_and_not_of_moderators(spammer_world, moderator, volunteer):
    spammer = spammer_world["spammer"]
    with pytest.raises(PermissionDenied):
        committed(services.spammer_delete, actor=volunteer, user_id=spammer.pk)
    with pytest.raises(PermissionDenied):
        committed(services.spammer_delete, actor=moderator, user_id=UserFactory(roles=[Role.MODERATOR]).pk)
    with pytest.raises(PermissionDenied):
        committed(services.spammer_delete, actor=moderator, user_id=moderator.pk)
    assert fresh(spammer).is_active
    assert all(fresh(post).deleted_at is None for post in spammer_world["posts"])
    entry = committed(services.spammer_delete, actor=moderator, user_id=spammer.pk)
    with pytest.raises(PermissionDenied):
        committed(services.spammer_restore, actor=volunteer, log_entry_id=entry.pk)
    assert not fresh(spammer).is_active


# --- Hidden posts stay out of search, text reads and notifications ------------------------------------------

def found_posts(user, query):
    return [result.post.pk for result in search_posts(user=user, query=query).results]


def test_hidden_posts_are_not_found_by_others(public_topic, member, volunteer, moderator, anonymizer):
    post = reply(member, public_topic, "Zanzibarine synthetic marker in this reply.")
    assert found_posts(ANONYMOUS, "zanzibarine") == [post.pk]
    flag(volunteer, post, Flag.Reason.PERSONAL_DATA)
    assert found_posts(ANONYMOUS, "zanzibarine") == []
    assert found_posts(volunteer, "zanzibarine") == []
    assert found_posts(member, "zanzibarine") == [post.pk]
    assert found_posts(moderator, "zanzibarine") == [post.pk]
    resolve(moderator, ReviewItem.objects.get(post=post), "approve")
    assert found_posts(ANONYMOUS, "zanzibarine") == [post.pk]


def test_hidden_posts_are_left_out_of_readable_texts(public_topic, member, volunteer, moderator, imaging):
    post = reply(member, public_topic, "A synthetic reply.")
    flag(volunteer, post, Flag.Reason.PERSONAL_DATA)
    posts = Post.objects.filter(topic=public_topic)
    everyone = set(posts.values_list("pk", flat=True))
    assert set(post_texts_readable_by(ANONYMOUS, posts).values_list("pk", flat=True)) == everyone - {post.pk}
    assert set(post_texts_readable_by(volunteer, posts).values_list("pk", flat=True)) == everyone - {post.pk}
    assert set(post_texts_readable_by(imaging.category_moderator, posts).values_list("pk", flat=True)) == (
        everyone - {post.pk})
    assert set(post_texts_readable_by(member, posts).values_list("pk", flat=True)) == everyone
    assert set(post_texts_readable_by(moderator, posts).values_list("pk", flat=True)) == everyone


def test_a_category_moderator_reads_hidden_posts_in_their_category(imaging, requester, member, volunteer):
    topic = TopicFactory(category=imaging, author=requester, title="Synthetic scans")
    post = reply(member, topic, "A synthetic reply.")
    flag(volunteer, post, Flag.Reason.PERSONAL_DATA)
    post = fresh(post)
    assert can_read_post_text(imaging.category_moderator, post)
    assert post_texts_readable_by(imaging.category_moderator, Post.objects.filter(pk=post.pk)).exists()


def test_a_post_hidden_before_its_fan_out_tells_nobody(public_topic, requester, member, volunteer):
    watch(volunteer, topic=public_topic)
    post = services.post_create(actor=member, topic_id=public_topic.pk,
                                raw=f"Synthetic note for @{volunteer.username}.")  # fan-out not run yet
    flag(UserFactory(), post, Flag.Reason.PERSONAL_DATA)
    assert services.post_notify(post_id=post.pk) == (kinds.POSTED, [])
    assert services.post_notify_watchers(post_id=post.pk, kind=kinds.POSTED, user_ids=[volunteer.pk]) == 0
    assert not Notification.objects.filter(key=f"post:{post.pk}").exists()
    assert told(requester) == [] and told(volunteer) == []
