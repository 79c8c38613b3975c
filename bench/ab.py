"""Before and after, interleaved: render the same pages with two checkouts of the project, in turns,
and compare the median render time and the queries of each page.

    git worktree add /tmp/before <commit>
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench REDIS_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/ab.py --before /tmp/before --user bench_user_2 / /latest/ /c/bench-category-1/

This machine's speed drifts by a third within minutes (a shared virtual machine), so two runs of
`run.py` an hour apart do not compare; turns of a few renders each, before and after alternating,
see the same drift. Each checkout renders in its own process with production settings and the page
cache off (every render is a miss), signed in as --user when given, after one render to warm the
caches a running site keeps warm (sessions, permissions, counts). Both checkouts must run on the
same database (migrated by the newer: added indexes do not hurt the older code).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# As common.LOCAL_ENV: production settings, the page cache off.
LOCAL_ENV = {
    "DEBUG": "false", "SECRET_KEY": "bench-only-not-secret-" + "x" * 40, "ALLOWED_HOSTS": "127.0.0.1",
    "SECURE_SSL_REDIRECT": "false", "SESSION_COOKIE_SECURE": "false", "CSRF_COOKIE_SECURE": "false",
    "LOG_LEVEL": "WARNING", "ANONYMOUS_PAGE_CACHE_SECONDS": "0", "STATIC_ROOT": "/tmp/helpdesk-bench-static",
    "DJANGO_SETTINGS_MODULE": "config.settings",
}


def worker(args) -> None:
    """In the checkout given as the working directory: render each page `--renders` times, print JSON."""
    sys.path.insert(0, os.getcwd())
    import time

    import django

    django.setup()
    from django.db import connection
    from django.test import Client

    from forum.models import User

    client = Client(HTTP_HOST="127.0.0.1")
    if args.user:
        client.force_login(User.objects.get(username=args.user))
    results = {}
    for url in args.urls:
        client.get(url)  # warm
        connection.force_debug_cursor = True  # log the queries (DEBUG is off); the request clears the log first
        status = client.get(url).status_code
        queries = len(connection.queries_log)
        connection.force_debug_cursor = False
        timings = []
        for _ in range(args.renders):
            started = time.perf_counter()
            client.get(url)
            timings.append((time.perf_counter() - started) * 1000)
        results[url] = {"status": status, "queries": queries, "ms": timings}
    print(json.dumps(results))


def run_turn(tree: Path, args) -> dict:
    env = {**os.environ, **{k: v for k, v in LOCAL_ENV.items() if k not in os.environ}}
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", "--renders", str(args.renders), *args.urls]
    if args.user:
        command += ["--user", args.user]
    finished = subprocess.run(command, cwd=tree, env=env, capture_output=True, text=True, check=False)
    if finished.returncode:
        sys.exit(f"{tree}: {finished.stderr[-2000:]}")
    return json.loads(finished.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--before", type=Path, help="the older checkout (a git worktree)")
    parser.add_argument("--after", type=Path, default=ROOT, help="the newer checkout (default: this one)")
    parser.add_argument("--user", help="sign in as this username")
    parser.add_argument("--renders", type=int, default=10, help="renders per page in each turn")
    parser.add_argument("--turns", type=int, default=3, help="turns of each checkout, alternating")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args)
        return
    if args.before is None:
        parser.error("--before is required")
    if not (Path(LOCAL_ENV["STATIC_ROOT"]) / "staticfiles.json").exists():
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=args.after,
                       env={**os.environ, **LOCAL_ENV}, check=True)
    collected = {"before": {}, "after": {}}
    for _turn in range(args.turns):
        for name, tree in (("before", args.before), ("after", args.after)):
            for url, found in run_turn(tree, args).items():
                seen = collected[name].setdefault(url, {"ms": [], "queries": found["queries"],
                                                        "status": found["status"]})
                seen["ms"] += found["ms"]
    print(f"Signed in as {args.user}" if args.user else "Anonymous, page cache off")
    print("| page | queries before → after | median ms before → after | change |")
    print("|---|---:|---:|---:|")
    for url in args.urls:
        before, after = collected["before"][url], collected["after"][url]
        b, a = statistics.median(before["ms"]), statistics.median(after["ms"])
        statuses = ""
        if not before["status"] == after["status"] == 200:
            statuses = f" (status {before['status']} → {after['status']})"
        print(f"| `{url}`{statuses} | {before['queries']} → {after['queries']} | {b:.1f} → {a:.1f} | "
              f"{100 * (a - b) / b:+.0f}% |")


if __name__ == "__main__":
    main()
