"""Trust levels (earned, kept, lowered, locked, set by moderators) and what they lift: the limits
on new members' posts and topics, duplicate posts, and claiming requests."""
import datetime

import pytest
import time_machine
from django.conf import settings as django_settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.utils import timezone

from forum import services, tasks
from forum.models import Flag, ModerationLogEntry, Post, ReviewItem, Topic, TopicRead, TrustLevel, User
from forum.permissions import Role
from forum.services.trust import trust_facts, trust_level_earned
from requests_board import services as request_services
from requests_board.models import Claim
from requests_board.permissions import check_can_claim
from tests.forum.factories import TopicFactory, UserFactory
from tests.requests_board.factories import make_request

from .notification_factories import committed

pytestmark = pytest.mark.django_db

Action = ModerationLogEntry.Action

LEVELS = {
    1: {"days": 0, "topics_read": 3, "posts": 0, "likes_received": 0},
    2: {"days": 3, "topics_read": 5, "posts": 2, "likes_received": 1},
    3: {"days": 30, "topics_read": 8, "posts": 4, "likes_received": 3},
}


@pytest.fixture(autouse=True)
def _levels(settings):
    """Small, explicit requirements, whatever the environment sets."""
    settings.FORUM_TRUST_LEVELS = LEVELS


def fresh(obj):
    obj.refresh_from_db()
    return obj


def level_of(user) -> int:
    return User.objects.values_list("trust_level", flat=True).get(pk=user.pk)


def make_user(*, level, days=0, **kwargs):
    user = UserFactory(trust_level=level, **kwargs)
    if days:
        User.objects.filter(pk=user.pk).update(date_joined=timezone.now() - datetime.timedelta(days=days))
        user.refresh_from_db()
    return user


@pytest.fixture
def author(db):
    """Someone else who writes the topics people read."""
    return UserFactory(username="topic_author")


@pytest.fixture
def topics(public_category, author):
    return [TopicFactory(category=public_category, author=author, title=f"Synthetic topic {n}") for n in range(10)]


def read(user, topics):
    """`user` opens each topic, as the topic page does; the level is looked at after commit."""
    for topic in topics:
        committed(services.topic_mark_read, user=user, topic=topic, number=1)


def give_activity(user, topics, *, reads=0, posts=0, likes=0):
    """Reads (TopicRead rows), replies by `user`, and likes on the first of them, made directly."""
    now = timezone.now()
    for topic in topics[:reads]:
        TopicRead.objects.get_or_create(user=user, topic=topic,
                                        defaults={"last_read_number": 1, "first_read_at": now, "updated_at": now})
    made = [services.post_create(actor=user, topic_id=topics[n].pk, raw=f"Synthetic reply {n}.")
            for n in range(posts)]
    if likes:
        Post.objects.filter(pk=made[0].pk).update(like_count=likes)
    return made


def meets_regular(user, topics):
    return give_activity(user, topics, reads=8, posts=4, likes=3)


# --- Facts and thresholds -------------------------------------------------------------------------

def test_trust_facts_count_what_a_person_did(topics, author, moderator):
    user = make_user(level=0, days=12)
    posts = give_activity(user, topics, reads=4, posts=3, likes=2)
    committed(services.post_delete, actor=user, post_id=posts[2].pk)  # deleted posts do not count
    Post.objects.filter(pk=posts[1].pk).update(hidden=Post.Hidden.MODERATOR, like_count=5)  # nor hidden ones
    facts = trust_facts(user)
    assert facts == {"days": 12, "topics_read": 4, "posts": 1, "likes_received": 2, "agreed_flags": 0}


def test_agreed_flags_count_per_post_within_a_hundred_days(topics, moderator):
    user = make_user(level=1)
    first, second = give_activity(user, topics, posts=2)
    for post in (first, second):
        for flagger in (UserFactory(), UserFactory()):
            committed(services.post_flag, actor=flagger, post_id=post.pk, reason=Flag.Reason.SPAM)
    committed(services.review_resolve, actor=moderator, item_id=ReviewItem.objects.get(post=first).pk,
              action="delete")
    committed(services.review_resolve, actor=moderator, item_id=ReviewItem.objects.get(post=second).pk,
              action="approve")
    assert trust_facts(user)["agreed_flags"] == 1  # two agreed flags, one post
    with time_machine.travel(timezone.now() + datetime.timedelta(days=101), tick=False):
        assert trust_facts(user)["agreed_flags"] == 0


def test_reading_your_own_topics_does_not_count(settings, public_category):
    settings.FORUM_NEW_USER_TOPICS_PER_DAY = 10
    user = make_user(level=0)
    for n in range(4):
        committed(services.topic_create, actor=user, category=public_category, title=f"Own synthetic {n}",
                  raw=f"Synthetic text {n}.")
    assert trust_facts(user)["topics_read"] == 0
    assert level_of(user) == TrustLevel.NEW


@pytest.mark.parametrize(("facts", "level"), [
    ({"days": 0, "topics_read": 0, "posts": 0, "likes_received": 0}, 0),
    ({"days": 0, "topics_read": 2, "posts": 9, "likes_received": 9}, 0),
    ({"days": 0, "topics_read": 3, "posts": 0, "likes_received": 0}, 1),
    ({"days": 2, "topics_read": 5, "posts": 2, "likes_received": 1}, 1),  # one day short of 2
    ({"days": 3, "topics_read": 5, "posts": 2, "likes_received": 1}, 2),
    ({"days": 30, "topics_read": 8, "posts": 4, "likes_received": 2}, 2),  # one like short of 3
    ({"days": 30, "topics_read": 8, "posts": 4, "likes_received": 3}, 3),
    ({"days": 300, "topics_read": 80, "posts": 40, "likes_received": 30}, 3),
])
def test_the_level_earned_is_the_highest_whose_requirements_are_all_met(facts, level):
    assert trust_level_earned({**facts, "agreed_flags": 0}) == level


def test_levels_are_climbed_in_order(settings):
    settings.FORUM_TRUST_LEVELS = {1: {"topics_read": 3}, 2: {"posts": 5}, 3: {"days": 1}}
    assert trust_level_earned({"topics_read": 0, "posts": 9, "days": 9}) == 0
    assert trust_level_earned({"topics_read": 3, "posts": 4, "days": 9}) == 1


def test_agreed_flags_keep_a_person_below_regular():
    facts = {"days": 300, "topics_read": 80, "posts": 40, "likes_received": 30}
    assert trust_level_earned({**facts, "agreed_flags": 0}) == 3
    assert trust_level_earned({**facts, "agreed_flags": 1}) == 2


def test_the_thresholds_come_from_settings(settings):
    facts = {"days": 0, "topics_read": 1, "posts": 0, "likes_received": 0, "agreed_flags": 0}
    assert trust_level_earned(facts) == 0
    settings.FORUM_TRUST_LEVELS = {**LEVELS, 1: {**LEVELS[1], "topics_read": 1}}
    assert trust_level_earned(facts) == 1


# --- Updating levels ------------------------------------------------------------------------------

def test_reading_topics_promotes_a_new_member_to_basic(topics):
    user = make_user(level=0)
    read(user, topics[:2])
    assert level_of(user) == TrustLevel.NEW
    read(user, topics[2:3])
    assert TopicRead.objects.filter(user=user).count() == 3
    assert level_of(user) == TrustLevel.BASIC


def test_posting_looks_at_the_level_again(topics):
    user = make_user(level=1, days=5)
    give_activity(user, topics, reads=5, posts=1, likes=1)
    assert level_of(user) == TrustLevel.BASIC
    committed(services.post_create, actor=user, topic_id=topics[1].pk, raw="A second synthetic reply.")
    assert level_of(user) == TrustLevel.MEMBER


@pytest.mark.parametrize("level", [0, 1, 2])
def test_levels_up_to_member_are_never_lowered(level):
    user = make_user(level=level)
    assert services.trust_level_update(user_id=user.pk) == level
    assert level_of(user) == level


def test_a_member_is_promoted_to_regular_when_the_requirements_are_met(topics):
    user = make_user(level=2, days=31)
    meets_regular(user, topics)
    assert services.trust_level_update(user_id=user.pk) == TrustLevel.REGULAR


def test_a_regular_who_still_meets_the_requirements_stays(topics):
    user = make_user(level=3, days=31)
    meets_regular(user, topics)
    assert services.trust_level_update(user_id=user.pk) == TrustLevel.REGULAR


def test_a_regular_who_no_longer_meets_the_requirements_loses_level_3(topics):
    user = make_user(level=3, days=31)
    give_activity(user, topics, reads=8, posts=4, likes=2)  # one like short
    assert services.trust_level_update(user_id=user.pk) == TrustLevel.MEMBER
    assert level_of(user) == TrustLevel.MEMBER


def test_a_regular_loses_level_3_but_never_more(topics):
    user = make_user(level=3)
    assert services.trust_level_update(user_id=user.pk) == TrustLevel.MEMBER


def test_agreed_flags_take_level_3_away(topics, moderator):
    user = make_user(level=3, days=31)
    posts = meets_regular(user, topics)
    committed(services.post_flag, actor=UserFactory(), post_id=posts[3].pk, reason=Flag.Reason.INAPPROPRIATE)
    committed(services.review_resolve, actor=moderator, item_id=ReviewItem.objects.get(post=posts[3]).pk,
              action="hide")
    Post.objects.filter(pk=posts[3].pk).update(hidden="")  # the count of shown posts is not the reason
    assert services.trust_level_update(user_id=user.pk) == TrustLevel.MEMBER


def test_a_disagreed_flag_does_not_take_level_3_away(topics, moderator):
    user = make_user(level=3, days=31)
    posts = meets_regular(user, topics)
    committed(services.post_flag, actor=UserFactory(), post_id=posts[3].pk, reason=Flag.Reason.OFF_TOPIC)
    committed(services.review_resolve, actor=moderator, item_id=ReviewItem.objects.get(post=posts[3]).pk,
              action="approve")
    assert services.trust_level_update(user_id=user.pk) == TrustLevel.REGULAR


def test_a_long_absence_alone_keeps_level_3_as_documented(topics):
    # Activity is counted in totals (forum/services/trust.py): only agreed flags or lost
    # requirements take level 3 away, not time.
    user = make_user(level=3, days=31)
    meets_regular(user, topics)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=365), tick=False):
        assert services.trust_level_update(user_id=user.pk) == TrustLevel.REGULAR


@pytest.mark.parametrize(("level", "activity"), [(0, True), (3, False), (1, True)])
def test_a_locked_level_never_changes(topics, level, activity):
    user = make_user(level=level, days=40, trust_level_locked=True)
    if activity:
        meets_regular(user, topics)
    assert services.trust_level_update(user_id=user.pk) == level
    read(user, topics[8:10])
    assert level_of(user) == level


def test_an_inactive_account_is_left_alone(topics):
    user = make_user(level=0, is_active=False)
    give_activity(user, topics, reads=5)
    assert services.trust_level_update(user_id=user.pk) == 0


# --- Moderators set levels ----------------------------------------------------------------------------

def test_a_moderator_locks_a_level_and_it_is_logged(moderator, member):
    user = services.trust_level_set(actor=moderator, user_id=member.pk, level=3, locked=True,
                                    reason="  Long-standing   synthetic helper ")
    user = fresh(user)
    assert (user.trust_level, user.trust_level_locked) == (3, True)
    [entry] = ModerationLogEntry.objects.all()
    assert (entry.action, entry.actor, entry.target_user, entry.reason) == (
        Action.TRUST_LOCKED, moderator, member, "Long-standing synthetic helper")
    assert entry.detail == {"from": 1, "to": 3, "locked": True}


def test_a_moderator_unlocks_and_changes_levels(moderator, member):
    services.trust_level_set(actor=moderator, user_id=member.pk, level=2, locked=True)
    services.trust_level_set(actor=moderator, user_id=member.pk, level=2, locked=False)
    services.trust_level_set(actor=moderator, user_id=member.pk, level=0, locked=False)
    actions = list(ModerationLogEntry.objects.order_by("pk").values_list("action", flat=True))
    assert actions == [Action.TRUST_LOCKED, Action.TRUST_UNLOCKED, Action.TRUST_CHANGED]
    assert ModerationLogEntry.objects.order_by("pk").last().detail == {"from": 2, "to": 0, "locked": False}
    assert (level_of(member), fresh(member).trust_level_locked) == (0, False)


def test_changing_a_locked_level_is_logged_as_a_change(moderator, member):
    services.trust_level_set(actor=moderator, user_id=member.pk, level=2, locked=True)
    services.trust_level_set(actor=moderator, user_id=member.pk, level=3, locked=True)
    assert ModerationLogEntry.objects.order_by("pk").last().action == Action.TRUST_CHANGED


def test_setting_the_same_level_logs_nothing(moderator, member):
    services.trust_level_set(actor=moderator, user_id=member.pk, level=1, locked=False)
    assert not ModerationLogEntry.objects.exists()


@pytest.mark.parametrize("level", [4, -1, "two", None])
def test_a_level_outside_0_to_3_is_refused(moderator, member, level):
    with pytest.raises(ValidationError) as error:
        services.trust_level_set(actor=moderator, user_id=member.pk, level=level, locked=True)
    assert error.value.message_dict == {"level": ["Choose a trust level between 0 and 3."]}
    assert level_of(member) == 1 and not ModerationLogEntry.objects.exists()


def test_only_moderators_set_levels_and_not_for_moderators(moderator, member, volunteer, anonymizer):
    for actor in (member, volunteer, anonymizer):
        with pytest.raises(PermissionDenied):
            services.trust_level_set(actor=actor, user_id=volunteer.pk if actor == member else member.pk,
                                     level=3, locked=True)
    for target in (moderator, UserFactory(roles=[Role.MODERATOR]), UserFactory(is_staff=True)):
        with pytest.raises(PermissionDenied):
            services.trust_level_set(actor=moderator, user_id=target.pk, level=0, locked=True)
    assert not ModerationLogEntry.objects.exists()


# --- New members: links and images ------------------------------------------------------------------------

def links(count: int) -> str:
    return " ".join(f"[source {n}](https://example.org/synthetic/{n})" for n in range(count))


@pytest.fixture
def newcomer(db):
    return UserFactory(trust_level=0, username="newcomer")


def test_a_new_member_may_post_up_to_the_link_limit(settings, newcomer, public_topic):
    settings.FORUM_NEW_USER_MAX_LINKS = 2
    post = committed(services.post_create, actor=newcomer, topic_id=public_topic.pk, raw=links(2))
    assert post.pk


def test_a_new_members_post_with_too_many_links_is_refused_with_the_reason(settings, newcomer, public_topic):
    settings.FORUM_NEW_USER_MAX_LINKS = 2
    with pytest.raises(ValidationError) as error:
        committed(services.post_create, actor=newcomer, topic_id=public_topic.pk, raw=links(3))
    [message] = error.value.message_dict["raw"]
    assert message.startswith("New members can put at most 2 links in a post, and this one has 3.")
    assert Post.objects.filter(author=newcomer).count() == 0


def test_the_link_limit_comes_from_settings(settings, newcomer, public_topic):
    settings.FORUM_NEW_USER_MAX_LINKS = 1
    with pytest.raises(ValidationError) as error:
        committed(services.post_create, actor=newcomer, topic_id=public_topic.pk, raw=links(2))
    assert "at most 1 link in a post, and this one has 2" in error.value.message_dict["raw"][0]


def test_mentions_and_category_links_are_not_counted(settings, newcomer, public_topic, member, volunteer,
                                                      requester):
    settings.FORUM_NEW_USER_MAX_LINKS = 1
    raw = (f"@{member.username} @{volunteer.username} @{requester.username} see #data-requests and "
           f"#data-requests again, and {links(1)}")
    post = committed(services.post_create, actor=newcomer, topic_id=public_topic.pk, raw=raw)
    assert post.html.count("<a ") >= 5


def test_a_new_member_cannot_post_images(newcomer, public_topic):
    with pytest.raises(ValidationError) as error:
        committed(services.post_create, actor=newcomer, topic_id=public_topic.pk,
                  raw="A synthetic scan: ![scan](https://example.org/synthetic-scan.png)")
    assert any(m.startswith("New members cannot put images in posts yet.") for m in error.value.message_dict["raw"])


def test_the_limits_apply_to_new_topics_and_own_edits(settings, newcomer, public_category, public_topic):
    settings.FORUM_NEW_USER_MAX_LINKS = 1
    with pytest.raises(ValidationError) as error:
        committed(services.topic_create, actor=newcomer, category=public_category, title="Synthetic links",
                  raw=links(2))
    assert "raw" in error.value.message_dict
    assert not Topic.objects.filter(author=newcomer).exists()
    post = committed(services.post_create, actor=newcomer, topic_id=public_topic.pk, raw=links(1))
    with pytest.raises(ValidationError) as error:
        committed(services.post_edit, actor=newcomer, post_id=post.pk, raw=links(3))
    assert "raw" in error.value.message_dict
    assert fresh(post).raw == links(1)


def test_a_moderator_editing_a_new_members_post_is_not_limited(settings, newcomer, public_topic, moderator):
    settings.FORUM_NEW_USER_MAX_LINKS = 1
    post = committed(services.post_create, actor=newcomer, topic_id=public_topic.pk, raw="Synthetic text.")
    committed(services.post_edit, actor=moderator, post_id=post.pk, raw=links(3))
    assert fresh(post).raw == links(3)


@pytest.mark.parametrize("person", ["basic", "moderator_at_level_0"])
def test_basic_members_and_moderators_are_not_limited(settings, public_topic, person):
    settings.FORUM_NEW_USER_MAX_LINKS = 1
    user = UserFactory() if person == "basic" else UserFactory(roles=[Role.MODERATOR], trust_level=0)
    raw = links(6) + " ![scan](https://example.org/synthetic-scan.png)"
    post = committed(services.post_create, actor=user, topic_id=public_topic.pk, raw=raw)
    assert post.pk


# --- New members: topics per day -------------------------------------------------------------------------

def new_topic(actor, category, n):
    return committed(services.topic_create, actor=actor, category=category, title=f"Synthetic question {n}",
                     raw=f"Synthetic question number {n}.")


def test_a_new_member_starts_a_few_topics_a_day(settings, newcomer, public_category):
    settings.FORUM_NEW_USER_TOPICS_PER_DAY = 2
    new_topic(newcomer, public_category, 1)
    new_topic(newcomer, public_category, 2)
    with pytest.raises(ValidationError) as error:
        new_topic(newcomer, public_category, 3)
    assert error.value.message_dict[NON_FIELD_ERRORS] == [
        "New members can start 2 topics a day. Please reply in an existing topic, or try again tomorrow."]
    assert Topic.objects.filter(author=newcomer).count() == 2


def test_a_new_member_may_still_reply_after_the_topic_limit(settings, newcomer, public_category, public_topic):
    settings.FORUM_NEW_USER_TOPICS_PER_DAY = 1
    new_topic(newcomer, public_category, 1)
    assert committed(services.post_create, actor=newcomer, topic_id=public_topic.pk, raw="A synthetic reply.").pk


def test_the_topic_limit_resets_after_a_day(settings, newcomer, public_category):
    settings.FORUM_NEW_USER_TOPICS_PER_DAY = 1
    new_topic(newcomer, public_category, 1)
    with time_machine.travel(timezone.now() + datetime.timedelta(hours=23), tick=False):
        with pytest.raises(ValidationError, match="New members can start 1 topic a day."):
            new_topic(newcomer, public_category, 2)
    with time_machine.travel(timezone.now() + datetime.timedelta(days=1, minutes=1), tick=False):
        assert new_topic(newcomer, public_category, 3).pk


def test_basic_members_start_as_many_topics_as_they_like(settings, member, public_category):
    settings.FORUM_NEW_USER_TOPICS_PER_DAY = 1
    for n in range(3):
        new_topic(member, public_category, n)
    assert Topic.objects.filter(author=member).count() == 3


# --- Duplicate posts ------------------------------------------------------------------------------------

DUPLICATE = "Exactly the same synthetic text, twice."


def test_the_same_text_twice_is_refused_within_the_window(settings, member, public_topic):
    settings.FORUM_DUPLICATE_POST_MINUTES = 60
    committed(services.post_create, actor=member, topic_id=public_topic.pk, raw=DUPLICATE)
    with pytest.raises(ValidationError) as error:
        committed(services.post_create, actor=member, topic_id=public_topic.pk, raw=DUPLICATE)
    assert error.value.message_dict["raw"][0].startswith("You already posted exactly this text recently.")
    assert Post.objects.filter(author=member, raw=DUPLICATE).count() == 1


def test_the_same_text_is_refused_as_a_new_topic_too(settings, member, public_category, public_topic):
    settings.FORUM_DUPLICATE_POST_MINUTES = 60
    committed(services.post_create, actor=member, topic_id=public_topic.pk, raw=DUPLICATE)
    with pytest.raises(ValidationError) as error:
        committed(services.topic_create, actor=member, category=public_category, title="Again", raw=DUPLICATE)
    assert "raw" in error.value.message_dict


def test_the_same_text_is_accepted_after_the_window(settings, member, public_topic):
    settings.FORUM_DUPLICATE_POST_MINUTES = 60
    committed(services.post_create, actor=member, topic_id=public_topic.pk, raw=DUPLICATE)
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=61), tick=False):
        assert committed(services.post_create, actor=member, topic_id=public_topic.pk, raw=DUPLICATE).pk


def test_different_text_another_person_or_a_deleted_post_are_not_duplicates(settings, member, volunteer,
                                                                             public_topic):
    settings.FORUM_DUPLICATE_POST_MINUTES = 60
    first = committed(services.post_create, actor=member, topic_id=public_topic.pk, raw=DUPLICATE)
    committed(services.post_create, actor=member, topic_id=public_topic.pk, raw=DUPLICATE + " Changed.")
    committed(services.post_create, actor=volunteer, topic_id=public_topic.pk, raw=DUPLICATE)
    committed(services.post_delete, actor=member, post_id=first.pk)
    assert committed(services.post_create, actor=member, topic_id=public_topic.pk, raw=DUPLICATE).pk


def test_duplicates_are_allowed_when_the_window_is_zero(settings, member, public_topic):
    settings.FORUM_DUPLICATE_POST_MINUTES = 0
    for _ in range(2):
        committed(services.post_create, actor=member, topic_id=public_topic.pk, raw=DUPLICATE)
    assert Post.objects.filter(author=member, raw=DUPLICATE).count() == 2


# --- Claiming requests --------------------------------------------------------------------------------

@pytest.fixture
def data_request(requester, public_category, private_category):
    return make_request(requester, public_category)


def test_a_volunteer_below_the_claim_level_cannot_claim(settings, data_request):
    settings.REQUESTS_CLAIM_MIN_TRUST_LEVEL = 1
    newcomer = UserFactory(roles=[Role.VOLUNTEER], trust_level=0)
    with pytest.raises(PermissionDenied) as error:
        check_can_claim(newcomer, data_request)
    assert "from trust level 1; you are at level 0" in str(error.value)
    with pytest.raises(PermissionDenied):
        committed(request_services.request_claim, actor=newcomer, data_request_id=data_request.pk)
    assert not Claim.objects.exists()


def test_a_volunteer_at_the_claim_level_can_claim(settings, data_request):
    settings.REQUESTS_CLAIM_MIN_TRUST_LEVEL = 2
    below = UserFactory(roles=[Role.VOLUNTEER], trust_level=1)
    with pytest.raises(PermissionDenied, match="from trust level 2; you are at level 1"):
        check_can_claim(below, data_request)
    at = UserFactory(roles=[Role.VOLUNTEER], trust_level=2)
    check_can_claim(at, data_request)
    claim = committed(request_services.request_claim, actor=at, data_request_id=data_request.pk)
    assert claim.volunteer == at


def test_claim_level_zero_lets_new_volunteers_claim(settings, data_request):
    settings.REQUESTS_CLAIM_MIN_TRUST_LEVEL = 0
    check_can_claim(UserFactory(roles=[Role.VOLUNTEER], trust_level=0), data_request)


def test_moderators_claim_whatever_their_level(settings, data_request):
    settings.REQUESTS_CLAIM_MIN_TRUST_LEVEL = 3
    check_can_claim(UserFactory(roles=[Role.MODERATOR], trust_level=0), data_request)


def test_reading_lifts_a_new_volunteer_to_the_claim_level(settings, data_request, topics):
    settings.REQUESTS_CLAIM_MIN_TRUST_LEVEL = 1
    newcomer = UserFactory(roles=[Role.VOLUNTEER], trust_level=0)
    read(newcomer, topics[:3])
    check_can_claim(fresh(newcomer), data_request)


# --- The beat task -------------------------------------------------------------------------------------

def test_the_beat_task_updates_every_unlocked_active_person(topics):
    reader = make_user(level=0)
    give_activity(reader, topics, reads=3)
    lapsed = make_user(level=3)
    locked = make_user(level=3, trust_level_locked=True)
    steady = make_user(level=2)
    inactive = make_user(level=0, is_active=False)
    give_activity(inactive, topics, reads=3)

    changed = tasks.update_trust_levels.delay().get()

    assert changed == 2
    assert [level_of(u) for u in (reader, lapsed, locked, steady, inactive)] == [1, 2, 3, 2, 0]
    assert tasks.update_trust_levels.delay().get() == 0


def test_the_beat_task_is_scheduled_daily():
    schedule = {entry["task"]: entry["schedule"] for entry in django_settings.CELERY_BEAT_SCHEDULE.values()}
    assert schedule["forum.tasks.update_trust_levels"] == 86400.0


def test_the_single_person_task_updates_one_level(topics):
    user = make_user(level=0)
    give_activity(user, topics, reads=3)
    assert tasks.update_trust_level.delay(user_id=user.pk).get() == 1
    assert level_of(user) == 1
