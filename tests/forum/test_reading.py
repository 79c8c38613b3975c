"""Likes, bookmarks, read state, notification levels, and the topic lists built on them."""
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from forum import selectors, services
from forum.models import NotificationLevel, Post, Topic
from tests.forum.factories import CategoryFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(public_category, volunteer):
    return services.topic_create(actor=volunteer, category=public_category, title="Synthetic topic", raw="First")


def test_like_once_not_own_post_and_unlike(topic, volunteer, requester):
    post = topic.posts.get()
    with pytest.raises(PermissionDenied, match="own post"):
        services.post_like(actor=volunteer, post_id=post.pk)
    assert services.post_like(actor=requester, post_id=post.pk) is True
    assert services.post_like(actor=requester, post_id=post.pk) is False
    post.refresh_from_db()
    topic.refresh_from_db()
    assert (post.like_count, topic.like_count) == (1, 1)
    assert services.post_unlike(actor=requester, post_id=post.pk) is True
    assert services.post_unlike(actor=requester, post_id=post.pk) is False
    post.refresh_from_db()
    assert post.like_count == 0


def test_bookmark_with_note_and_listing(topic, requester):
    post = topic.posts.get()
    services.bookmark_set(actor=requester, post_id=post.pk, note="  read later  ")
    services.bookmark_set(actor=requester, post_id=post.pk, note="changed note")
    bookmarks = list(selectors.bookmark_list(user=requester))
    assert [(b.post, b.note) for b in bookmarks] == [(post, "changed note")]
    assert services.bookmark_remove(actor=requester, post_id=post.pk)
    assert not selectors.bookmark_list(user=requester).exists()


def test_bookmarks_of_posts_no_longer_visible_disappear(topic, requester, moderator, private_topic):
    post = topic.posts.get()
    services.bookmark_set(actor=requester, post_id=post.pk)
    services.topic_move(actor=moderator, topic_id=topic.pk, category=CategoryFactory(private=True))
    assert not selectors.bookmark_list(user=requester).exists()
    with pytest.raises(PermissionDenied):
        services.bookmark_set(actor=requester, post_id=private_topic.posts.get().pk + 1000)
    stranger = UserFactory()
    with pytest.raises(PermissionDenied):
        services.bookmark_set(actor=stranger, post_id=private_topic.posts.get().pk)


def test_unliking_a_deleted_post_leaves_topic_likes_right(topic, requester, moderator):
    reply = services.post_create(actor=moderator, topic_id=topic.pk, raw="A reply")
    services.post_like(actor=requester, post_id=reply.pk)
    services.post_delete(actor=moderator, post_id=reply.pk)
    services.post_unlike(actor=requester, post_id=reply.pk)
    services.post_restore(actor=moderator, post_id=reply.pk)
    topic.refresh_from_db()
    reply.refresh_from_db()
    assert (topic.like_count, reply.like_count) == (0, 0)


def test_unread_counts_in_lists(client, topic, requester, volunteer):
    from tests.helpers import sign_in

    sign_in(client, requester)
    listed = {t.pk: t for t in selectors.topic_list(user=requester)}
    assert listed[topic.pk].read_number is None  # never opened: "new"
    client.get(topic.get_absolute_url())
    for n in range(3):
        services.post_create(actor=volunteer, topic_id=topic.pk, raw=f"Update {n}")
    listed = {t.pk: t for t in selectors.topic_list(user=requester)}
    assert listed[topic.pk].unread_count == 3
    content = client.get("/latest/").content.decode()
    assert "3 new" in content
    unread = client.get(f"/t/{topic.pk}/unread/")
    assert unread["Location"].endswith("#post-2")
    client.get(topic.get_absolute_url())
    listed = {t.pk: t for t in selectors.topic_list(user=requester)}
    assert listed[topic.pk].unread_count == 0
    topic.refresh_from_db()
    assert topic.view_count == 2  # the author and the requester, each counted once


def test_read_position_never_moves_backward(topic, requester, volunteer):
    for n in range(3):
        services.post_create(actor=volunteer, topic_id=topic.pk, raw=f"Update {n}")
    services.topic_mark_read(user=requester, topic=topic, number=4)
    services.topic_mark_read(user=requester, topic=topic, number=2)
    assert selectors.topic_read_number(user=requester, topic=topic) == 4


def test_new_for_me_lists_unread_and_recent_unseen_topics(public_category, volunteer, requester):
    seen = services.topic_create(actor=volunteer, category=public_category, title="Seen", raw="x")
    services.topic_create(actor=volunteer, category=public_category, title="Unseen", raw="x")
    old = services.topic_create(actor=volunteer, category=public_category, title="Old", raw="x")
    Topic.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))
    mine = services.topic_create(actor=requester, category=public_category, title="Mine", raw="x")
    services.topic_mark_read(user=requester, topic=seen, number=1)
    new = {t.title for t in selectors.topic_list(user=requester, order="new")}
    assert new == {"Unseen"}
    services.post_create(actor=volunteer, topic_id=seen.pk, raw="news")
    services.post_create(actor=volunteer, topic_id=mine.pk, raw="an answer")
    new = {t.title for t in selectors.topic_list(user=requester, order="new")}
    assert new == {"Unseen", "Seen", "Mine"}


def test_top_orders_by_likes_over_a_period(public_category, volunteer, requester, member):
    services.topic_create(actor=volunteer, category=public_category, title="Quiet", raw="x")
    liked = services.topic_create(actor=volunteer, category=public_category, title="Liked", raw="x")
    old = services.topic_create(actor=volunteer, category=public_category, title="Old favourite", raw="x")
    for person in (requester, member):
        services.post_like(actor=person, post_id=old.posts.get().pk)
    services.post_like(actor=requester, post_id=liked.posts.get().pk)
    Topic.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=60))
    assert [t.title for t in selectors.topic_list(user=requester, order="top", period="all")] == [
        "Old favourite", "Liked", "Quiet"]
    assert [t.title for t in selectors.topic_list(user=requester, order="top", period="month")] == ["Liked", "Quiet"]


def test_unanswered_lists_open_topics_without_replies(public_category, volunteer, requester, moderator):
    answered = services.topic_create(actor=volunteer, category=public_category, title="Answered", raw="x")
    services.post_create(actor=requester, topic_id=answered.pk, raw="answer")
    services.topic_create(actor=volunteer, category=public_category, title="Waiting", raw="x")
    closed = services.topic_create(actor=volunteer, category=public_category, title="Closed", raw="x")
    services.topic_set_closed(actor=moderator, topic_id=closed.pk, closed=True)
    assert [t.title for t in selectors.topic_list(user=requester, order="unanswered")] == ["Waiting"]


def test_pinned_topics_come_first(public_category, volunteer, moderator, requester):
    pinned = services.topic_create(actor=volunteer, category=public_category, title="Pinned", raw="x")
    globally = services.topic_create(actor=volunteer, category=CategoryFactory(), title="Global", raw="x")
    services.topic_create(actor=volunteer, category=public_category, title="Newest", raw="x")
    services.topic_set_pinned(actor=moderator, topic_id=pinned.pk, pinned=True)
    services.topic_set_pinned(actor=moderator, topic_id=globally.pk, pinned=True, globally=True)
    latest = [t.title for t in selectors.topic_list(user=requester)]
    assert latest[0] == "Global" and latest.index("Newest") < latest.index("Pinned")
    in_category = [t.title for t in selectors.topic_list(user=requester, category=public_category)]
    assert in_category[0] == "Pinned"


def test_muted_categories_topics_and_tags_leave_site_wide_lists(public_category, volunteer, requester):
    noisy = CategoryFactory()
    services.topic_create(actor=volunteer, category=noisy, title="In muted category", raw="x")
    muted_topic = services.topic_create(actor=volunteer, category=public_category, title="Muted topic", raw="x")
    services.topic_create(actor=volunteer, category=public_category, title="Tagged", raw="x", tags=["spam"])
    services.topic_create(actor=volunteer, category=public_category, title="Kept", raw="x")
    from taggit.models import Tag

    services.notification_level_set(user=requester, level=NotificationLevel.MUTED, category=noisy)
    services.notification_level_set(user=requester, level=NotificationLevel.MUTED, topic=muted_topic)
    services.notification_level_set(user=requester, level=NotificationLevel.MUTED, tag=Tag.objects.get(name="spam"))
    assert [t.title for t in selectors.topic_list(user=requester)] == ["Kept"]
    assert [t.title for t in selectors.topic_list(user=requester, category=noisy)] == ["In muted category"]


def test_effective_notification_level_prefers_topic_then_category_then_tags(topic, requester, public_category):
    from taggit.models import Tag

    services.topic_set_tags(actor=topic.author, topic_id=topic.pk, tags=["imaging"])
    assert selectors.notification_level_effective(user=requester, topic=topic) == NotificationLevel.NORMAL
    services.notification_level_set(user=requester, level=NotificationLevel.TRACKING,
                                    tag=Tag.objects.get(name="imaging"))
    assert selectors.notification_level_effective(user=requester, topic=topic) == NotificationLevel.TRACKING
    services.notification_level_set(user=requester, level=NotificationLevel.WATCHING, category=public_category)
    assert selectors.notification_level_effective(user=requester, topic=topic) == NotificationLevel.WATCHING
    services.notification_level_set(user=requester, level=NotificationLevel.MUTED, topic=topic)
    assert selectors.notification_level_effective(user=requester, topic=topic) == NotificationLevel.MUTED


def test_profile_counts_and_tabs_only_count_what_the_viewer_may_see(
    client, topic, requester, volunteer, private_topic
):
    first_post = topic.posts.get()
    reply = services.post_create(actor=requester, topic_id=topic.pk, raw="A public reply")
    services.post_like(actor=volunteer, post_id=reply.pk)
    services.post_like(actor=requester, post_id=first_post.pk)
    private_reply = services.post_create(actor=requester, topic_id=private_topic.pk, raw="Private reply")
    assert Post.objects.filter(pk=private_reply.pk).exists()
    activity = selectors.profile_activity(user=volunteer, profile_user=requester)
    assert activity == {"topics": 0, "replies": 1, "likes_given": 1, "likes_received": 1}
    own = selectors.profile_activity(user=requester, profile_user=requester)
    assert own == {"topics": 1, "replies": 2, "likes_given": 1, "likes_received": 1}
    replies = client.get(requester.get_absolute_url() + "?tab=replies").content.decode()
    assert topic.title in replies and private_topic.title not in replies
    likes = client.get(requester.get_absolute_url() + "?tab=likes").content.decode()
    assert topic.title in likes
