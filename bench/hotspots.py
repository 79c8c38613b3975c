"""Where one page's time goes: renders it many times in this process under cProfile and splits the
time by the code that spent it (the database driver, the ORM building SQL, templates, our apps...).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench_quick \\
        .venv/bin/python bench/hotspots.py /latest/ /c/bench-category-1/ --user bench_user_2 --renders 50

The pages are rendered with Django's test client, without the anonymous page cache, signed in as
--user when given (anonymous otherwise), like bench/explain.py. Profiling slows Python down about
twice, the database not at all: read the shares, not the milliseconds. `--top N` also lists the N
functions that spent the most time themselves.
"""
import argparse
import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import setup_page_rendering  # noqa: E402

# The first matching fragment of a function's file names its share; order matters (specific first).
BUCKETS = [
    ("database driver (SQL round trips)", ("psycopg2", "sqlite3", "django/db/backends/")),
    ("ORM: building SQL", ("django/db/models/sql/", "django/db/models/expressions", "django/db/models/lookups",
                           "django/db/models/query_utils", "django/db/models/fields/related_lookups")),
    ("ORM: rows to objects", ("django/db/models/query.py", "django/db/models/base.py",
                              "django/db/models/fields/")),
    ("templates", ("django/template/", "django/templatetags/", "django/utils/html", "django/utils/safestring",
                   "django/utils/formats", "django/utils/dateformat", "django/utils/numberformat")),
    ("translations", ("django/utils/translation", "gettext")),
    ("URLs (reverse)", ("django/urls/",)),
    ("sessions, auth, middleware, request", ("django/contrib/", "django/middleware/", "django/core/handlers/",
                                              "django/http/", "django/test/", "allauth", "whitenoise")),
    ("our code", ("/forum/", "/requests_board/", "/anonymization/", "/licensing/", "/config/")),
    ("other Django", ("django/",)),
]


def bucket_of(filename: str) -> str:
    for label, fragments in BUCKETS:
        if any(fragment in filename for fragment in fragments):
            return label
    return "Python and other libraries"


def profile_page(client, url: str, renders: int, top: int) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # warm connections and caches
    timings = []
    for _ in range(renders):  # plain timings first: the profile's overhead would distort them
        started = time.perf_counter()
        response = client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    connection.queries_log.clear()  # a full log (9,000 entries) would capture nothing
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    # Read now: every request clears the connection's query log (Django's request_started signal).
    queries, sql_ms = len(captured), sum(float(query["time"]) for query in captured) * 1000
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(renders):
        client.get(url)
    profiler.disable()
    stats = pstats.Stats(profiler)
    shares: dict[str, float] = {}
    total = 0.0
    for (filename, _line, name), (_calls, _primitive, own, _cumulative, callers) in stats.stats.items():
        total += own
        if filename != "~":
            shares[bucket_of(filename)] = shares.get(bucket_of(filename), 0.0) + own
        elif "psycopg2" in name or "sqlite3" in name:
            shares[BUCKETS[0][0]] = shares.get(BUCKETS[0][0], 0.0) + own
        else:  # a built-in (getattr, isinstance...): its time counts for the code that called it
            for (caller_file, _caller_line, _caller_name), timing in callers.items():
                label = bucket_of(caller_file) if caller_file != "~" else "Python and other libraries"
                shares[label] = shares.get(label, 0.0) + timing[2]
    print(f"\n{url}: status {response.status_code}, {queries} queries ({sql_ms:.1f} ms in SQL as the driver "
          f"reports it), median {statistics.median(timings):.1f} ms over {renders} renders")
    for label, seconds in sorted(shares.items(), key=lambda pair: -pair[1]):
        print(f"  {100 * seconds / total:5.1f}%  {label}")
    if top:
        print(f"  the {top} functions that spent the most time themselves:")
        stats.sort_stats("tottime")
        ranked = sorted(stats.stats.items(), key=lambda pair: -pair[1][2])[:top]
        for (filename, line, name), (calls, _primitive, own, _cumulative, _callers) in ranked:
            short = filename.split("site-packages/")[-1].replace(str(Path(__file__).resolve().parent.parent), "")
            print(f"    {100 * own / total:5.1f}%  {calls:7d} calls  {name} ({short}:{line})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--user", help="sign in as this username")
    parser.add_argument("--renders", type=int, default=30, help="renders per page, timed and then profiled")
    parser.add_argument("--top", type=int, default=0, help="also list the N most expensive functions")
    args = parser.parse_args()
    setup_page_rendering()

    from django.test import Client

    from forum.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    if args.user:
        client.force_login(User.objects.get(username=args.user))
    print(f"Signed in as {args.user}" if args.user else "Anonymous (the page cache is off: every render is a miss)")
    for url in args.urls:
        profile_page(client, url, args.renders, args.top)


if __name__ == "__main__":
    main()
