"""A list page's topics read once for everybody who reads the same categories, not once per person.

Most people see in a list exactly what everyone who reads and moderates the same categories sees:
the same topics in the same order. So a page of a list is kept in the cache under that audience
(`readers`) beside the lists' and the site's generations, which every write that changes a list
bumps, and only the reader's own "new" badges are read per request (one query over the page's
topics). Two things make a person's list differ from their audience's: topics of their own that
the others do not see (hidden for review, or in a private category they are not a member of, such
as their own request in the Anonymization channel), which are merged in, and what they muted,
which site-wide lists leave out: those lists are read for the person alone, as is "new for me".
"""
import copy
import time
from dataclasses import dataclass
from operator import attrgetter

from django.core.paginator import Page
from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404
from taggit.models import Tag

from ..fragments import fragment_key
from ..models import (
    CategoryNotificationSetting,
    NotificationLevel,
    TagNotificationSetting,
    Topic,
    TopicNotificationSetting,
    TopicRead,
    User,
)
from ..pagecache import LISTS_KEY, PERSON_LISTS_KEY
from ..pagination import BoundedPaginator, bounded_page, page_number
from ..permissions import (
    can_moderate,
    own_topics_beyond_audience,
    topics_visible_to,
    topics_visible_to_audience,
)
from .counts import audience, counted, readers
from .topics import topic_list

LIST_SECONDS = 300  # as long as an anonymous page is kept: view counts are as fresh on both
OWN_MERGED = 30  # rows kept before a page, for a person's own topics that sort before it
ROW_SECONDS = 60  # rendered rows say "5 minutes ago": they are rendered again each minute


@dataclass(slots=True)
class KeptRow:
    """A topic's row as a list page keeps it rendered for an audience (the reader's badge left
    out, forum/templatetags/topic_rows.py), with what that badge needs: reading the page then
    loads no topic at all."""
    pk: int
    title: str
    last_post_number: int
    order: tuple  # its place in the list's order (`_sort_key`), to merge a person's own rows in
    row_html: str
    read_number: int | None = None  # the reader's, set per request

    @property
    def unread_count(self) -> int | None:
        """As `Topic.unread_count`."""
        return None if self.read_number is None else max(self.last_post_number - self.read_number, 0)


def own_list_differences(user) -> tuple[bool, bool]:
    """Whether `user` sees topics of their own beyond their audience's, and whether they mute
    anything: one query, kept until a topic is added, hidden or moved (the lists' and the site's
    generations) or they change a notification level (their own generation)."""
    muted = NotificationLevel.MUTED

    def compute():
        row = User.objects.filter(pk=user.pk).values_list(
            Exists(Topic.objects.filter(own_topics_beyond_audience(user))),
            Exists(TopicNotificationSetting.objects.filter(user=user, level=muted))
            | Exists(CategoryNotificationSetting.objects.filter(user=user, level=muted))
            | Exists(TagNotificationSetting.objects.filter(user=user, level=muted)),
        ).first()
        return tuple(row) if row else (True, True)

    return counted(
        f"own-list-differences:1 {audience(user)}", compute,
        scope=(LISTS_KEY, PERSON_LISTS_KEY.format(user.pk)), seconds=LIST_SECONDS,
    )


def kept_topic(topic: Topic) -> tuple:
    """A topic as kept in the cache: the row without its prefetched tags' queryset, and the tags."""
    plain = copy.copy(topic)
    plain.__dict__.pop("_prefetched_objects_cache", None)
    return plain, list(topic.tags.all())


def with_tags(topic: Topic, tags: list) -> Topic:
    """The topic as if its tags were prefetched: `topic.tags.all()` runs no query."""
    prefetched = Tag.objects.all()
    prefetched._result_cache = tags
    prefetched._prefetch_done = True
    topic._prefetched_objects_cache = {"tags": prefetched}
    return topic


def _add_read_state(topics: list, user) -> None:
    """`read_number` on each topic (None: never opened), as `topic_list` annotates it: one query."""
    if not user.is_authenticated or not topics:
        return
    # Plain SQL: on every signed-in list page, and the ORM took longer to build it than the
    # database to answer it.
    ids = [topic.pk for topic in topics]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT topic_id, last_read_number FROM {TopicRead._meta.db_table} "
            f"WHERE user_id = %s AND topic_id IN ({', '.join(['%s'] * len(ids))})", [user.pk, *ids],
        )
        reads = dict(cursor.fetchall())
    for topic in topics:
        topic.read_number = reads.get(topic.pk)


def _sort_key(order: str):
    """The list's order as a Python key, descending, exactly as `topic_list` sorts in SQL."""
    if order == "top":
        return lambda topic: (topic.like_count, topic.post_count, topic.last_posted_at, topic.pk)
    if order == "unanswered":
        return lambda topic: (topic.created_at, topic.pk)
    return lambda topic: (topic.is_pinned, topic.last_posted_at, topic.pk)


def _list_name(kind: str, whose: str, number: int, per_page: int, counted_pages: bool, filters: dict) -> str:
    category, tag = filters.get("category"), filters.get("tag")
    return " ".join(map(str, (
        kind, whose, filters.get("order", "latest"), filters.get("period", "all"),
        category.pk if category else "", [child.pk for child in filters.get("subcategories", ())],
        tag.pk if tag else "", number, per_page, counted_pages,
    )))


def topic_list_page(*, user, number, per_page: int, counted_pages: bool = True, **filters) -> Page:
    """One page of `topic_list(user=user, **filters)` with its bounded page count
    (`forum.pagination`), or without it (`counted_pages=False`: the first `per_page` topics, for the
    home page). Kept per audience, as the module says.

    The kept window starts `OWN_MERGED` rows before the page, and a person's own topics beyond their
    audience merge in the list's order (`merged_page`): the first of theirs, as many as could reach
    the page, and how many there are, kept for them. Those that sort before the window shift the
    page; if more than `OWN_MERGED` do, and for the lists the module names, the page is read for the
    person alone. Rows are read already rendered (`KeptRow`, `_rendered_rows`): a page loads no topic."""
    order = filters.get("order", "latest")
    site_wide = filters.get("category") is None and filters.get("tag") is None
    own_topics = mutes = False
    if user.is_authenticated and not can_moderate(user):
        own_topics, mutes = own_list_differences(user)
    if order == "new" or (mutes and site_wide):
        return _own_page(user, number, per_page, counted_pages, filters)
    number = page_number(number) if counted_pages else 1
    start = (number - 1) * per_page
    low = max(0, start - OWN_MERGED)

    def window():
        topics = topic_list(user=user, personal=False, **filters)
        if user.is_authenticated and not can_moderate(user):
            # Always, whatever `own_list_differences` said: a topic of theirs committed meanwhile must
            # never be kept for their whole audience (permissions.topics_visible_to_audience).
            topics = topics.filter(~own_topics_beyond_audience(user))
        rows = [kept_topic(topic) for topic in topics[low:start + per_page]]
        if not counted_pages:
            return rows, None, False
        paginator = BoundedPaginator(topics, per_page, number)
        return rows, paginator.count, paginator.truncated

    name = _list_name(f"topic-list:1 from {low}", readers(user), number, per_page, counted_pages, filters)
    rows, count, truncated = _rendered_rows(name, window, order, filters)
    topics = [KeptRow(*row) for row in rows]
    if not own_topics:
        page_topics = topics[start - low:start - low + per_page]
    else:
        def own():
            # Theirs ranked past the page's last row cannot reach it: the first `start + per_page`.
            found = topic_list(user=user, personal=False, **filters).filter(own_topics_beyond_audience(user))
            return [kept_topic(topic) for topic in found[:start + per_page]], found.order_by().count(), False

        name = _list_name("own-topics:3", audience(user), number, per_page, counted_pages, filters)
        mine, own_count, _ = _rendered_rows(name, own, order, filters)
        extras = [KeptRow(*row) for row in mine]
        page_topics = merged_page(topics, extras, attrgetter("order"), low=low, start=start, per_page=per_page)
        count = None if count is None else count + own_count
    if page_topics is None or (not page_topics and number > 1):
        # Too many of theirs before the page, or past the end (the last page, as Django shows).
        return _own_page(user, number, per_page, counted_pages, filters)
    return _read_page(page_topics, user, number, per_page, count, truncated)


def _read_page(page_topics: list, user, number: int, per_page: int, count: int | None, truncated: bool) -> Page:
    """The page of `page_topics` with the reader's read state, counted `count` (None: not counted)."""
    _add_read_state(page_topics, user)
    paginator = BoundedPaginator([], per_page, number)
    if count is None:
        paginator.count = len(page_topics)  # a cached_property: set, never counted
    else:
        paginator.count = min(count, paginator.bound)
        paginator.truncated = truncated or count > paginator.bound
    return Page(page_topics, number, paginator)


def _rendered_rows(name: str, kept, order: str, filters: dict) -> tuple[list, int | None, bool]:
    """The rows `kept()` keeps under `name` (`kept_topic`s, a count, whether it was cut short)
    rendered in this language, as plain `KeptRow` fields with their place in the list (`order`):
    kept beside them under the same generations, for a minute at most, so that "5 minutes ago" is
    never more than a minute old and a page reads no topic at all."""
    from ..templatetags.topic_rows import TEMPLATES, rows_html

    # A category's own page names no category on its rows, unless it has subcategories.
    show_category = filters.get("category") is None or bool(filters.get("subcategories"))
    sort_key = _sort_key(order)

    def render():
        rows, count, truncated = counted(name, kept, seconds=LIST_SECONDS)
        topics = [with_tags(topic, tags) for topic, tags in rows]
        html = rows_html(topics, show_category)
        return [
            (topic.pk, topic.title, topic.last_post_number, sort_key(topic), row)
            for topic, row in zip(topics, html, strict=True)
        ], count, truncated

    # The fragment key says the language, time zone and templates, as a row's own does.
    rendered_name = fragment_key(f"{name} rows:2", TEMPLATES, (show_category, int(time.time()) // 60))
    return counted(rendered_name, render, seconds=ROW_SECONDS)


def merged_page(window: list, extras: list, key, *, low: int, start: int, per_page: int,
                descending: bool = True) -> list | None:
    """The page starting at row `start` of a list kept for an audience, from its `window` kept
    from row `low` and the person's own rows beyond it in the list's order (`key`): at least the
    first `start + per_page` of them (any after those cannot reach the page). None when more of
    theirs sort before the window than the rows kept before the page: read the page alone."""
    if not extras:
        return window[start - low:start - low + per_page]
    # Theirs that sort before the window's first row come before the page too; the rest take their
    # place among the window's rows.
    if low and not window:
        return None  # past the audience's last row: where theirs fall is not known here
    before = (lambda a, b: a > b) if descending else (lambda a, b: a < b)
    earlier = {item.pk for item in extras if low and before(key(item), key(window[0]))}
    if len(earlier) > start - low:
        return None
    offset = low + len(earlier)
    merged = sorted([*window, *(item for item in extras if item.pk not in earlier)], key=key, reverse=descending)
    return merged[start - offset:start - offset + per_page]


def _own_page(user, number, per_page: int, counted_pages: bool, filters: dict) -> Page:
    """The page read for the person alone, with their mutes and read state in the query."""
    topics = topic_list(user=user, **filters)
    if counted_pages:
        return bounded_page(topics, per_page, number)
    return Page(list(topics[:per_page]), 1, BoundedPaginator([], per_page, 1))


# --- Tags -------------------------------------------------------------------------

def _tag_on(topics: QuerySet, slug: str) -> Tag | None:
    tagged = Topic.tags.through.objects.filter(
        tag_id=OuterRef("pk"), object_id__in=topics.filter(deleted_at__isnull=True).values("pk"),
        content_type__model="topic", content_type__app_label="forum",
    )
    return Tag.objects.filter(Exists(tagged), slug=slug).first()


def tag_find(*, user, slug: str) -> Tag | None:
    """A tag used on at least one topic `user` may see, else None: a tag used only on private
    topics must not reveal that it exists. What the person's audience finds is kept with the lists
    (a topic tagged, added, hidden or moved bumps them); a tag not found there is looked for on the
    person's own topics beyond it too."""
    tag = counted(
        f"tag-find:1 {readers(user)} {slug}",
        lambda: _tag_on(topics_visible_to_audience(user, Topic.objects.all()), slug), seconds=LIST_SECONDS,
    )
    if tag is None and user.is_authenticated and not can_moderate(user):
        tag = _tag_on(topics_visible_to(user, Topic.objects.filter(own_topics_beyond_audience(user))), slug)
    return tag


def tag_get(*, user, slug: str) -> Tag:
    """Like tag_find, but 404 when there is no such visible tag."""
    tag = tag_find(user=user, slug=slug)
    if tag is None:
        raise Http404
    return tag
