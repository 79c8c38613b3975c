"""The topic page's reads kept per topic (forum/selectors/topic_pages.py): the same topic, posts and
404s as reading them alone, for every reader, and each reader's own likes, bookmarks, levels and
read position; a change shows on the next request."""
import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404
from django.utils import timezone

from forum import selectors, services
from forum.models import NotificationLevel, Topic
from forum.permissions import Role
from tests.forum.factories import TopicFactory, UserFactory
from tests.helpers import sign_in

pytestmark = pytest.mark.django_db


def _visible(user, pk) -> bool:
    try:
        selectors.topic_get(user=user, pk=pk)
    except Http404:
        return False
    return True


def _kept_visible(user, pk) -> bool:
    try:
        topic = selectors.topic_for_page(user=user, pk=pk)
    except Http404:
        return False
    assert topic.pk == pk
    return True


def test_every_reader_sees_the_topics_they_would_see_alone(public_category, private_category, requester, volunteer,
                                                          moderator):
    public = TopicFactory(category=public_category, author=requester, title="Synthetic open topic")
    private = TopicFactory(category=private_category, author=requester, title="Synthetic channel topic")
    hidden = TopicFactory(category=public_category, author=requester, title="Synthetic held topic")
    Topic.objects.filter(pk=hidden.pk).update(hidden_at=timezone.now())
    deleted = TopicFactory(category=public_category, author=volunteer, title="Synthetic deleted topic")
    Topic.objects.filter(pk=deleted.pk).update(deleted_at=timezone.now())
    other_requester = UserFactory(roles=[Role.REQUESTER])
    readers = [AnonymousUser(), volunteer, other_requester, requester, moderator]
    for _ in range(2):  # the second time from what the first kept, in every order of readers
        for user in readers + readers[::-1]:
            for topic in (public, private, hidden, deleted):
                assert _kept_visible(user, topic.pk) == _visible(user, topic.pk), (user, topic.title)
    assert _kept_visible(requester, private.pk) and not _kept_visible(other_requester, private.pk)
    assert _kept_visible(requester, hidden.pk) and not _kept_visible(volunteer, hidden.pk)


def test_each_reader_gets_their_own_likes_bookmarks_level_and_position(client, public_category, requester,
                                                                       volunteer, member):
    topic = TopicFactory(category=public_category, author=requester, title="Synthetic marked topic")
    reply = services.post_create(actor=volunteer, topic_id=topic.pk, raw="Synthetic reply to like.")
    services.post_like(actor=member, post_id=reply.pk)
    services.bookmark_set(actor=member, post_id=reply.pk, note="Synthetic note")
    services.notification_level_set(user=member, level=NotificationLevel.WATCHING, topic=topic)

    for _ in range(2):
        for user, liked, bookmarks, level in (
            (member, {reply.pk}, {reply.pk: "Synthetic note"}, NotificationLevel.WATCHING),
            (requester, set(), {}, None),
        ):
            kept = selectors.topic_for_page(user=user, pk=topic.pk)
            page = selectors.topic_page(user=user, topic=kept, page=1)
            assert (page.liked, page.bookmarks, page.notification_level) == (liked, bookmarks, level)
    assert selectors.topic_for_page(user=member, pk=topic.pk).read_number is None
    sign_in(client, member)
    client.get(topic.get_absolute_url())
    assert selectors.topic_for_page(user=member, pk=topic.pk).read_number == 2


def test_a_reply_an_edit_and_a_hidden_post_show_on_the_next_page(client, public_category, requester, volunteer,
                                                                moderator):
    topic = TopicFactory(category=public_category, author=requester, title="Synthetic changing topic")
    sign_in(client, volunteer)
    client.get(topic.get_absolute_url())
    reply = services.post_create(actor=volunteer, topic_id=topic.pk, raw="Synthetic first reply.")
    assert "Synthetic first reply." in client.get(topic.get_absolute_url()).content.decode()
    services.post_edit(actor=volunteer, post_id=reply.pk, raw="Synthetic edited reply.")
    page = client.get(topic.get_absolute_url()).content.decode()
    assert "Synthetic edited reply." in page and "Synthetic first reply." not in page
    services.topic_set_closed(actor=moderator, topic_id=topic.pk, closed=True)
    assert client.get(topic.get_absolute_url()).context["topic"].closed
    client.logout()
    assert "Synthetic edited reply." in client.get(topic.get_absolute_url()).content.decode()


def test_a_kept_topic_page_reads_only_the_readers_own_state(client, public_category, requester, volunteer,
                                                            django_assert_max_num_queries, settings):
    settings.ANONYMOUS_PAGE_CACHE_SECONDS = 0
    topic = TopicFactory(category=public_category, author=requester, title="Synthetic counted topic")
    services.post_create(actor=volunteer, topic_id=topic.pk, raw="Synthetic reply.")
    client.get(topic.get_absolute_url())
    with django_assert_max_num_queries(1):  # what other apps mark (licenses), nothing of the forum's
        assert client.get(topic.get_absolute_url()).status_code == 200
    sign_in(client, volunteer)
    client.get(topic.get_absolute_url())
    # The session (in the database without Redis), the person, their read position, their likes and
    # bookmarks, and the other apps' marks.
    with django_assert_max_num_queries(5):
        assert client.get(topic.get_absolute_url()).status_code == 200


def test_what_is_kept_names_people_without_their_email_or_password_hash(public_category, requester, volunteer):
    topic = TopicFactory(category=public_category, author=requester, title="Synthetic kept people")
    first = services.post_create(actor=volunteer, topic_id=topic.pk, raw="Synthetic reply.")
    services.post_create(actor=requester, topic_id=topic.pk, raw="Synthetic answer.", reply_to_number=first.number)
    for _ in range(2):  # as read, then as kept
        kept = selectors.topic_for_page(user=volunteer, pk=topic.pk)
        people = [kept.author]
        for post in selectors.topic_page(user=volunteer, topic=kept, page=1).posts:
            people += [post.author] + ([post.reply_to.author] if post.reply_to else [])
        assert len(people) == 5
        for person in people:
            assert person.name and not {"password", "email", "bio"} & set(person.__dict__)


def test_the_reply_composer_is_rendered_once_with_a_fresh_spam_trap_stamp(client, public_category, requester,
                                                                          monkeypatch):
    from django.core import signing

    from forum.templatetags import kept_forms

    topic = TopicFactory(category=public_category, author=requester, title="Synthetic composer topic")
    rendered = []
    real = kept_forms.render_to_string
    monkeypatch.setattr(kept_forms, "render_to_string", lambda *args: rendered.append(1) or real(*args))
    member = UserFactory(roles=[Role.VOLUNTEER], trust_level=1)
    newcomer = UserFactory(roles=[Role.VOLUNTEER], trust_level=0)
    sign_in(client, member)
    pages = [client.get(topic.get_absolute_url()).content.decode() for _ in range(2)]
    assert len(rendered) == 1 and pages[0].count('name="raw"') == pages[1].count('name="raw"') == 1
    assert 'name="shown_at"' not in pages[0]
    sign_in(client, newcomer)  # the spam trap's fields, kept once, each page with its own stamp
    stamps = [client.get(topic.get_absolute_url()).content.decode().split('name="shown_at" value="')[1].split('"')[0]
              for _ in range(2)]
    assert len(rendered) == 2 and stamps[0] != stamps[1]
    assert all(isinstance(signing.loads(stamp, salt="forum.shown_at"), float) for stamp in stamps)
    assert kept_forms.STAMP_MARK not in client.get(topic.get_absolute_url()).content.decode()
