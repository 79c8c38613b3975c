"""The topic page's reads, kept per topic rather than read per reader.

A topic and a page of its posts show every reader the same rows: what differs is whether they may
see the topic at all, where they stopped reading, what they liked and bookmarked, and the level they
chose. So the topic (with its tags) is kept per audience (`readers`: the categories they read and
moderate, as list pages are, forum/selectors/lists.py) and a page of posts per topic, both beside
the topic's and the site's generations, which every write that changes them bumps, as it makes the
topic's anonymous page stale. Per request the reader's own state is read: their read position and
their likes and bookmarks on the page (two small queries); the level they chose is kept with their
other choices. A topic of their own that their audience does not see (held for review, in a private
channel) is read for them alone.
"""
from django.db.models import CharField, Value
from django.http import Http404

from ..models import Bookmark, Post, PostLike, Topic, TopicEvent, TopicRead
from ..pagecache import TOPIC_KEY
from ..permissions import (
    can_moderate,
    can_read_post_text,
    can_see_deleted_content,
    own_topics_beyond_audience,
    topics_visible_to,
    topics_visible_to_audience,
)
from .counts import counted, readers
from .lists import LIST_SECONDS, kept_topic, with_tags
from .topics import POSTS_PER_PAGE, TopicPage, chosen_levels, person_fields_unshown, topic_page_count

# What is kept in the cache holds people's names only, never their email or password hash.
_POST_PEOPLE_UNSHOWN = (*person_fields_unshown("author"), *person_fields_unshown("reply_to__author"))


def _topics():
    return (
        Topic.objects.select_related("category", "category__parent", "author")
        .defer(*person_fields_unshown("author")).prefetch_related("tags")
    )


def topic_for_page(*, user, pk: int) -> Topic:
    """`topic_get` for the topic page: the same topic, or 404 alike when missing or private to
    `user`, with `read_number` (None: never opened) and `chosen_level` (None: the default)."""
    scope = TOPIC_KEY.format(pk)

    def seen_by_audience():
        found = topics_visible_to_audience(user, _topics()).filter(pk=pk).first()
        return None if found is None else kept_topic(found)

    kept = counted(f"topic:1 {readers(user)} {pk}", seen_by_audience, scope=scope, seconds=LIST_SECONDS)
    if kept is not None:
        topic = with_tags(*kept)
    elif user.is_authenticated and not can_moderate(user):
        topic = topics_visible_to(user, _topics().filter(own_topics_beyond_audience(user))).filter(pk=pk).first()
        if topic is None:
            raise Http404
    else:
        raise Http404
    if user.is_authenticated:
        topic.read_number = (
            TopicRead.objects.filter(user=user, topic_id=pk).values_list("last_read_number", flat=True).first()
        )
        topic.chosen_level = chosen_levels(user).topics.get(pk)
    return topic


def _page_rows(topic: Topic, page: int, last_page: bool):
    """The page's posts (with authors and what they reply to) and, on the last page, the topic's
    events: the same for every reader, kept beside the topic's generation."""
    def read():
        first = (page - 1) * POSTS_PER_PAGE + 1
        posts = list(
            Post.objects.filter(topic=topic, number__gte=first, number__lt=first + POSTS_PER_PAGE)
            .select_related("author", "reply_to", "reply_to__author").defer(*_POST_PEOPLE_UNSHOWN)
            .order_by("number")
        )
        events = []
        if last_page:
            events = list(TopicEvent.objects.filter(topic=topic).select_related("actor").order_by("created_at", "pk"))
        return posts, events

    name = f"topic-posts:1 {topic.pk} {page} {last_page}"
    return counted(name, read, scope=TOPIC_KEY.format(topic.pk), seconds=LIST_SECONDS)


def _reader_marks(user, posts) -> tuple[set, dict]:
    """Which of `posts` the reader liked, and their bookmarks' notes on them: one query."""
    ids = [post.pk for post in posts]
    likes = PostLike.objects.filter(user=user, post_id__in=ids).annotate(
        kind=Value("like", output_field=CharField()), note=Value("", output_field=CharField()),
    ).values_list("post_id", "kind", "note")
    bookmarks = Bookmark.objects.filter(user=user, post_id__in=ids).annotate(
        kind=Value("bookmark", output_field=CharField()),
    ).values_list("post_id", "kind", "note")
    liked, notes = set(), {}
    for post_id, kind, note in likes.union(bookmarks, all=True):
        if kind == "like":
            liked.add(post_id)
        else:
            notes[post_id] = note
    return liked, notes


def topic_page(*, user, topic: Topic, page: int) -> TopicPage:
    """One page of a topic: its posts (deleted ones as placeholders), and `user`'s likes,
    bookmarks and notification level for them. A fixed number of queries."""
    page_count = topic_page_count(topic)
    if page < 1 or page > page_count:
        raise Http404
    posts, events = _page_rows(topic, page, page == page_count)
    show_deleted = can_see_deleted_content(user, topic)
    for post in posts:
        post.topic = topic
        post.content_hidden = (post.deleted_at is not None and not show_deleted) or not can_read_post_text(user, post)
    liked, bookmarks, level = set(), {}, None
    if user.is_authenticated and posts:
        liked, bookmarks = _reader_marks(user, posts)
        if hasattr(topic, "chosen_level"):  # read with the topic (topic_for_page)
            level = topic.chosen_level
        else:
            level = chosen_levels(user).topics.get(topic.pk)
    return TopicPage(
        posts=posts, number=page, page_count=page_count, liked=liked, bookmarks=bookmarks, events=events,
        notification_level=level,
    )
