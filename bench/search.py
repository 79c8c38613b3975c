"""Search latency: seed N synthetic posts, index them, then time varied searches through `search_posts`.

    createdb -h 127.0.0.1 -U postgres helpdesk_bench_search
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_search python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_search python bench/search.py --posts 50000

It writes to the database it is given, so give it a scratch one. Seeding is skipped when the
database already holds the posts. All text is obviously synthetic: random words from a made-up
vocabulary of medical and data terms.
"""
import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import AnonymousUser, Group  # noqa: E402
from django.contrib.contenttypes.models import ContentType  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.utils import timezone  # noqa: E402
from django.utils.html import escape  # noqa: E402
from taggit.models import Tag, TaggedItem  # noqa: E402

from forum.models import Category, Post, Topic, User  # noqa: E402
from forum.search import rebuild_index, search_posts  # noqa: E402

BASE_WORDS = """
patient cohort biopsy tumour lesion cardiac renal hepatic pulmonary neural retina plasma serum sample
assay genome exome transcript protein enzyme antibody antigen marker receptor ligand pathway mutation
variant allele phenotype genotype lineage clone cell tissue organ imaging scan slice voxel pixel signal
noise artifact contrast dose therapy trial placebo control outcome survival hazard risk ratio odds
regression model mixed effects random forest network layer epoch batch gradient loss accuracy recall
precision specificity sensitivity threshold curve cluster embedding dimension component variance mean
median quantile outlier missing impute normalise scale filter smooth align merge join pivot table
column row schema record consent ethics anonymise identifier hospital clinic ward nurse physician
radiology pathology oncology cardiology neurology paediatric geriatric chronic acute infection fever
pressure glucose insulin lipid cholesterol platelet leukocyte erythrocyte haemoglobin microbiome
sequencing alignment coverage depth read pair library barcode spike calibration replicate pipeline
workflow notebook script package version dependency container cluster queue memory storage archive
""".split()
PREFIXES = "cardio neuro hepato nephro osteo myo haemo immuno onco geno proteo metabo pharmaco radio histo".split()
SUFFIXES = "logy genic pathy metric scope graphy cyte plasty lysis trophy gram mics stasis kinase ase".split()
SYLLABLES = "ba ce di fo gu ha ke li mo nu pa re si to vu ze ra lo mi ne".split()


def vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    """Real-looking domain words first (they become the frequent ones), then made-up compounds."""
    words = list(dict.fromkeys(BASE_WORDS + [p + s for p in PREFIXES for s in SUFFIXES]))
    while len(words) < size:
        word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) + rng.choice(SUFFIXES)
        if word not in words:
            words.append(word)
    return words


def text(rng: random.Random, words: list[str], weights: list[float], low: int, high: int) -> str:
    return " ".join(rng.choices(words, weights=weights, k=rng.randint(low, high))).capitalize() + "."


@transaction.atomic
def seed(n_posts: int, rng: random.Random) -> None:
    """Bulk-insert people, categories (some private), tagged topics and `n_posts` posts, then index them."""
    words = vocabulary(rng)
    weights = [1 / (rank + 1) for rank in range(len(words))]  # Zipf-like: a few words are everywhere
    users = User.objects.bulk_create(
        User(username=f"bench{n}", email=f"bench{n}@example.org", password="!", display_name=f"Bench Person {n}")
        for n in range(300)
    )
    team, _ = Group.objects.get_or_create(name="Anonymization team")
    categories = [Category.objects.create(name=f"Bench public {n}", slug=f"bench-public-{n}") for n in range(8)]
    categories += [
        Category.objects.create(name=f"Bench child {n}", slug=f"bench-child-{n}", parent=categories[n])
        for n in range(4)
    ]
    for n in range(2):
        private = Category.objects.create(
            name=f"Bench private {n}", slug=f"bench-private-{n}", security=Category.Security.PRIVATE,
        )
        private.groups.add(team)
        categories.append(private)
    tags = Tag.objects.bulk_create(Tag(name=f"bench-tag-{n}", slug=f"bench-tag-{n}") for n in range(40))

    now = timezone.now()
    n_topics = max(n_posts // 8, 1)
    topics = []
    for n in range(n_topics):
        created = now - timedelta(days=rng.uniform(0, 3 * 365))
        title = text(rng, words, weights, 3, 10)[:200]
        topics.append(Topic(
            category=rng.choice(categories), title=title, slug=f"bench-{n}", author=rng.choice(users),
            created_at=created, last_posted_at=created, closed=rng.random() < 0.1, archived=rng.random() < 0.05,
        ))
    topics = Topic.objects.bulk_create(topics, batch_size=2000)
    content_type = ContentType.objects.get_for_model(Topic)
    TaggedItem.objects.bulk_create(
        (TaggedItem(tag=tag, content_type=content_type, object_id=topic.pk)
         for topic in topics for tag in rng.sample(tags, rng.randint(0, 3))),
        batch_size=5000,
    )

    # Every topic gets its first post; the rest are spread at random as replies.
    counts = [1] * len(topics)
    for _ in range(n_posts - len(topics)):
        counts[rng.randrange(len(topics))] += 1
    batch = []
    for topic, count in zip(topics, counts, strict=True):
        for number in range(1, count + 1):
            raw = text(rng, words, weights, 15, 180)
            created = topic.created_at + timedelta(hours=number - 1)
            batch.append(Post(
                topic=topic, author=rng.choice(users), number=number, raw=raw, html=f"<p>{escape(raw)}</p>",
                created_at=created, updated_at=created,
                deleted_at=created if number > 1 and rng.random() < 0.02 else None,
            ))
        if len(batch) >= 5000:
            Post.objects.bulk_create(batch)
            batch = []
    Post.objects.bulk_create(batch)
    for topic, count in zip(topics, counts, strict=True):
        topic.post_count = topic.last_post_number = count
    Topic.objects.bulk_update(topics, ["post_count", "last_post_number"], batch_size=2000)


KINDS = ["frequent word", "frequent word", "rare word", "two words", "phrase", "word in a category",
         "tag and status", "author and dates"]


def searches(rng: random.Random, n: int) -> list[tuple[str, dict]]:
    """Varied searches: common and rare words, several words, phrases, each filter, three kinds of reader."""
    words = vocabulary(random.Random(1))
    member = User.objects.filter(username__startswith="bench").order_by("pk").first()
    moderator_like = User.objects.filter(username__startswith="bench").order_by("-pk").first()
    team = Group.objects.get(name="Anonymization team")
    moderator_like.groups.add(team)  # reads the private categories through the group
    moderator_like = User.objects.get(pk=moderator_like.pk)
    readers = [AnonymousUser(), member, moderator_like]
    categories = list(Category.objects.filter(slug__startswith="bench-public"))
    tags = list(Tag.objects.filter(slug__startswith="bench-tag"))
    authors = list(User.objects.filter(username__startswith="bench")[:50])
    today = timezone.localdate()
    runs = []
    for i in range(n):
        kind = i % 8
        if kind in (0, 1):
            query = rng.choice(words[:60])  # frequent words: many matches to rank
        elif kind == 2:
            query = rng.choice(words[1000:])  # rare words
        elif kind == 3:
            query = " ".join(rng.sample(words[:400], 2))
        elif kind == 4:
            query = '"' + " ".join(rng.sample(words[:100], 2)) + '"'
        else:
            query = " ".join(rng.sample(words[:300], rng.randint(1, 3)))
        filters = {}
        if kind == 5:
            filters["category"] = rng.choice(categories)
        elif kind == 6:
            filters["tag"] = rng.choice(tags)
            filters["status"] = rng.choice(["open", "closed", "archived"])
        elif kind == 7:
            filters["author"] = rng.choice(authors).username
            filters["date_from"] = today - timedelta(days=rng.randint(30, 900))
            filters["date_to"] = today
        runs.append((KINDS[kind], {"user": readers[i % 3], "query": query, "page": 1 + (i % 5 == 0), **filters}))
    return runs


def time_searches(runs: list[tuple[str, dict]]) -> list[tuple[str, float, bool]]:
    """(kind, milliseconds, whether time ran out before every post was searched) per search."""
    for _kind, run in runs[:10]:  # warm the connection and caches
        search_posts(**run)
    timings = []
    for kind, run in runs:
        start = time.perf_counter()
        page = search_posts(**run)
        timings.append((kind, (time.perf_counter() - start) * 1000, page.partial))
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--searches", type=int, default=200)
    parser.add_argument("--seed", type=int, default=42, help="random seed, for repeatable data and searches")
    args = parser.parse_args()
    rng = random.Random(args.seed)

    existing = Post.objects.count()
    if existing >= args.posts:
        print(f"{existing} posts already there; not seeding.")
    else:
        if existing:
            sys.exit(f"The database holds {existing} posts; use an empty scratch database.")
        start = time.perf_counter()
        seed(args.posts, rng)
        print(f"Seeded {Post.objects.count()} posts in {time.perf_counter() - start:.1f} s.")
        start = time.perf_counter()
        indexed = rebuild_index()
        print(f"Indexed {indexed} posts in {time.perf_counter() - start:.1f} s.")
        if connection.vendor == "postgresql":
            # Reindexing rewrote every row: reclaim them and refresh statistics, as autovacuum would.
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE forum_post")
                cursor.execute("ANALYZE")

    timed = time_searches(searches(rng, args.searches))
    for kind in dict.fromkeys(KINDS):
        ms = [t for k, t, _partial in timed if k == kind]
        partial = sum(1 for k, _t, cut in timed if k == kind and cut)
        print(f"  {kind:<20} median {statistics.median(ms):6.1f} ms, max {max(ms):6.1f} ms, "
              f"cut short {partial} of {len(ms)}")
    timings = [t for _kind, t, _partial in timed]
    p95 = statistics.quantiles(timings, n=20)[18]
    print(f"{connection.vendor}: {len(timings)} searches over {Post.objects.count()} posts: "
          f"median {statistics.median(timings):.1f} ms, p95 {p95:.1f} ms, max {max(timings):.1f} ms; "
          f"{sum(1 for *_rest, cut in timed if cut)} cut short by the time limit")


if __name__ == "__main__":
    main()
