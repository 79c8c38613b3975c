"""Full-text search over topic titles and post bodies; the one module that knows the backend.

PostgreSQL: a stored tsvector on forum_post (title weighted A on a topic's
first post, body B) with a GIN index. SQLite, the embedded default: an FTS5
table keyed by post id. Both are created by migration 0004 and kept current by
the services, which call `index_posts` in the same transaction as each write.

`search_posts` is the query half: the permission filter is part of the SQL, so
counts and pages never include a post the reader may not see.
"""
import datetime
import re
import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank, SearchVector
from django.core.exceptions import EmptyResultSet
from django.db import OperationalError, connection
from django.db.models import Case, F, OuterRef, Q, Subquery, TextField, Value, When
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from taggit.models import Tag

from .models import Category, Post, Topic
from .permissions import post_texts_readable_by, posts_visible_to

SEARCH_CONFIG = "english"  # also in migration 0004


def _is_postgresql() -> bool:
    return connection.vendor == "postgresql"


def index_posts(post_ids) -> None:
    """(Re)index these posts; deleted ones are dropped from the index."""
    post_ids = list(post_ids)
    if not post_ids:
        return
    posts = Post.objects.filter(pk__in=post_ids)
    if _is_postgresql():
        title = Subquery(Topic.objects.filter(pk=OuterRef("topic_id")).values("title")[:1])
        posts.filter(deleted_at__isnull=False).update(search_vector=None)
        posts.filter(deleted_at__isnull=True).update(
            search_vector=SearchVector(
                Case(When(number=1, then=title), default=Value("")), weight="A", config=SEARCH_CONFIG
            ) + SearchVector("raw", weight="B", config=SEARCH_CONFIG)
        )
        return
    rows = posts.values_list("pk", "number", "raw", "topic__title", "deleted_at")
    with connection.cursor() as cursor:
        cursor.executemany("DELETE FROM forum_post_fts WHERE rowid = %s", [(pk,) for pk in post_ids])
        cursor.executemany(
            "INSERT INTO forum_post_fts (rowid, title, body) VALUES (%s, %s, %s)",
            [(pk, title if number == 1 else "", raw) for pk, number, raw, title, deleted in rows if not deleted],
        )


def index_topic_title(topic_id: int) -> None:
    """Reindex a topic's first post after its title changed."""
    index_posts(Post.objects.filter(topic_id=topic_id, number=1).values_list("pk", flat=True))


def rebuild_index(batch_size: int = 2000) -> int:
    """Reindex every post, in batches; returns how many posts were indexed."""
    total = 0
    last_pk = 0
    while True:
        batch = list(Post.objects.filter(pk__gt=last_pk).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not batch:
            return total
        index_posts(batch)
        total += len(batch)
        last_pk = batch[-1]


# --- Querying ---------------------------------------------------------------------

MAX_QUERY_LENGTH = 200
MAX_PER_PAGE = 100
# A word found in thousands of posts is ranked among its newest matches only: ranking reads
# every candidate's vector, and nobody pages past the first few hundred results anyway.
MAX_CANDIDATES = 300
# Matches are looked for among the newest RECENT_POSTS posts first, then the OLDER_POSTS before
# them, then every older post, these two within settings.SEARCH_TIME_LIMIT_MS (_newest_matches).
RECENT_POSTS = 10_000
OLDER_POSTS = 100_000
QUERY_CANCELED = "57014"  # PostgreSQL's SQLSTATE for a statement cancelled by its timeout
MIN_LIMIT_MS = 5  # less time than this left: the older posts are not searched at all
STATUSES = ("open", "closed", "archived")
# Private-use characters mark highlights inside the database; they become <mark>
# only after the text is escaped, so nothing a user wrote can turn into markup.
MARK_START, MARK_STOP = "\ue000", "\ue001"
SNIPPET_ELLIPSIS = "…"


@dataclass
class SearchResult:
    post: Post  # with topic, topic.category and author loaded
    rank: float
    snippet: SafeString  # escaped post text with <mark> around matches
    title_html: SafeString  # escaped topic title, matches marked when the title matched


@dataclass
class SearchPage:
    results: list[SearchResult]
    total: int  # at most MAX_CANDIDATES
    page: int
    per_page: int
    more: bool = False  # more posts match than `total`: the newest of them were ranked
    # Time ran out before every post was searched: only the newest `searched` posts were (PostgreSQL).
    partial: bool = False
    searched: int = 0

    @property
    def page_count(self) -> int:
        return max((self.total + self.per_page - 1) // self.per_page, 1)

    @property
    def has_next(self) -> bool:
        return self.page < self.page_count

    @property
    def has_previous(self) -> bool:
        return self.page > 1

    @property
    def next_page_number(self) -> int:
        return self.page + 1

    @property
    def previous_page_number(self) -> int:
        return self.page - 1


def search_posts(
    *, user, query: str, category: Category | None = None, tag: Tag | None = None, author: str | None = None,
    date_from: datetime.date | None = None, date_to: datetime.date | None = None, status: str | None = None,
    page: int = 1, per_page: int = 20,
) -> SearchPage:
    """Live posts `user` may read matching `query`, best first, one page of them with highlighted snippets.

    `category` includes its subcategories; `author` is a username; the dates bound
    the post's creation day (both inclusive, in the current time zone); `status` is
    one of STATUSES. A blank query gives an empty page. When more than MAX_CANDIDATES
    posts match, the newest MAX_CANDIDATES of them are ranked and `more` is set. On PostgreSQL
    nine queries at most (ranges of posts, each older one within the time limit: `partial` and
    `searched` then say how far back it got); on SQLite two.
    """
    query = _truncate(" ".join((query or "").split()))
    per_page = min(max(int(per_page), 1), MAX_PER_PAGE)
    page = max(int(page), 1)
    if not query:
        return SearchPage(results=[], total=0, page=1, per_page=per_page)
    posts = _searchable_posts(
        user, category=category, tag=tag, author=author, date_from=date_from, date_to=date_to, status=status
    )
    if _is_postgresql():
        return _search_postgresql(posts, query, page, per_page)
    return _search_sqlite(posts, query, page, per_page)


def _truncate(query: str) -> str:
    """Cut an over-long query at a word boundary, so no half word is searched for."""
    if len(query) <= MAX_QUERY_LENGTH:
        return query
    cut = query[:MAX_QUERY_LENGTH + 1]
    return cut.rsplit(" ", 1)[0] if " " in cut else cut[:MAX_QUERY_LENGTH]


def _searchable_posts(user, *, category, tag, author, date_from, date_to, status):
    """Live posts in live topics that `user` may see, narrowed by the filters; no search yet."""
    posts = post_texts_readable_by(user, posts_visible_to(
        user, Post.objects.filter(deleted_at__isnull=True, topic__deleted_at__isnull=True)
    )).order_by()
    if category is not None:
        posts = posts.filter(Q(topic__category_id=category.pk) | Q(topic__category__parent_id=category.pk))
    if tag is not None:
        posts = posts.filter(topic_id__in=Topic.objects.filter(tags=tag).values("pk"))
    if author:
        posts = posts.filter(author__username=author)
    if date_from is not None:
        posts = posts.filter(created_at__gte=_start_of_day(date_from))
    if date_to is not None:
        posts = posts.filter(created_at__lt=_start_of_day(date_to + datetime.timedelta(days=1)))
    if status:
        if status not in STATUSES:
            raise ValueError(f"Unknown status {status!r}; use one of {STATUSES}.")
        if status == "open":
            posts = posts.filter(topic__closed=False, topic__archived=False)
        else:
            posts = posts.filter(**{f"topic__{status}": True})
    return posts


def _start_of_day(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _clamp_page(page: int, total: int, per_page: int) -> int:
    return min(page, max((total + per_page - 1) // per_page, 1))


def _marked_html(text: str) -> SafeString:
    """Escape `text`, then turn the highlight sentinels into balanced <mark> elements."""
    parts = []
    open_mark = False
    for piece in re.split(f"([{MARK_START}{MARK_STOP}])", text or ""):
        if piece == MARK_START:
            if not open_mark:
                parts.append("<mark>")
                open_mark = True
        elif piece == MARK_STOP:
            if open_mark:
                parts.append("</mark>")
                open_mark = False
        else:
            parts.append(escape(piece))
    if open_mark:
        parts.append("</mark>")
    return mark_safe("".join(parts))  # escaped text and our own tags only


def _load_posts(ids) -> dict:
    return Post.objects.select_related("topic", "topic__category", "author").in_bulk(ids)


# --- PostgreSQL -------------------------------------------------------------------

def _search_postgresql(posts, query: str, page: int, per_page: int) -> SearchPage:
    tsquery = SearchQuery(query, search_type="websearch", config=SEARCH_CONFIG)
    # The newest MAX_CANDIDATES + 1 matches with their rank.
    matching = posts.filter(search_vector=tsquery).annotate(rank=SearchRank(F("search_vector"), tsquery))
    candidates, searched = _newest_matches(matching.values_list("pk", "rank"), MAX_CANDIDATES + 1)
    more = len(candidates) > MAX_CANDIDATES
    partial = searched is not None and not more
    candidates = candidates[:MAX_CANDIDATES]
    total = len(candidates)
    page = _clamp_page(page, total, per_page)
    candidates.sort(key=lambda row: (-row[1], -row[0]))  # ties go to the newest
    ranked = candidates[(page - 1) * per_page:page * per_page]
    if not ranked:
        return SearchPage(results=[], total=0, page=1, per_page=per_page, partial=partial, searched=searched or 0)
    # Headlines re-parse the text, so only the page's posts get them.
    headline = {
        "config": SEARCH_CONFIG, "start_sel": MARK_START, "stop_sel": MARK_STOP,
    }
    found = (
        Post.objects.filter(pk__in=[row[0] for row in ranked])
        .select_related("topic", "topic__category", "author")
        .annotate(
            # One excerpt around the best match: fragment mode can shrink to the bare word on short posts.
            body_headline=SearchHeadline("raw", tsquery, max_words=35, min_words=15, **headline),
            title_headline=Case(
                When(number=1, then=SearchHeadline("topic__title", tsquery, highlight_all=True, **headline)),
                default=Value(""), output_field=TextField(),
            ),
        )
        .in_bulk()
    )
    results = []
    for pk, rank in ranked:
        post = found.get(pk)
        if post is None:  # deleted between the two queries
            continue
        results.append(SearchResult(
            post=post, rank=rank, snippet=_marked_html(post.body_headline),
            title_html=_marked_html(post.title_headline or post.topic.title),
        ))
    return SearchPage(results=results, total=total, page=page, per_page=per_page, more=more,
                      partial=partial, searched=searched or 0)


def _newest_matches(matching, limit: int) -> tuple[list, int | None]:
    """The newest `limit` rows of `matching` (ids grow with time), and None; or, when time ran out
    first, those found and how many of the newest post ids were searched.

    In one query over every post PostgreSQL walks the ids backwards and tests each post until
    enough match: quick for a word in most posts, but a word in one post of fifty made it test
    100,000 posts (90 ms at a million posts), and a phrase of two common words every post (3
    seconds: each test reads the post's vector, some 4 microseconds). So the newest posts are
    searched first, then older ranges for only what is still missing, and those queries stop when
    the search's time is up: a results page must come quickly, and the reader is told how far back
    it searched. At most three ranges, whatever the number of posts. Within a caller's transaction
    there is no time limit: a cancelled statement would abort the caller's work."""
    newest = Post.objects.order_by("-pk").values_list("pk", flat=True).first()
    if newest is None:
        return [], None
    started = time.monotonic()
    # The newest posts without a time limit: few enough to search in tens of milliseconds whatever
    # the query, so a search always shows what they hold.
    upper = newest - RECENT_POSTS
    found = list(matching.filter(pk__gt=upper).order_by("-pk")[:limit])
    for lower in (upper - OLDER_POSTS, 0):
        if len(found) >= limit or upper <= 0:
            break
        older = matching.filter(pk__lte=upper, pk__gt=lower) if lower > 0 else matching.filter(pk__lte=upper)
        older = older.order_by("-pk")[:limit - len(found)]
        if connection.in_atomic_block:
            found += older  # within a caller's transaction: no time limit
        else:
            left_ms = int(settings.SEARCH_TIME_LIMIT_MS - (time.monotonic() - started) * 1000)
            if left_ms < MIN_LIMIT_MS or not _run_within(left_ms, older, found):
                return found, newest - upper  # time is up: say how far back the search got
        upper = lower
    return found, None


def _run_within(milliseconds: int, rows, found: list) -> bool:
    """Add `rows` to `found` unless PostgreSQL cancels the query after `milliseconds` (False).

    Only in autocommit: the limit is set for the session, then put back. A timeout that fires as
    the cancelled query ends can cancel the next statement too (seen under load), so putting it
    back is tried again; if that still fails the connection is closed, and the next query opens
    a new one with the server's own setting."""
    with connection.cursor() as cursor:
        # The setting before is read first (the CTE runs before the outer select sets the new one).
        cursor.execute("WITH before AS MATERIALIZED (SELECT current_setting('statement_timeout') AS value) "
                       "SELECT value, set_config('statement_timeout', %s, false) FROM before", [f"{milliseconds}ms"])
        before = cursor.fetchone()[0]
        try:
            found += rows
            return True
        except OperationalError as error:
            if not _cancelled(error):
                raise
            return False
        finally:
            _put_back(cursor, before)


def _cancelled(error: OperationalError) -> bool:
    return getattr(error.__cause__, "pgcode", None) == QUERY_CANCELED


def _put_back(cursor, timeout: str) -> None:
    for _attempt in range(3):
        try:
            cursor.execute("SELECT set_config('statement_timeout', %s, false)", [timeout])
            return
        except OperationalError as error:
            if not _cancelled(error):
                raise
    connection.close()  # never leave a short limit on a connection that lives on


# --- SQLite -----------------------------------------------------------------------

def fts5_query(query: str) -> str:
    """`query` as FTS5 syntax that cannot fail: every word a quoted string, all of them required.

    Quotes and operators are taken as text, so SQLite has no phrases, OR or exclusion
    (PostgreSQL's websearch syntax has them).
    """
    words = [word for word in query.split() if re.search(r"\w", word)]
    return " ".join('"' + word.replace('"', '""') + '"' for word in words)


def _search_sqlite(posts, query: str, page: int, per_page: int) -> SearchPage:
    match = fts5_query(query)
    if not match:
        return SearchPage(results=[], total=0, page=1, per_page=per_page)
    # The permission filter as a correlated EXISTS, composed from the queryset's SQL and its own
    # parameters (never interpolated): each match is checked by primary key, newest first, and the
    # scan stops after MAX_CANDIDATES + 1, so a common word never reads every visible post.
    try:
        allowed_sql, allowed_params = (
            posts.filter(pk=RawSQL("forum_post_fts.rowid", ())).values("pk").query.sql_with_params()
        )
    except EmptyResultSet:  # the filter allows nothing (e.g. no category anybody may read)
        return SearchPage(results=[], total=0, page=1, per_page=per_page)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT forum_post_fts.rowid, bm25(forum_post_fts, 10.0, 1.0) FROM forum_post_fts "
            f"WHERE forum_post_fts MATCH %s AND EXISTS ({allowed_sql}) ORDER BY forum_post_fts.rowid DESC LIMIT %s",
            [match, *allowed_params, MAX_CANDIDATES + 1],
        )
        candidates = cursor.fetchall()
        more = len(candidates) > MAX_CANDIDATES
        candidates = candidates[:MAX_CANDIDATES]
        total = len(candidates)
        page = _clamp_page(page, total, per_page)
        # bm25 is lower for better matches; ties go to the newest (ids grow with time).
        candidates.sort(key=lambda row: (row[1], -row[0]))
        ranked = candidates[(page - 1) * per_page:page * per_page]
        if not ranked:
            return SearchPage(results=[], total=total, page=page, per_page=per_page, more=more)
        # Highlights only for the page: snippet() re-reads and re-tokenizes each post.
        ids = [pk for pk, _score in ranked]
        cursor.execute(
            "SELECT rowid, highlight(forum_post_fts, 0, %s, %s), snippet(forum_post_fts, 1, %s, %s, %s, 32) "
            f"FROM forum_post_fts WHERE forum_post_fts MATCH %s AND rowid IN ({', '.join(['%s'] * len(ids))})",
            [MARK_START, MARK_STOP, MARK_START, MARK_STOP, SNIPPET_ELLIPSIS, match, *ids],
        )
        highlights = {pk: (title, snippet) for pk, title, snippet in cursor.fetchall()}
    found = _load_posts(ids)
    results = []
    for pk, score in ranked:
        post = found.get(pk)
        if post is None or pk not in highlights:  # deleted between the queries
            continue
        title, snippet = highlights[pk]
        results.append(SearchResult(
            post=post, rank=-score, snippet=_marked_html(snippet),  # negated: higher is better on both backends
            title_html=_marked_html(title if post.number == 1 and title else post.topic.title),
        ))
    return SearchPage(results=results, total=total, page=page, per_page=per_page, more=more)
