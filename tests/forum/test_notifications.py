"""Who hears about what: the fan-out of a new post (replies, mentions, quotes, watchers, mutes,
private topics), batched likes, reading notifications, and moderator messages."""
import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from forum import services, tasks
from forum.models import Notification, NotificationLevel
from forum.notifications import LIKED, MENTIONED, MODERATOR_MESSAGE, POSTED, QUOTED, REPLIED, kind_get
from forum.selectors import describe_notifications, notification_list, unread_notification_count
from requests_board import services as request_services
from tests.forum.factories import TopicFactory, UserFactory
from tests.requests_board.factories import make_claimed

from .notification_factories import committed, kinds_about, reply, told, watch

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(public_category, requester):
    """A public topic asked by `requester`, with the fan-out of its first post already run."""
    return committed(TopicFactory, category=public_category, author=requester, title="Public synthetic request")


# --- Direct recipients ------------------------------------------------------------------------------

def test_a_reply_notifies_the_author_of_the_post_it_replies_to_as_replied(topic, member, volunteer):
    answer = reply(member, topic, "A synthetic answer.")
    response = reply(volunteer, topic, "A synthetic response to the answer.", reply_to_number=answer.number)
    [notification] = told(member)
    assert (notification.kind, notification.post_id, notification.actor_id) == (REPLIED, response.pk, volunteer.pk)
    assert notification.key == f"post:{response.pk}" and notification.read_at is None


def test_the_topic_author_hears_about_every_reply_in_their_topic(topic, requester, member, volunteer):
    first = reply(member, topic)
    second = reply(volunteer, topic)
    assert [(n.kind, n.post_id) for n in told(requester)] == [(REPLIED, first.pk), (REPLIED, second.pk)]


def test_a_mention_notifies_the_mentioned_person_as_mentioned(topic, member, volunteer):
    post = reply(volunteer, topic, f"Could @{member.username} have a look at the synthetic data?")
    assert [(n.kind, n.post_id) for n in told(member)] == [(MENTIONED, post.pk)]


def test_a_mention_of_an_unknown_name_notifies_nobody_else(topic, requester, volunteer):
    post = reply(volunteer, topic, "Thanks @nobody_by_this_name_here for the synthetic data.")
    assert kinds_about(post) == {requester.pk: [REPLIED]}


def test_a_quote_in_the_composers_format_notifies_the_quoted_person_as_quoted(topic, member, volunteer):
    reply(member, topic, "The median is 5.1 days.")
    post = reply(volunteer, topic, f"@{member.username}:\n> The median is 5.1 days.\n\nI get the same (synthetic).")
    assert [(n.kind, n.post_id) for n in told(member)] == [(QUOTED, post.pk)]


def test_each_person_hears_once_per_post_about_the_most_specific_reason(topic, requester, member, volunteer):
    answer = reply(member, topic, "The median is 5.1 days.")
    post = reply(
        volunteer, topic,
        f"@{member.username}:\n> The median is 5.1 days.\n\n@{member.username} and @{requester.username}, agreed.",
        reply_to_number=answer.number,
    )
    # Quoted, mentioned and replied to: quoted. The asker, mentioned in their own topic: mentioned.
    assert kinds_about(post) == {member.pk: [QUOTED], requester.pk: [MENTIONED]}


def test_the_author_is_never_notified_about_their_own_post(topic, requester, member):
    watch(requester, topic=topic)
    answer = reply(member, topic)
    own = reply(requester, topic, f"@{requester.username}:\n> quoted\n\nNoting @{requester.username} myself.",
                reply_to_number=answer.number)
    assert requester.pk not in kinds_about(own)
    assert kinds_about(own) == {member.pk: [REPLIED]}


def test_a_deleted_post_notifies_nobody(topic, requester, member, volunteer, django_capture_on_commit_callbacks):
    watch(volunteer, topic=topic)
    with django_capture_on_commit_callbacks() as callbacks:
        post = services.post_create(actor=member, topic_id=topic.pk, raw=f"Hello @{volunteer.username}.")
        services.post_delete(actor=member, post_id=post.pk)
    assert callbacks  # the fan-out was queued; it runs after the delete committed
    with django_capture_on_commit_callbacks(execute=True):
        for callback in callbacks:
            callback()
    assert Notification.objects.filter(post=post).count() == 0
    assert told(requester) == [] and told(volunteer) == []


def test_running_the_fan_out_twice_creates_nothing_new(topic, requester, member, volunteer, mailoutbox):
    watch(volunteer, topic=topic)
    post = reply(member, topic, f"Hello @{requester.username}.")
    before = sorted(Notification.objects.values_list("pk", "user_id", "kind"))
    emails = len(mailoutbox)
    assert before and emails == 1  # the asker, mentioned; the watcher's "posted" goes to the digest

    committed(tasks.notify_post, post_id=post.pk)
    committed(tasks.notify_post, post_id=post.pk)
    assert sorted(Notification.objects.values_list("pk", "user_id", "kind")) == before
    assert len(mailoutbox) == emails


# --- Watchers ---------------------------------------------------------------------------------------

def test_watchers_of_the_topic_its_category_or_its_tag_hear_about_every_post_as_posted(public_category, requester):
    topic = committed(services.topic_create, actor=requester, category=public_category, title="Tagged synthetic topic",
                      raw="Synthetic data only.", tags=["statistics"])
    by_topic, by_category, by_tag, bystander, poster = UserFactory.create_batch(5)
    watch(by_topic, topic=topic)
    watch(by_category, category=public_category)
    watch(by_tag, tag="statistics")
    post = reply(poster, topic)
    assert kinds_about(post) == {
        requester.pk: [REPLIED], by_topic.pk: [POSTED], by_category.pk: [POSTED], by_tag.pk: [POSTED],
    }
    assert told(bystander) == []


def test_watchers_of_a_new_topic_in_a_watched_category_hear_about_it(public_category, requester, member):
    watch(member, category=public_category)
    topic = committed(TopicFactory, category=public_category, author=requester, title="Fresh synthetic topic")
    [notification] = told(member)
    assert (notification.kind, notification.topic_id, notification.post.number) == (POSTED, topic.pk, 1)


def test_a_topic_level_below_watching_overrides_a_watched_category(topic, public_category, member, volunteer):
    watch(member, category=public_category)
    watch(member, topic=topic, level=NotificationLevel.TRACKING)
    reply(volunteer, topic)
    assert told(member) == []


def test_request_watchers_hear_of_a_progress_update_and_of_a_result_by_their_own_kinds(
    requester, volunteer, public_category, member,
):
    data_request, _claim = committed(make_claimed, author=requester, volunteer=volunteer, category=public_category)
    watch(member, category=public_category)

    update = committed(request_services.update_post, actor=volunteer, data_request_id=data_request.pk,
                       raw="Cleaning the synthetic data.")
    assert kinds_about(update) == {member.pk: ["request_update"], requester.pk: ["request_update"]}

    result = committed(request_services.result_deliver, actor=volunteer, data_request_id=data_request.pk,
                       summary="The median is 5.1 days (synthetic).",
                       repository_url="https://github.com/example/incubation", license="BSD-3-Clause")
    assert kinds_about(result.post) == {member.pk: ["result_delivered"], requester.pk: ["result_delivered"]}


# --- Mutes and visibility ---------------------------------------------------------------------------

def test_a_muted_topic_silences_even_mentions_and_replies(topic, requester, member, volunteer):
    watch(member, topic=topic, level=NotificationLevel.MUTED)
    watch(requester, topic=topic, level=NotificationLevel.MUTED)
    answer = reply(member, topic, "An answer before muting is irrelevant here.")
    post = reply(volunteer, topic, f"@{member.username}:\n> quoted\n\nSee @{requester.username}.",
                 reply_to_number=answer.number)
    assert kinds_about(post) == {}


def test_a_muted_category_silences_even_mentions(topic, public_category, member, volunteer):
    watch(member, category=public_category, level=NotificationLevel.MUTED)
    reply(volunteer, topic, f"Hello @{member.username}.")
    assert told(member) == []


def test_people_who_cannot_read_a_private_topic_are_never_notified_even_when_mentioned(
    private_topic, private_category, requester, member, moderator, anonymizer, mailoutbox,
):
    watch(member, category=private_category)
    watch(member, topic=private_topic)
    mailoutbox.clear()
    post = reply(anonymizer, private_topic,
                 f"@{member.username} and @{moderator.username}: synthetic findings attached.")
    assert kinds_about(post) == {moderator.pk: [MENTIONED], requester.pk: [REPLIED]}
    assert told(member) == []
    assert member.email not in {address for message in mailoutbox for address in message.to}


def test_a_private_topics_watchers_are_told_only_if_they_can_read_it(
    private_topic, private_category, requester, member, moderator, anonymizer,
):
    watch(member, category=private_category)
    watch(moderator, category=private_category)
    post = reply(anonymizer, private_topic)
    assert kinds_about(post) == {moderator.pk: [POSTED], requester.pk: [REPLIED]}


def test_a_watcher_list_larger_than_the_chunk_is_split_into_several_tasks_and_each_hears_once(
    topic, public_category, requester, member, settings, monkeypatch,
):
    settings.NOTIFICATIONS_FANOUT_CHUNK = 2
    watchers = UserFactory.create_batch(5)
    for watcher in watchers:
        watch(watcher, category=public_category)
    chunks = []
    original = tasks.notify_watchers.delay

    def spy(**kwargs):
        chunks.append(list(kwargs["user_ids"]))
        return original(**kwargs)

    monkeypatch.setattr(tasks.notify_watchers, "delay", spy)
    post = reply(member, topic)

    assert [len(chunk) for chunk in chunks] == [2, 2, 1]
    assert sorted(uid for chunk in chunks for uid in chunk) == sorted(w.pk for w in watchers)
    told_about = kinds_about(post)
    assert {uid: told_about[uid] for uid in told_about if uid != requester.pk} == {w.pk: [POSTED] for w in watchers}


# --- Likes ------------------------------------------------------------------------------------------

@pytest.fixture
def liked_post(topic, member):
    return reply(member, topic, "A synthetic answer worth liking.")


def like(actor, post):
    return services.post_like(actor=actor, post_id=post.pk)


def test_likes_are_batched_into_the_authors_unread_liked_notification(liked_post, member):
    first, second, last = UserFactory.create_batch(3)
    for person in (first, second, last):
        like(person, liked_post)
    [notification] = told(member, kind=LIKED)
    assert notification.count == 3 and notification.actor_id == last.pk
    [described] = describe_notifications([notification])
    assert described.text == f"{last.name} and 2 others liked your post in “Public synthetic request”"
    one_other = kind_get(LIKED).describe(actor=first.name, title="T", count=2)
    assert one_other == f"{first.name} and 1 other liked your post in “T”"


def test_after_the_like_notification_is_read_a_new_like_starts_a_new_one(liked_post, member):
    first, second = UserFactory.create_batch(2)
    like(first, liked_post)
    services.notifications_mark_all_read(user=member)
    like(second, liked_post)
    old, new = told(member, kind=LIKED)
    assert old.read_at is not None and old.count == 1
    assert new.read_at is None and (new.count, new.actor_id) == (1, second.pk)


def test_a_person_liking_again_is_not_counted_twice(liked_post, member, volunteer):
    like(volunteer, liked_post)
    services.post_unlike(actor=volunteer, post_id=liked_post.pk)
    like(volunteer, liked_post)
    [notification] = told(member, kind=LIKED)
    assert notification.count == 1


def test_a_person_liking_again_is_not_counted_twice_among_many_likers(liked_post, member):
    likers = UserFactory.create_batch(4)
    for person in likers:
        like(person, liked_post)
    services.post_unlike(actor=likers[0], post_id=liked_post.pk)
    like(likers[0], liked_post)
    [notification] = told(member, kind=LIKED)
    assert notification.count == 4


def test_two_people_with_the_same_display_name_both_count_as_likers(liked_post, member):
    for person in UserFactory.create_batch(2, display_name="Jane Testpatient"):
        like(person, liked_post)
    [notification] = told(member, kind=LIKED)
    assert notification.count == 2


# --- Reading ----------------------------------------------------------------------------------------

def test_reading_a_topic_clears_notifications_about_posts_up_to_that_number_only(topic, requester, member):
    posts = [reply(member, topic, f"Synthetic reply {n}.") for n in range(3)]  # numbers 2, 3, 4
    elsewhere = committed(TopicFactory, category=topic.category, author=requester, title="Another topic")
    other = reply(member, elsewhere)

    assert services.notifications_mark_read_in_topic(user=requester, topic_id=topic.pk, up_to_number=3) == 2
    unread = {n.post_id for n in told(requester, read_at__isnull=True)}
    assert unread == {posts[2].pk, other.pk}
    assert unread_notification_count(user=requester) == 2


def test_opening_a_notification_marks_it_read_but_another_persons_does_not_exist(topic, requester, member):
    reply(member, topic)
    [notification] = told(requester)
    with pytest.raises(Notification.DoesNotExist):
        services.notification_open(user=member, notification_id=notification.pk)
    notification.refresh_from_db()
    assert notification.read_at is None

    opened = services.notification_open(user=requester, notification_id=notification.pk)
    assert opened.pk == notification.pk and opened.url == notification.url
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_mark_all_read_clears_only_the_persons_own_notifications(topic, requester, member, volunteer):
    answer = reply(member, topic)
    reply(volunteer, topic, reply_to_number=answer.number)
    reply(volunteer, topic)
    assert services.notifications_mark_all_read(user=requester) == 3
    assert unread_notification_count(user=requester) == 0
    assert unread_notification_count(user=member) == 1
    assert services.notifications_mark_all_read(user=requester) == 0


def test_the_list_leaves_out_notifications_about_topics_the_person_can_no_longer_see(
    topic, requester, member, moderator, private_category,
):
    reply(requester, topic, f"Hello @{member.username}.")
    assert len(notification_list(user=member)) == 1
    services.topic_move(actor=moderator, topic_id=topic.pk, category=private_category)
    assert list(notification_list(user=member)) == []


# --- Moderator messages -----------------------------------------------------------------------------

def test_a_moderator_message_reaches_the_recipient_with_its_text(moderator, member, mailoutbox):
    notification = committed(services.moderator_message_send, actor=moderator, recipient=member,
                             text="  Please   keep the synthetic thread on topic.  ")
    assert (notification.user_id, notification.kind, notification.title) == (
        member.pk, MODERATOR_MESSAGE, "Please keep the synthetic thread on topic.")
    assert [message.to for message in mailoutbox] == [[member.email]]


@pytest.mark.parametrize("sender", ["member", "volunteer", "anonymizer"])
def test_only_moderators_send_messages(request, sender, requester):
    with pytest.raises(PermissionDenied):
        services.moderator_message_send(actor=request.getfixturevalue(sender), recipient=requester, text="Hello.")
    assert told(requester) == []


def test_a_moderator_cannot_send_a_message_to_themselves(moderator):
    with pytest.raises(PermissionDenied):
        services.moderator_message_send(actor=moderator, recipient=moderator, text="Hello me.")


@pytest.mark.parametrize("text", ["", "   \n\t "])
def test_a_moderator_message_needs_text(moderator, member, text):
    with pytest.raises(ValidationError) as error:
        services.moderator_message_send(actor=moderator, recipient=member, text=text)
    assert "text" in error.value.message_dict
    assert told(member) == []


def test_a_moderator_message_is_at_most_200_characters(moderator, member):
    with pytest.raises(ValidationError) as error:
        services.moderator_message_send(actor=moderator, recipient=member, text="x" * 201)
    assert "text" in error.value.message_dict
    assert services.moderator_message_send(actor=moderator, recipient=member, text="x" * 200).title == "x" * 200
