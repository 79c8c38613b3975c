"""Seed a large synthetic forum for the page benchmarks (bench/run.py).

    createdb -h 127.0.0.1 -U postgres helpdesk_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/seed.py --topics 100000 --posts-per-topic 10 --users 5000

It writes to the database in DATABASE_URL and refuses one that already holds topics,
so give it an empty scratch database. Everything is obviously synthetic: people are
"Bench User 123" (username bench_user_123, password in bench/common.py), text is random
words from a fixed made-up vocabulary.

On PostgreSQL rows go in with COPY, in transactions of about 50,000 posts, with explicit
ids; posts pass through a temporary table so that their search vector is computed in
the same INSERT (the expression of forum/migrations/0004 and forum.search.index_posts)
instead of a second pass over the table. Other databases use bulk_create and then
forum.search.rebuild_index(). Every denormalized counter is computed from the rows
written, and --verify (on by default) checks them against the tables afterwards.
"""
import argparse
import io
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    CATEGORY_SLUG,
    DISPLAY_NAME,
    PASSWORD,
    TAG_PREFIX,
    USERNAME,
    setup_django,
    vocabulary,
    zipf_cum_weights,
)

setup_django()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.contrib.auth.models import Group  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.html import escape  # noqa: E402
from django.utils.text import slugify  # noqa: E402
from taggit.models import Tag, TaggedItem  # noqa: E402

from forum import pagecache, search  # noqa: E402
from forum.models import (  # noqa: E402
    Category,
    Post,
    PostLike,
    PostRevision,
    TermsAcceptance,
    Topic,
    TopicRead,
    User,
)
from forum.permissions import ROLE_GROUP_NAMES, Role  # noqa: E402
from forum.selectors import terms_current  # noqa: E402
from forum.services import roles_sync  # noqa: E402

POSTS_PER_TRANSACTION = 50_000
TOKEN_POOL = 2_000_000  # words drawn once (Zipf-weighted); each text is a slice of it

TOPIC_FIELDS = [
    "id", "category_id", "title", "slug", "author_id", "created_at", "last_posted_at", "last_poster_id",
    "post_count", "last_post_number", "like_count", "view_count", "pinned", "pinned_globally", "closed",
    "archived", "deleted_at", "deleted_by_id",
]
POST_FIELDS = [
    "id", "topic_id", "author_id", "number", "reply_to_id", "raw", "html", "created_at", "updated_at",
    "like_count", "revision_count", "edited_at", "deleted_at", "deleted_by_id",
]
REVISION_FIELDS = ["post_id", "number", "editor_id", "created_at", "raw", "title", "reason"]
LIKE_FIELDS = ["user_id", "post_id", "created_at"]
READ_FIELDS = ["user_id", "topic_id", "last_read_number", "first_read_at", "updated_at"]
TAGGED_FIELDS = ["tag_id", "content_type_id", "object_id"]

_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_value(value) -> str:
    if value is None:
        return "\\N"
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)


class Writer:
    """Appends rows to tables: COPY on PostgreSQL, bulk_create elsewhere."""

    def __init__(self):
        self.copy = connection.vendor == "postgresql"

    def write(self, model, fields: list[str], rows: list[tuple], table: str | None = None) -> None:
        if not rows:
            return
        if not self.copy:
            model.objects.bulk_create((model(**dict(zip(fields, row, strict=True))) for row in rows), batch_size=2000)
            return
        columns = ", ".join(model._meta.get_field(name).column for name in fields)
        buffer = io.StringIO()
        buffer.writelines("\t".join(map(_copy_value, row)) + "\n" for row in rows)
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(f"COPY {table or model._meta.db_table} ({columns}) FROM STDIN", buffer)

    def write_posts(self, rows: list[tuple], with_search_vector: bool) -> None:
        """Posts, with their search vector computed in the same INSERT on PostgreSQL."""
        if not self.copy or not with_search_vector:
            self.write(Post, POST_FIELDS, rows)
            return
        self.write(Post, POST_FIELDS, rows, table="bench_post_stage")
        columns = ", ".join(POST_FIELDS)
        selected = ", ".join(f"s.{name}" for name in POST_FIELDS)
        with connection.cursor() as cursor:
            # Deleted posts stay out of the index, as forum.search.index_posts leaves them.
            cursor.execute(
                f"INSERT INTO forum_post ({columns}, search_vector) SELECT {selected}, "
                "CASE WHEN s.deleted_at IS NULL THEN "
                "setweight(to_tsvector(%s::regconfig, CASE WHEN s.number = 1 THEN t.title ELSE '' END), 'A') || "
                "setweight(to_tsvector(%s::regconfig, s.raw), 'B') END "
                "FROM bench_post_stage AS s JOIN forum_topic AS t ON t.id = s.topic_id",
                [search.SEARCH_CONFIG, search.SEARCH_CONFIG],
            )
            cursor.execute("TRUNCATE bench_post_stage")


class Texts:
    """Synthetic titles and posts: slices of one long Zipf-distributed word stream."""

    def __init__(self, rng: random.Random):
        words = vocabulary()
        self.rng = rng
        self.pool = rng.choices(words, cum_weights=zipf_cum_weights(len(words)), k=TOKEN_POOL)

    def _words(self, count: int) -> list[str]:
        start = self.rng.randrange(len(self.pool) - count)
        return self.pool[start:start + count]

    def title(self) -> str:
        words = self._words(self.rng.randint(4, 10))
        return " ".join(words).capitalize() + ("?" if self.rng.random() < 0.4 else "")

    def post(self) -> tuple[str, str]:
        """Raw text and its HTML: one to three paragraphs, 8 to 200 words, about 45 on average."""
        count = min(max(int(self.rng.expovariate(1 / 40)) + 8, 8), 200)
        words = self._words(count)
        paragraphs = []
        step = max(count // self.rng.randint(1, 3), 1)
        for start in range(0, count, step):
            chunk = " ".join(words[start:start + step])
            if chunk:
                paragraphs.append(chunk.capitalize() + ".")
        raw = "\n\n".join(paragraphs)
        html = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in paragraphs)
        return raw, html


def _next_id(model) -> int:
    last = model.objects.order_by("-pk").values_list("pk", flat=True).first()
    return (last or 0) + 1


def create_people(n_users: int, now: datetime) -> list[int]:
    """Members who accepted the current terms (so no page redirects them), all with PASSWORD."""
    terms = terms_current()
    password = make_password(PASSWORD)  # hashed once: hashing per user would take minutes
    joined = now - timedelta(days=3 * 365)
    users = User.objects.bulk_create(
        (
            User(
                username=USERNAME.format(n), email=f"{USERNAME.format(n)}@example.invalid",
                display_name=DISPLAY_NAME.format(n), password=password, date_joined=joined,
                affiliation=f"Bench Institute {n % 40}",
                accepted_terms_version=terms.version if terms else "", accepted_terms_at=joined if terms else None,
            )
            for n in range(1, n_users + 1)
        ),
        batch_size=2000,
    )
    if terms is not None:
        TermsAcceptance.objects.bulk_create(
            (TermsAcceptance(user=user, terms_version=terms, accepted_at=joined) for user in users), batch_size=5000
        )
    roles_sync()
    # A few volunteers and requesters, as on the real site; none a moderator (they need two-factor sign-in).
    for role, step in ((Role.VOLUNTEER, 3), (Role.REQUESTER, 5)):
        group = Group.objects.get(name=ROLE_GROUP_NAMES[role])
        group.user_set.add(*users[::step])
    return [user.pk for user in users]


def create_categories(n_categories: int) -> list[Category]:
    """One read-only and one private category, the rest public; the last quarter are subcategories."""
    team = Group.objects.get(name=ROLE_GROUP_NAMES[Role.ANONYMIZATION])
    n_children = n_categories // 4
    categories = []
    for n in range(1, n_categories + 1):
        security = Category.Security.PUBLIC
        if n == 2:
            security = Category.Security.READ_ONLY
        elif n == 3:
            security = Category.Security.PRIVATE
        parent = None
        if n > n_categories - n_children:
            parent = categories[(n - (n_categories - n_children) - 1) % max(n_categories - n_children, 1)]
            if parent.parent_id is not None or parent.security == Category.Security.PRIVATE:
                parent = categories[0]
        category = Category.objects.create(
            name=f"Bench Category {n}", slug=CATEGORY_SLUG.format(n), position=n, security=security, parent=parent,
            description=f"Synthetic category {n} for benchmarks.",
        )
        if security != Category.Security.PUBLIC:
            category.groups.add(team)
        categories.append(category)
    return categories


def create_tags(n_tags: int) -> list[int]:
    words = vocabulary()
    names = [f"{TAG_PREFIX}{words[n % len(words)]}{'' if n < len(words) else n}" for n in range(n_tags)]
    return [tag.pk for tag in Tag.objects.bulk_create(Tag(name=name, slug=name) for name in names)]


def post_counts(rng: random.Random, n_topics: int, posts_per_topic: float) -> list[int]:
    """Posts per topic, exactly n_topics * posts_per_topic in all: one each, the rest heavy-tailed."""
    counts = [1] * n_topics
    weights = [rng.paretovariate(1.7) for _ in range(n_topics)]
    for index in rng.choices(range(n_topics), weights=weights, k=round(n_topics * (posts_per_topic - 1))):
        counts[index] += 1
    return counts


def seed(args, rng: random.Random) -> dict:
    now = timezone.now()
    started = time.perf_counter()
    with transaction.atomic():
        user_ids = create_people(args.users, now)
        categories = create_categories(args.categories)
        tag_ids = create_tags(args.tags)
    print(f"{len(user_ids)} people, {len(categories)} categories, {len(tag_ids)} tags "
          f"in {time.perf_counter() - started:.1f} s", flush=True)

    texts = Texts(rng)
    writer = Writer()
    user_weights = zipf_cum_weights(len(user_ids), 0.8)
    tag_weights = zipf_cum_weights(len(tag_ids), 0.9)
    category_weights = zipf_cum_weights(len(categories), 0.7)
    topic_content_type = ContentType.objects.get_for_model(Topic).pk
    like_continue = args.likes_per_post / (1 + args.likes_per_post)  # geometric number of likes per post

    n_topics = args.topics
    counts = post_counts(rng, n_topics, args.posts_per_topic)
    span = timedelta(days=args.days).total_seconds()
    # Topic ids follow creation time, as on a real forum.
    offsets = sorted(rng.uniform(0, span) for _ in range(n_topics))
    topic_categories = rng.choices(categories, cum_weights=category_weights, k=n_topics)
    pinned_globally = set(rng.sample(range(n_topics), min(3, n_topics)))
    pinned = {rng.choice([i for i, c in enumerate(topic_categories) if c.pk == category.pk] or [0])
              for category in categories}

    topic_id = first_topic_id = _next_id(Topic)
    post_id = first_post_id = _next_id(Post)
    start_time = now - timedelta(seconds=span)
    chunk = max(POSTS_PER_TRANSACTION // max(int(args.posts_per_topic), 1), 1)
    with_vector = args.index == "sql"
    if writer.copy:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")  # a scratch database: durability of this session only
            if with_vector:
                cursor.execute(
                    "CREATE TEMPORARY TABLE IF NOT EXISTS bench_post_stage (LIKE forum_post INCLUDING DEFAULTS)"
                )
    totals = {"topics": 0, "posts": 0, "likes": 0, "reads": 0, "tags": 0}
    loop_started = time.perf_counter()
    for chunk_start in range(0, n_topics, chunk):
        topics, posts, revisions, likes, reads, tagged = [], [], [], [], [], []
        for index in range(chunk_start, min(chunk_start + chunk, n_topics)):
            n_posts = counts[index]
            created = start_time + timedelta(seconds=offsets[index])
            # Replies arrive over up to 30 days, never in the future.
            window = min((now - created).total_seconds(), rng.uniform(0, 30 * 86400))
            times = [created] + [created + timedelta(seconds=s) for s in sorted(
                rng.uniform(0, window) for _ in range(n_posts - 1))]
            authors = rng.choices(user_ids, cum_weights=user_weights, k=n_posts)
            topic_deleted = rng.random() < 0.005
            title = texts.title()
            live_posts = like_total = 0
            readers: dict[int, list] = {}  # user id -> [last number read, first read, last read]
            topic_post_ids = []
            for number in range(1, n_posts + 1):
                author, at = authors[number - 1], times[number - 1]
                raw, html = texts.post()
                deleted = (number == 1 and topic_deleted) or (number > 1 and rng.random() < 0.02)
                reply_to = rng.choice(topic_post_ids) if number > 1 and rng.random() < 0.1 else None
                n_likes = 0
                if not deleted:
                    live_posts += 1
                if not deleted and not topic_deleted:
                    while rng.random() < like_continue and n_likes < 25:
                        n_likes += 1
                    likers = {u for u in rng.choices(user_ids, cum_weights=user_weights, k=n_likes) if u != author}
                    n_likes = len(likers)
                    liked_at = min(at + timedelta(minutes=rng.uniform(1, 600)), now)
                    likes.extend((u, post_id, liked_at) for u in likers)
                    like_total += n_likes
                deleted_at = at + timedelta(minutes=5) if deleted else None
                posts.append((
                    post_id, topic_id, author, number, reply_to, raw, html, at, at, n_likes, 1, None,
                    deleted_at, author if deleted else None,
                ))
                revisions.append((post_id, 1, author, at, raw, title if number == 1 else "", ""))
                seen = readers.setdefault(author, [number, at, at])
                seen[0], seen[2] = number, at  # posting moves your read position to your post
                topic_post_ids.append(post_id)
                post_id += 1
            for _ in range(args.reads_per_topic):  # people who read without posting
                reader = rng.choice(user_ids)
                number = rng.randint(1, n_posts)
                if reader not in readers:
                    readers[reader] = [number, times[number - 1], times[number - 1]]
            reads.extend((user, topic_id, n, first, last) for user, (n, first, last) in readers.items())
            tag_count = rng.choice((0, 1, 1, 2, 2, 3, 4))
            for tag in set(rng.choices(tag_ids, cum_weights=tag_weights, k=tag_count)):
                tagged.append((tag, topic_content_type, topic_id))
            last_author = authors[-1]
            topics.append((
                topic_id, topic_categories[index].pk, title, slugify(title)[:200] or "topic", authors[0], created,
                times[-1], last_author, live_posts, n_posts, like_total, len(readers),
                index in pinned, index in pinned_globally, rng.random() < 0.05, rng.random() < 0.02,
                created + timedelta(minutes=5) if topic_deleted else None, authors[0] if topic_deleted else None,
            ))
            topic_id += 1
        with transaction.atomic():
            writer.write(Topic, TOPIC_FIELDS, topics)
            writer.write(TaggedItem, TAGGED_FIELDS, tagged)
            writer.write_posts(posts, with_search_vector=with_vector)
            writer.write(PostRevision, REVISION_FIELDS, revisions)
            writer.write(PostLike, LIKE_FIELDS, likes)
            writer.write(TopicRead, READ_FIELDS, reads)
        for key, rows in (("topics", topics), ("posts", posts), ("likes", likes), ("reads", reads), ("tags", tagged)):
            totals[key] += len(rows)
        elapsed = time.perf_counter() - loop_started
        done = totals["topics"] / n_topics
        print(f"  {totals['topics']:>9,} topics {totals['posts']:>10,} posts {totals['likes']:>9,} likes "
              f"{totals['reads']:>10,} reads  {elapsed:7.1f} s  ~{elapsed / done - elapsed:5.0f} s to go", flush=True)

    if writer.copy:
        with connection.cursor() as cursor:
            for table in ("forum_topic", "forum_post"):  # ids were given explicitly
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))")
            cursor.execute("DROP TABLE IF EXISTS bench_post_stage")
    totals["insert_seconds"] = time.perf_counter() - started
    print(f"Inserted in {totals['insert_seconds']:.1f} s", flush=True)
    totals["first_topic_id"], totals["first_post_id"] = first_topic_id, first_post_id

    if not with_vector:
        indexing = time.perf_counter()
        indexed = search.rebuild_index()
        totals["index_seconds"] = time.perf_counter() - indexing
        print(f"forum.search.rebuild_index(): {indexed:,} posts in {totals['index_seconds']:.1f} s "
              f"({indexed / max(totals['index_seconds'], 1e-9):,.0f} posts/s)", flush=True)
    if connection.vendor == "postgresql":
        vacuum = time.perf_counter()
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")  # as autovacuum would have by now on a real site
        print(f"VACUUM ANALYZE in {time.perf_counter() - vacuum:.1f} s", flush=True)
    pagecache.invalidate()  # a running server must not keep serving pages of the empty forum
    return totals


def verify(sample: int = 200) -> list[str]:
    """Denormalized counters and search vectors against the rows; returns the problems found."""
    problems = []
    live = (
        "SELECT topic_id, COUNT(*) AS n, SUM(like_count) AS likes FROM forum_post WHERE deleted_at IS NULL GROUP BY 1"
    )
    checks = {
        "post_count = live posts, like_count = likes of live posts": (
            f"SELECT COUNT(*) FROM forum_topic t LEFT JOIN ({live}) AS p ON p.topic_id = t.id "
            "WHERE t.post_count <> COALESCE(p.n, 0) OR t.like_count <> COALESCE(p.likes, 0)"
        ),
        "last_post_number = highest number = number of posts (numbers are dense)": (
            "SELECT COUNT(*) FROM forum_topic t LEFT JOIN (SELECT topic_id, COUNT(*) AS n, MAX(number) AS top "
            "FROM forum_post GROUP BY 1) AS p ON p.topic_id = t.id "
            "WHERE p.top IS NULL OR t.last_post_number <> p.top OR t.last_post_number <> p.n"
        ),
        "last_posted_at and last_poster = last post": (
            "SELECT COUNT(*) FROM forum_topic t LEFT JOIN forum_post p ON p.topic_id = t.id "
            "AND p.number = t.last_post_number "
            "WHERE p.id IS NULL OR p.created_at <> t.last_posted_at OR p.author_id <> t.last_poster_id"
        ),
        "post like_count = likes": (
            "SELECT COUNT(*) FROM forum_post p LEFT JOIN (SELECT post_id, COUNT(*) AS n FROM forum_postlike "
            "GROUP BY 1) AS l ON l.post_id = p.id WHERE p.like_count <> COALESCE(l.n, 0)"
        ),
        "view_count = readers": (
            "SELECT COUNT(*) FROM forum_topic t LEFT JOIN (SELECT topic_id, COUNT(*) AS n FROM forum_topicread "
            "GROUP BY 1) AS r ON r.topic_id = t.id WHERE t.view_count <> COALESCE(r.n, 0)"
        ),
        "one first revision per post": (
            "SELECT COUNT(*) FROM forum_post p LEFT JOIN forum_postrevision r ON r.post_id = p.id AND r.number = 1 "
            "WHERE r.id IS NULL"
        ),
    }
    with connection.cursor() as cursor:
        for name, sql in checks.items():
            cursor.execute(sql)
            wrong = cursor.fetchone()[0]
            if wrong:
                problems.append(f"{name}: {wrong} rows disagree")
    if connection.vendor == "postgresql":
        # The vectors written by the seeder must be exactly those forum.search writes.
        ids = list(Post.objects.order_by("?").values_list("pk", flat=True)[:sample])
        before = dict(Post.objects.filter(pk__in=ids).values_list("pk", "search_vector"))
        with transaction.atomic():
            search.index_posts(ids)
            after = dict(Post.objects.filter(pk__in=ids).values_list("pk", "search_vector"))
            transaction.set_rollback(True)
        differing = [pk for pk in ids if before[pk] != after[pk]]
        if differing:
            problems.append(f"search vectors differ from forum.search.index_posts for posts {differing[:5]}")
    return problems


def database_size() -> str:
    if connection.vendor != "postgresql":
        return "n/a"
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        return cursor.fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--topics", type=int, default=2000)
    parser.add_argument("--posts-per-topic", type=float, default=10, help="average; the first post included")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--categories", type=int, default=16)
    parser.add_argument("--tags", type=int, default=300)
    parser.add_argument("--likes-per-post", type=float, default=0.5, help="average over live posts")
    parser.add_argument("--reads-per-topic", type=int, default=3, help="readers who do not post, per topic")
    parser.add_argument("--days", type=int, default=730, help="how far back the forum goes")
    parser.add_argument("--index", choices=("sql", "rebuild"), default="sql",
                        help="sql: search vectors computed while inserting (PostgreSQL); "
                             "rebuild: forum.search.rebuild_index() afterwards (always used on SQLite)")
    parser.add_argument("--no-verify", dest="verify", action="store_false", help="skip the consistency checks")
    parser.add_argument("--seed", type=int, default=42, help="random seed, for repeatable data")
    args = parser.parse_args()
    if args.posts_per_topic < 1 or args.topics < 1 or args.users < 2 or args.categories < 3:
        parser.error("need at least 1 topic, 1 post per topic, 2 users and 3 categories")
    if connection.vendor != "postgresql":
        args.index = "rebuild"

    existing = Topic.objects.count()
    if existing:
        sys.exit(f"The database holds {existing} topics already; seed an empty scratch database.")
    print(f"Seeding {connection.vendor} database {connection.settings_dict['NAME']}: {args.topics:,} topics, "
          f"~{round(args.topics * args.posts_per_topic):,} posts, {args.users:,} people", flush=True)
    started = time.perf_counter()
    totals = seed(args, random.Random(args.seed))
    print(f"Done in {time.perf_counter() - started:.1f} s: {totals['topics']:,} topics, {totals['posts']:,} posts, "
          f"{totals['likes']:,} likes, {totals['reads']:,} read positions, {totals['tags']:,} topic tags; "
          f"database size {database_size()}", flush=True)
    if args.verify:
        checking = time.perf_counter()
        problems = verify()
        for problem in problems:
            print(f"INCONSISTENT: {problem}")
        print(f"Consistency checks {'failed' if problems else 'passed'} in {time.perf_counter() - checking:.1f} s")
        if problems:
            sys.exit(1)


if __name__ == "__main__":
    main()
