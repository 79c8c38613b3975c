"""Show every SQL query one page runs, with its time and, optionally, PostgreSQL's EXPLAIN ANALYZE.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench .venv/bin/python bench/explain.py /latest/
    ... bench/explain.py /u/bench_user_1/ --user bench_user_2 --analyze --slower-than 5

The page is rendered in this process with Django's test client, without the anonymous
page cache, signed in as --user when given. EXPLAIN ANALYZE runs each query again
(read-only pages only: it executes the statement).
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import setup_page_rendering  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("url")
    parser.add_argument("--user", help="sign in as this username")
    parser.add_argument("--analyze", action="store_true", help="EXPLAIN ANALYZE each (slow enough) query")
    parser.add_argument("--slower-than", type=float, default=0, help="only queries slower than this, in ms")
    args = parser.parse_args()
    setup_page_rendering()

    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from forum.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    if args.user:
        client.force_login(User.objects.get(username=args.user))
    client.get(args.url)  # warm connections and caches
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(args.url)
        elapsed = (time.perf_counter() - started) * 1000
    total_sql = sum(float(query["time"]) for query in captured) * 1000
    print(f"{args.url}: status {response.status_code}, {len(captured)} queries, {total_sql:.1f} ms in SQL "
          f"of {elapsed:.1f} ms")
    for number, query in enumerate(captured, 1):
        ms = float(query["time"]) * 1000
        if ms < args.slower_than:
            continue
        print(f"\n-- {number}: {ms:.1f} ms\n{query['sql']}")
        if args.analyze and connection.vendor == "postgresql" and query["sql"].lstrip().upper().startswith("SELECT"):
            with connection.cursor() as cursor:
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                print("\n".join(row[0] for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
