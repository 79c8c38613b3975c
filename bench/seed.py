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

Then a share of the live topics in public categories (--requests, 20% by default) become
data requests (requests_board): a mix of states by age, deadlines for about a third,
claims by volunteers within the active-claim limit, progress updates and results that are
existing replies by the claimant, the history of each, and expertise tags for most
volunteers (see create_requests). `--requests-only` adds them to a forum seeded before.
"""
import argparse
import io
import json
import random
import sys
import time
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (  # noqa: E402
    CATEGORY_SLUG,
    DISPLAY_NAME,
    PASSWORD,
    TAG_PREFIX,
    USERNAME,
    VOLUNTEER,
    setup_django,
    vocabulary,
    zipf_cum_weights,
)

setup_django()

from django.conf import settings  # noqa: E402
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
from requests_board.models import Claim, DataRequest, ProgressUpdate, RequestEvent, Result  # noqa: E402

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
REVISION_FIELDS = ["post_id", "number", "editor_id", "created_at", "raw", "title", "reason", "hidden"]
LIKE_FIELDS = ["user_id", "post_id", "created_at"]
READ_FIELDS = ["user_id", "topic_id", "last_read_number", "first_read_at", "updated_at"]
TAGGED_FIELDS = ["tag_id", "content_type_id", "object_id"]
REQUEST_FIELDS = [
    "id", "author_id", "topic_id", "category_id", "title", "question", "modality", "data_size", "data_links",
    "result_description", "result_type", "deadline", "expertise", "serves_covid", "patient_data",
    "needs_anonymization", "cleared_at", "state", "accepted_result_id", "close_reason", "created_at", "updated_at",
    "published_at", "first_claimed_at", "accepted_at",
]
CLAIM_FIELDS = [
    "id", "data_request_id", "volunteer_id", "role", "part", "plan", "expected_date", "status", "created_at",
    "last_activity_at", "reminded_at", "ended_at", "ended_by_id",
]
RESULT_FIELDS = ["id", "data_request_id", "post_id", "author_id", "repository_url", "license", "created_at",
                 "accepted_at"]
UPDATE_FIELDS = ["data_request_id", "post_id", "created_at"]
EVENT_FIELDS = ["data_request_id", "actor_id", "kind", "from_state", "to_state", "subject_id", "detail", "created_at"]

REQUEST_SHARE = 0.2  # default --requests: this share of the topics carries a data request
RECENT_REQUEST_DAYS = 45
# Life-cycle states wanted, by the request's age; a state a topic cannot support falls back (see create_requests).
RECENT_STATES = {"open": 40, "claimed": 20, "in_progress": 20, "delivered": 12, "accepted": 8}
LATELY_ANSWERED_STATES = {"open": 10, "claimed": 10, "in_progress": 45, "delivered": 25, "accepted": 10}
OLDER_STATES = {"open": 30, "claimed": 8, "in_progress": 4, "delivered": 3, "accepted": 45, "withdrawn": 10}
MODALITIES = {"tabular": 40, "imaging": 20, "sequences": 15, "text": 15, "other": 10}
DATA_SIZES = {"small": 35, "medium": 30, "large": 15, "huge": 5, "unknown": 15}
RESULT_TYPES = {"answer": 35, "figure": 20, "dataset": 20, "software": 15, "model": 10}
LINK_HOSTS = ("https://zenodo.org/records/{}", "https://figshare.com/articles/dataset/bench/{}",
              "https://github.com/bench-lab/data-{}", "https://osf.io/bench{}")
CLOSE_REASONS = ("Duplicate of an earlier request.", "Answered elsewhere in the forum.",
                 "No reply from the requester for months.")

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
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, (list, dict)):
        return json.dumps(value).translate(_COPY_ESCAPES)
    return str(value)


def with_defaults(model, fields: list[str], rows: list[tuple]) -> tuple[list[str], list[tuple]]:
    """`fields` and `rows` plus the model's defaults for the NOT NULL columns they leave out.

    Django fills defaults in Python, not in the table, so a COPY naming only some columns leaves the
    others NULL: this keeps the seeder working when a model gains a field (Post.hidden,
    DataRequest.data_license, Result.repository_license came after it was written)."""
    listed = set(fields)
    missing = [
        field for field in model._meta.concrete_fields
        if not field.null and not field.primary_key and field.name not in listed and field.attname not in listed
    ]
    if not missing:
        return fields, rows
    defaults = tuple(field.get_default() for field in missing)
    return fields + [field.attname for field in missing], [row + defaults for row in rows]


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
        fields, rows = with_defaults(model, fields, rows)
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
        fields, rows = with_defaults(Post, POST_FIELDS, rows)
        self.write(Post, fields, rows, table="bench_post_stage")
        columns = ", ".join(Post._meta.get_field(name).column for name in fields)
        selected = ", ".join(f"s.{Post._meta.get_field(name).column}" for name in fields)
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

    def sentence(self, low: int = 6, high: int = 20) -> str:
        return " ".join(self._words(self.rng.randint(low, high))).capitalize() + "."

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


def _pick(rng: random.Random, weights: dict) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def create_requests(n_requests: int, rng: random.Random, now: datetime, texts: Texts, writer: Writer) -> dict:
    """Data requests on `n_requests` live topics of public categories, with their claims, progress updates,
    results and history, and expertise tags for the volunteers.

    A request is its topic: same author, category, title and first post (the question), published when the
    topic was created. States depend on age (recent requests are mostly open or being worked on, older ones
    mostly solved) and on the topic: progress updates and results are existing replies by a volunteer other
    than the requester, so a request is in progress, delivered or accepted only when its topic has such a
    reply, and its lead claimant is that reply's author. Active claims respect REQUESTS_MAX_ACTIVE_CLAIMS and
    were active within the reminder and release periods, as if the expiry task had been running; some open
    requests carry an expired or given-up claim in their history. VOLUNTEER gets three popular expertise tags,
    the most active claims allowed and a few ended ones.
    """
    started = time.perf_counter()
    limit = settings.REQUESTS_MAX_ACTIVE_CLAIMS
    remind_after = timedelta(days=settings.REQUESTS_CLAIM_REMIND_AFTER_DAYS)
    quiet_for = remind_after + timedelta(days=settings.REQUESTS_CLAIM_RELEASE_AFTER_DAYS)
    fresh_since = now - quiet_for + timedelta(hours=12)  # active claims were active after this
    volunteers = list(
        User.objects.filter(groups__name=ROLE_GROUP_NAMES[Role.VOLUNTEER]).order_by("pk").values_list("pk", flat=True)
    )
    if not volunteers:
        raise SystemExit("No volunteers to claim requests.")
    volunteer_set = set(volunteers)
    volunteer_weights = zipf_cum_weights(len(volunteers), 0.8)
    bench_volunteer = User.objects.filter(username=VOLUNTEER, pk__in=volunteers).values_list("pk", flat=True).first()

    candidates = list(
        Topic.objects.filter(deleted_at__isnull=True, category__security=Category.Security.PUBLIC).order_by("pk")
        .values_list("pk", "category_id", "title", "author_id", "created_at", "closed")
    )
    chosen = sorted(rng.sample(candidates, min(n_requests, len(candidates))))  # in creation order, as ids go
    requesters = {topic[0]: topic[3] for topic in chosen}
    questions = {}
    replies = defaultdict(list)  # topic id -> [(time, post id, author)]: live replies by volunteers, oldest first
    topic_ids = list(requesters)
    for start in range(0, len(topic_ids), 5000):
        rows = (
            Post.objects.filter(topic_id__in=topic_ids[start:start + 5000], deleted_at__isnull=True)
            .order_by("topic_id", "number").values_list("topic_id", "number", "created_at", "pk", "author_id", "raw")
        )
        for topic_id, number, at, post_id, author, raw in rows.iterator(chunk_size=20_000):
            if number == 1:
                questions[topic_id] = raw
            elif author in volunteer_set and author != requesters[topic_id]:
                replies[topic_id].append((at, post_id, author))

    active = defaultdict(int)  # volunteer -> active claims
    request_id = _next_id(DataRequest)
    next_ids = {"claim": _next_id(Claim), "result": _next_id(Result)}
    requests, claims, results, updates, events = [], [], [], [], []
    states = defaultdict(int)
    bench_ended = 0

    def may_claim(volunteer, requester) -> bool:
        return volunteer != requester and active[volunteer] < limit

    def some_volunteer(requester, exclude=()):
        if bench_volunteer not in exclude and bench_volunteer and may_claim(bench_volunteer, requester):
            return bench_volunteer
        for _ in range(20):
            volunteer = rng.choices(volunteers, cum_weights=volunteer_weights)[0]
            if volunteer not in exclude and may_claim(volunteer, requester):
                return volunteer
        return None

    def between(start, end):
        return start + (max(end, start) - start) * rng.random()

    def claim(rid, volunteer, role, created, last_activity, status="active", reminded_at=None, ended_at=None,
              ended_by=None):
        if status == "active":
            active[volunteer] += 1
            if now - last_activity > remind_after:
                reminded_at = last_activity + remind_after
        expected = (created + timedelta(days=rng.uniform(7, 45))).date() if rng.random() < 0.5 else None
        claims.append((next_ids["claim"], rid, volunteer, role, "", texts.sentence(8, 30), expected, status, created,
                       last_activity, reminded_at, ended_at, ended_by))
        next_ids["claim"] += 1

    def event(rid, actor, kind, at, from_state="", to_state="", subject=None, detail=""):
        events.append((rid, actor, kind, from_state, to_state, subject, detail, at))

    for topic_id, category_id, title, requester, published, closed in chosen:
        rid = request_id
        request_id += 1
        modality, data_size, result_type = _pick(rng, MODALITIES), _pick(rng, DATA_SIZES), _pick(rng, RESULT_TYPES)
        patient = "no" if rng.random() < 0.9 else rng.choice(("yes", "unsure"))
        drafted = published - timedelta(seconds=rng.uniform(300, 86400))
        event(rid, requester, "created", drafted, to_state="draft")
        event(rid, requester, "published", published, "draft", "open")
        cleared_at = None
        if patient != "no":  # went to the anonymization team first, cleared, then moved to its public category
            event(rid, requester, "sent_to_anonymization", published)
            cleared_at = min(published + timedelta(minutes=rng.uniform(30, 2880)), now)
            event(rid, None, "cleared", cleared_at)
        available = cleared_at or published  # volunteers could claim it from then on

        usable = [reply for reply in replies.get(topic_id, ()) if reply[0] > available]
        lately = [reply for reply in usable if reply[0] > fresh_since and may_claim(reply[2], requester)]
        if closed:
            state = "closed"
        elif lately:  # a volunteer wrote lately: most likely about their work on it
            state = _pick(rng, LATELY_ANSWERED_STATES)
        else:
            state = _pick(rng, RECENT_STATES if now - published < timedelta(days=RECENT_REQUEST_DAYS) else OLDER_STATES)
        post = None  # the reply that is the result (delivered, accepted) or the progress update (in progress)
        if state == "accepted":
            if usable:
                post = usable[-1]
            else:
                state = "open"  # nobody answered
        elif state in ("in_progress", "delivered"):
            if lately:
                post = lately[-1]
            elif state == "delivered" and usable and usable[0][0] <= fresh_since:
                # Delivered long ago, never accepted: the claim has since expired.
                post = [reply for reply in usable if reply[0] <= fresh_since][-1]
            else:
                state = "claimed"
        lead = post[2] if post else None
        if state == "claimed":
            lead = some_volunteer(requester)
            if lead is None:
                state = "open"
        states[state] += 1

        updated, first_claimed, accepted_at, accepted_result, close_reason = available, None, None, None, ""
        if lead is not None:
            if post is None:
                created = between(max(available, fresh_since), now)
                last_activity = created
            else:
                claimed_before = post[0] - timedelta(seconds=rng.uniform(3600, 5 * 86400))
                created = min(max(available + timedelta(minutes=5), claimed_before), post[0])
                last_activity = post[0]
            first_claimed = updated = created
            event(rid, lead, "claimed", created, "open", "claimed")
            if state == "in_progress":
                updates.append((rid, post[1], post[0]))
                event(rid, lead, "updated", post[0], "claimed", "in_progress")
                updated = post[0]
            elif state in ("delivered", "accepted"):
                before = "claimed"
                earlier = [reply for reply in usable if reply[2] == lead and created < reply[0] < post[0]]
                if earlier:
                    updates.append((rid, earlier[-1][1], earlier[-1][0]))
                    event(rid, lead, "updated", earlier[-1][0], "claimed", "in_progress")
                    before = "in_progress"
                if state == "accepted":
                    accepted_at = min(post[0] + timedelta(seconds=rng.uniform(3600, 7 * 86400)), now)
                    accepted_result = next_ids["result"]
                results.append((
                    next_ids["result"], rid, post[1], lead, rng.choice(LINK_HOSTS).format(next_ids["result"]),
                    "CC-BY-SA-4.0" if result_type == "dataset" else "BSD-3-Clause", post[0], accepted_at,
                ))
                next_ids["result"] += 1
                event(rid, lead, "delivered", post[0], before, "delivered")
                updated = post[0]
            if state == "accepted":
                event(rid, requester, "accepted", accepted_at, "delivered", "accepted", subject=lead)
                claim(rid, lead, "lead", created, last_activity, status="completed", ended_at=accepted_at,
                      ended_by=requester)
                updated = accepted_at
            elif last_activity < fresh_since:  # delivered, then quiet: expired (the request stays delivered)
                reminded, ended = last_activity + remind_after, last_activity + quiet_for
                claim(rid, lead, "lead", created, last_activity, status="expired", reminded_at=reminded,
                      ended_at=ended)
                event(rid, None, "reminded", reminded, subject=lead)
                event(rid, None, "expired", ended, subject=lead)
                updated = ended
            else:
                claim(rid, lead, "lead", created, last_activity)
                helper = some_volunteer(requester, exclude={lead}) if rng.random() < 0.1 else None
                if helper is not None:
                    joined = between(max(created, fresh_since), now)
                    claim(rid, helper, "collaborator", joined, joined)
                    event(rid, helper, "joined", joined)
        elif state == "open" and now - available > timedelta(days=30) and rng.random() < 0.12:
            # Claimed once, then given up or expired: open again.
            if bench_volunteer and bench_ended < 5 and bench_volunteer != requester:
                volunteer, bench_ended = bench_volunteer, bench_ended + 1
            else:
                volunteer = rng.choices(volunteers, cum_weights=volunteer_weights)[0]
            if volunteer != requester:
                created = available + timedelta(seconds=rng.uniform(3600, 10 * 86400))
                first_claimed = created
                event(rid, volunteer, "claimed", created, "open", "claimed")
                if rng.random() < 0.6:
                    reminded, ended = created + remind_after, created + quiet_for
                    claim(rid, volunteer, "lead", created, created, status="expired", reminded_at=reminded,
                          ended_at=ended)
                    event(rid, None, "reminded", reminded, subject=volunteer)
                    event(rid, None, "expired", ended, subject=volunteer)
                    actor = None
                else:
                    ended = created + timedelta(seconds=rng.uniform(86400, 6 * 86400))
                    claim(rid, volunteer, "lead", created, created, status="unclaimed", ended_at=ended,
                          ended_by=volunteer)
                    event(rid, volunteer, "unclaimed", ended, subject=volunteer)
                    actor = volunteer
                event(rid, actor, "released", ended, "claimed", "open", detail="open again: nobody holds a claim")
                updated = ended
        elif state == "withdrawn":
            updated = min(available + timedelta(seconds=rng.uniform(86400, 30 * 86400)), now)
            event(rid, requester, "withdrawn", updated, "open", "withdrawn")
        elif state == "closed":
            updated = min(available + timedelta(seconds=rng.uniform(86400, 60 * 86400)), now)
            close_reason = rng.choice(CLOSE_REASONS)
            event(rid, None, "closed", updated, "open", "closed", detail=close_reason)

        deadline = (published + timedelta(days=rng.randint(7, 120))).date() if rng.random() < 0.35 else None
        links = [rng.choice(LINK_HOSTS).format(rid * 10 + n) for n in range(rng.choice((0, 1, 1, 1, 2)))]
        requests.append((
            rid, requester, topic_id, category_id, title, questions.get(topic_id, ""), modality, data_size, links,
            texts.sentence(10, 30), result_type, deadline, "", rng.random() < 0.3, patient, patient != "no",
            cleared_at, state, accepted_result, close_reason, drafted, updated, published, first_claimed,
            accepted_at,
        ))

    user_type = ContentType.objects.get_for_model(User).pk
    tag_ids = list(Tag.objects.filter(name__startswith=TAG_PREFIX).order_by("pk").values_list("pk", flat=True))
    tag_weights = zipf_cum_weights(len(tag_ids), 0.9)  # tags were created most used first (create_tags)
    expertise = []
    experts = set(TaggedItem.objects.filter(content_type_id=user_type).values_list("object_id", flat=True))
    for volunteer in volunteers:
        if volunteer in experts:
            continue
        if volunteer == bench_volunteer:
            picked = {tag_ids[rank] for rank in (0, 4, 12) if rank < len(tag_ids)}
        elif tag_ids and rng.random() < 0.75:
            picked = set(rng.choices(tag_ids, cum_weights=tag_weights, k=rng.randint(1, 4)))
        else:
            continue
        expertise.extend((tag, user_type, volunteer) for tag in picked)

    with transaction.atomic():  # requests and results point at each other: the foreign keys are deferred
        writer.write(DataRequest, REQUEST_FIELDS, requests)
        writer.write(Claim, CLAIM_FIELDS, claims)
        writer.write(Result, RESULT_FIELDS, results)
        writer.write(ProgressUpdate, UPDATE_FIELDS, updates)
        writer.write(RequestEvent, EVENT_FIELDS, events)
        writer.write(TaggedItem, TAGGED_FIELDS, expertise)
        if writer.copy and requests:
            with connection.cursor() as cursor:
                for model in (DataRequest, Claim, Result):  # ids were given explicitly
                    table = model._meta.db_table
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT MAX(id) FROM {table}))"
                    )
    totals = {
        "requests": len(requests), "claims": len(claims), "results": len(results), "updates": len(updates),
        "request_events": len(events), "expertise_tags": len(expertise),
        "request_states": dict(sorted(states.items(), key=lambda item: -item[1])),
        "requests_seconds": time.perf_counter() - started,
    }
    print(f"{len(requests):,} data requests ({', '.join(f'{n:,} {s}' for s, n in totals['request_states'].items())}), "
          f"{len(claims):,} claims, {len(results):,} results, {len(updates):,} progress updates, "
          f"{len(events):,} history events, {len(expertise):,} expertise tags on {len(volunteers):,} volunteers "
          f"in {totals['requests_seconds']:.1f} s", flush=True)
    return totals


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
                revisions.append((post_id, 1, author, at, raw, title if number == 1 else "", "", False))
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
    if args.requests:
        totals.update(create_requests(args.requests, random.Random(f"requests-{args.seed}"), now, texts, writer))
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
    return problems + verify_requests()


def verify_requests() -> list[str]:
    """The requests' life cycle against their claims, results and progress updates; returns the problems found."""
    request, claim, result, update = (
        model._meta.db_table for model in (DataRequest, Claim, Result, ProgressUpdate)
    )
    checks = {
        "claimed and in-progress requests have one active lead, delivered ones at most one, others no active claim": (
            f"SELECT COUNT(*) FROM {request} r LEFT JOIN (SELECT data_request_id, COUNT(*) AS n, "
            f"SUM(CASE WHEN role = 'lead' THEN 1 ELSE 0 END) AS leads FROM {claim} WHERE status = 'active' "
            "GROUP BY 1) AS c ON c.data_request_id = r.id "
            "WHERE (r.state IN ('claimed', 'in_progress') AND COALESCE(c.leads, 0) <> 1) "
            "OR (r.state = 'delivered' AND COALESCE(c.leads, 0) <> CASE WHEN c.n > 0 THEN 1 ELSE 0 END) "
            "OR (r.state NOT IN ('claimed', 'in_progress', 'delivered') AND COALESCE(c.n, 0) > 0)"
        ),
        f"nobody holds more than {settings.REQUESTS_MAX_ACTIVE_CLAIMS} active claims": (
            f"SELECT COUNT(*) FROM (SELECT volunteer_id FROM {claim} WHERE status = 'active' GROUP BY 1 "
            f"HAVING COUNT(*) > {int(settings.REQUESTS_MAX_ACTIVE_CLAIMS)}) AS v"
        ),
        "results are live posts of their author in the request's topic": (
            f"SELECT COUNT(*) FROM {result} x JOIN {request} r ON r.id = x.data_request_id "
            "JOIN forum_post p ON p.id = x.post_id "
            "WHERE p.topic_id <> r.topic_id OR p.author_id <> x.author_id OR p.deleted_at IS NOT NULL"
        ),
        "progress updates are live posts of a claimant in the request's topic": (
            f"SELECT COUNT(*) FROM {update} u JOIN {request} r ON r.id = u.data_request_id "
            "JOIN forum_post p ON p.id = u.post_id "
            f"WHERE p.topic_id <> r.topic_id OR p.deleted_at IS NOT NULL OR NOT EXISTS (SELECT 1 FROM {claim} c "
            "WHERE c.data_request_id = r.id AND c.volunteer_id = p.author_id)"
        ),
        "accepted requests, and only they, have an accepted result of their own": (
            f"SELECT COUNT(*) FROM {request} r LEFT JOIN {result} x ON x.id = r.accepted_result_id "
            "WHERE (r.state = 'accepted') <> (x.id IS NOT NULL AND x.data_request_id = r.id "
            "AND x.accepted_at IS NOT NULL AND r.accepted_at IS NOT NULL)"
        ),
        "delivered requests have a result, claimed and open ones none": (
            f"SELECT COUNT(*) FROM {request} r WHERE (r.state = 'delivered' AND NOT EXISTS (SELECT 1 FROM {result} x "
            "WHERE x.data_request_id = r.id)) OR (r.state IN ('open', 'claimed') AND EXISTS (SELECT 1 "
            f"FROM {result} x WHERE x.data_request_id = r.id))"
        ),
    }
    problems = []
    with connection.cursor() as cursor:
        for name, sql in checks.items():
            cursor.execute(sql)
            wrong = cursor.fetchone()[0]
            if wrong:
                problems.append(f"{name}: {wrong} rows disagree")
    return problems


def bench_volunteer_summary() -> str:
    """What run.py's volunteer will see on "my claims" and "matches for me"."""
    from requests_board import selectors

    user = User.objects.filter(username=VOLUNTEER).first()
    if user is None:
        return f"no user {VOLUNTEER}"
    tags = selectors.expertise_tags(user=user)
    slugs = [tag.slug for tag in tags]
    return (f"{VOLUNTEER}: expertise {', '.join(slugs) or 'none'}; {len(selectors.my_claims(user=user))} active "
            f"claims, {len(selectors.my_ended_claims(user=user))} ended ones shown; "
            f"{selectors.matches_for(user=user, tag_ids=[tag.pk for tag in tags]).count():,} matching open requests")


def check(problems: list[str], started: float) -> None:
    for problem in problems:
        print(f"INCONSISTENT: {problem}")
    print(f"Consistency checks {'failed' if problems else 'passed'} in {time.perf_counter() - started:.1f} s")
    if problems:
        sys.exit(1)


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
    parser.add_argument("--requests", type=int, default=None,
                        help="data requests, on live topics of public categories "
                             f"(default: {REQUEST_SHARE * 100:.0f}%% of the topics)")
    parser.add_argument("--requests-only", action="store_true",
                        help="add data requests (and volunteers' expertise) to a database seeded without them")
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
    if args.requests_only:
        add_requests(args, existing)
        return
    if args.requests is None:
        args.requests = round(args.topics * REQUEST_SHARE)
    if existing:
        sys.exit(f"The database holds {existing} topics already; seed an empty scratch database "
                 "(or add data requests to it with --requests-only).")
    print(f"Seeding {connection.vendor} database {connection.settings_dict['NAME']}: {args.topics:,} topics, "
          f"~{round(args.topics * args.posts_per_topic):,} posts, {args.users:,} people", flush=True)
    started = time.perf_counter()
    totals = seed(args, random.Random(args.seed))
    print(f"Done in {time.perf_counter() - started:.1f} s: {totals['topics']:,} topics, {totals['posts']:,} posts, "
          f"{totals['likes']:,} likes, {totals['reads']:,} read positions, {totals['tags']:,} topic tags, "
          f"{totals.get('requests', 0):,} data requests; database size {database_size()}", flush=True)
    print(bench_volunteer_summary(), flush=True)
    if args.verify:
        checking = time.perf_counter()
        check(verify(), checking)


def add_requests(args, existing_topics: int) -> None:
    """--requests-only: data requests on a forum seeded before seed.py made them."""
    if not existing_topics:
        sys.exit("The database has no topics: seed it first (without --requests-only).")
    if DataRequest.objects.exists():
        sys.exit("The database has data requests already.")
    n_requests = args.requests if args.requests is not None else round(existing_topics * REQUEST_SHARE)
    print(f"Adding {n_requests:,} data requests to {connection.settings_dict['NAME']} "
          f"({existing_topics:,} topics)", flush=True)
    rng = random.Random(f"requests-{args.seed}")
    writer = Writer()
    if writer.copy:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
    create_requests(n_requests, rng, timezone.now(), Texts(rng), writer)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (DataRequest, Claim, Result, ProgressUpdate, RequestEvent, TaggedItem):
                cursor.execute(f"VACUUM ANALYZE {model._meta.db_table}")
    pagecache.invalidate()
    print(bench_volunteer_summary(), flush=True)
    if args.verify:
        checking = time.perf_counter()
        check(verify_requests(), checking)


if __name__ == "__main__":
    main()
