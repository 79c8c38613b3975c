"""The bell's unread count, kept in the cache until something changes what the person has unread.

Every signed-in page shows it, so it is counted once per change, not once per request; and it must
never be older than the change: a new notification, one read, all read, a topic hidden, moved or
deleted, or a role or membership taken away counts on the very next request.
"""
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test.utils import CaptureQueriesContext

from forum import services
from forum.notifications import REPLIED
from forum.selectors import unread_notification_count
from forum.selectors.counts import counted
from forum.selectors.notifications import BELL_SCOPE, NOTHING_UNREAD, bell_name
from tests.forum.factories import TopicFactory, UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db

COUNT_URL = "/my/notifications/count.json"


def _tell(user, topic, n, actor=None):
    return services.notify(user=user, kind=REPLIED, key=f"synthetic-bell:{n}", url=topic.get_absolute_url(),
                           actor=actor or UserFactory(), topic=topic, title=topic.title)


def _bell(client) -> int:
    return client.get(COUNT_URL).json()["unread"]


def _notification_queries(client, url) -> list:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in queries if "forum_notification" in query["sql"]]


def test_the_count_is_read_from_the_cache_until_something_changes(client, member, public_topic):
    _tell(member, public_topic, 1)
    sign_in(client, member)
    assert len(_notification_queries(client, COUNT_URL)) == 1
    assert _notification_queries(client, COUNT_URL) == []  # kept
    assert _notification_queries(client, "/latest/") == []  # every page's bell
    _tell(member, public_topic, 2)
    assert _bell(client) == 2  # a new one counts at once


def test_reading_one_all_or_a_topic_counts_on_the_next_request(client, member, public_category, public_topic):
    other = TopicFactory(category=public_category, author=UserFactory(), title="Synthetic other bell topic")
    first = _tell(member, public_topic, 1)
    _tell(member, public_topic, 2)
    _tell(member, other, 3)
    sign_in(client, member)
    assert _bell(client) == 3
    services.notification_open(user=member, notification_id=first.pk)
    assert _bell(client) == 2
    client.get(public_topic.get_absolute_url())  # reading the topic clears those about it
    assert _bell(client) == 1
    services.notifications_mark_all_read(user=member)
    assert _bell(client) == 0


def test_a_topic_hidden_or_moved_out_of_sight_counts_on_the_next_request(
        client, member, moderator, public_category, private_category):
    topic = TopicFactory(category=public_category, author=UserFactory(), title="Synthetic bell topic to move")
    _tell(member, topic, 1)
    sign_in(client, member)
    assert _bell(client) == 1
    services.topic_move(actor=moderator, topic_id=topic.pk, category=private_category)
    assert _bell(client) == 0


def test_a_membership_taken_away_counts_on_the_next_request(client, member, private_category):
    group = Group.objects.create(name="Synthetic bell readers")
    private_category.groups.add(group)
    member.groups.add(group)
    topic = TopicFactory(category=private_category, author=UserFactory(), title="Synthetic private bell topic")
    _tell(member, topic, 1)
    sign_in(client, member)
    assert _bell(client) == 1
    member.groups.remove(group)
    assert _bell(client) == 0


def test_people_told_together_each_see_it_at_once(client, public_topic):
    people = [UserFactory() for _ in range(3)]
    for person in people:
        sign_in(client, person)
        assert _bell(client) == 0
    services.notify_many(user_ids=[person.pk for person in people], kind=REPLIED, key="synthetic-bell:many",
                         url=public_topic.get_absolute_url(), topic=public_topic, title=public_topic.title)
    for person in people:
        sign_in(client, person)
        assert _bell(client) == 1


def test_a_topic_page_marks_notifications_only_when_some_are_about_it(client, member, public_category,
                                                                       public_topic):
    other = TopicFactory(category=public_category, author=UserFactory(), title="Synthetic unrelated bell topic")
    _tell(member, other, 1)
    sign_in(client, member)
    client.get(public_topic.get_absolute_url())
    # Something unread, but not about this topic: nothing to mark, nothing written.
    assert not any(sql.startswith("UPDATE") for sql in _notification_queries(client, public_topic.get_absolute_url()))
    _tell(member, public_topic, 2)
    assert any(sql.startswith("UPDATE") for sql in _notification_queries(client, public_topic.get_absolute_url()))
    assert _bell(client) == 1


def test_a_count_taken_while_a_notification_commits_is_not_kept(member, public_topic,
                                                                 django_capture_on_commit_callbacks):
    """A request that counted just before a notification committed stores the old count under the
    generation it read; the bump on commit makes that entry stale."""
    assert unread_notification_count(user=member) == 0
    actor = UserFactory()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        _tell(member, public_topic, 1, actor=actor)
        # What the overlapping request then writes: the old count, under the generation of that moment.
        counted(bell_name(member), lambda: NOTHING_UNREAD, scope=BELL_SCOPE.format(member.pk))
    assert unread_notification_count(user=member) == 0  # what a request would read until the commit
    for callback in callbacks:
        callback()
    assert unread_notification_count(user=member) == 1


def test_without_a_shared_cache_the_count_is_always_counted(client, member, public_topic, settings):
    settings.SHARED_CACHE = False
    _tell(member, public_topic, 1)
    sign_in(client, member)
    assert len(_notification_queries(client, COUNT_URL)) == 1
    assert len(_notification_queries(client, COUNT_URL)) == 1
