"""Anonymous visitors while people write: throughput and page-cache hit rate of anonymous pages with
replies being posted, against a bare Django view on the same server.

    .venv/bin/python bench/mixed.py                      # the quick database of run.py --quick
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench .venv/bin/python bench/mixed.py --writes 1

It starts gunicorn as bench/run.py does (production settings, Redis cache, the anonymous page
cache on) and measures with wrk three rounds: nobody writing; --writes replies a second posted
through `forum.services.post_create` by this process (same database, same Redis, so its writes
make pages stale exactly as the site's would); and the same with every reply also making every
page stale, as all writes did before the cache had scopes (forum/pagecache.py).

- "topics": anonymous readers spread over --topics public topics' first pages;
- "lists": the home page, latest, top and the busiest category;
- "bare": /healthz/, a view that renders no template and reads one row (SELECT 1), for the ratio.

Replies go to random public topics of the whole database, as on a busy site. Each wrk run prints
the share of responses that were cache hits.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import run  # noqa: E402
from common import USERNAME, setup_django, vocabulary  # noqa: E402

BENCH = Path(__file__).resolve().parent


def wrk_paths(args, base: str, paths: list[str]) -> dict:
    command = ["wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{args.duration}s",
               "--timeout", "60s", "-s", str(BENCH / "wrk_paths.lua"), base, "--", *paths]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or done.stdout}")
    for line in done.stdout.splitlines():
        if line.startswith("BENCH_JSON "):
            figures = json.loads(line.removeprefix("BENCH_JSON "))
            figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
            figures["hit_rate"] = figures["hits"] / max(figures["responses"], 1)
            return figures
    raise RuntimeError(f"wrk printed no figures:\n{done.stdout}")


class Writer(threading.Thread):
    """Posts `rate` replies a second to random topics until stopped; counts what it wrote. With
    `everywhere`, each reply also makes every cached page stale, as every write did before the
    cache had scopes: the comparison the third round makes."""

    def __init__(self, rate: float, topic_ids: list[int], username: str, *, everywhere: bool = False):
        super().__init__(daemon=True)
        self.rate, self.topic_ids, self.username, self.everywhere = rate, topic_ids, username, everywhere
        self.stopping = threading.Event()
        self.written = self.failed = 0

    def run(self) -> None:
        from django.db import close_old_connections

        from forum import services
        from forum.models import User
        from forum.pagecache import invalidate

        writer = User.objects.get(username=self.username)
        rng = random.Random()
        words = vocabulary()
        interval = 1 / self.rate
        next_at = time.monotonic()
        while not self.stopping.is_set():
            try:
                # Words only: a long number may look like a phone or record number, and the identifier
                # check would hold the reply (a hold hides it, which makes every page stale).
                text = " ".join(rng.choices(words, k=12))
                services.post_create(actor=writer, topic_id=rng.choice(self.topic_ids),
                                     raw=f"A synthetic reply from bench/mixed.py: {text}.")
                self.written += 1
                if self.everywhere:
                    invalidate()
            except Exception as error:  # noqa: BLE001 (a refused reply is counted, the run goes on)
                self.failed += 1
                if self.failed == 1:
                    print(f"  note: a reply was refused: {error}", flush=True)
            close_old_connections()
            next_at += interval
            self.stopping.wait(max(0.0, next_at - time.monotonic()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=None, help=f"default: DATABASE_URL, else {run.QUICK_DATABASE_URL}")
    parser.add_argument("--redis-url", default=None, help=f"default: REDIS_URL, else {run.DEFAULT_REDIS_URL}")
    parser.add_argument("--port", type=int, default=8766)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--duration", type=int, default=20, help="seconds of wrk per run")
    parser.add_argument("--writes", type=float, default=1.0, help="replies a second in the second round")
    parser.add_argument("--topics", type=int, default=200, help="how many topics the readers spread over")
    parser.add_argument("--writer", default=USERNAME.format(1), help="who posts the replies")
    args = parser.parse_args()
    if not run.shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    args.database_url = args.database_url or os.environ.get("DATABASE_URL") or run.QUICK_DATABASE_URL
    args.redis_url = args.redis_url or os.environ.get("REDIS_URL") or run.DEFAULT_REDIS_URL
    env = run.production_env(args)
    if args.database_url == run.QUICK_DATABASE_URL:
        run.ensure_quick_database(args, env)
    os.environ.update(env)
    setup_django()
    subprocess.run([str(run.PYTHON), "manage.py", "collectstatic", "--noinput", "-v0"], cwd=run.ROOT, env=env,
                   check=True)

    from django.core.cache import cache
    from django.db.models import Count

    from forum.models import Category, Topic

    public = Topic.objects.filter(deleted_at__isnull=True, hidden_at__isnull=True,
                                  category__security=Category.Security.PUBLIC)
    all_ids = list(public.values_list("pk", flat=True))
    read = random.Random(2).sample(list(public.order_by("pk")[:5000]), min(args.topics, len(all_ids)))
    category = (Category.objects.filter(security=Category.Security.PUBLIC, parent__isnull=True)
                .annotate(n=Count("topics")).order_by("-n").first())
    sets = {
        "topics": [topic.get_absolute_url() for topic in read],
        "lists": ["/", "/latest/", "/top/", category.get_absolute_url()],
        "bare": ["/healthz/"],
    }
    cache.clear()
    base = f"http://127.0.0.1:{args.port}"
    log_path = Path("/tmp/bench-mixed-gunicorn.log")
    server = run.start_gunicorn(args, env, log_path)
    rows = []
    try:
        rounds = [(0.0, False), (args.writes, False), (args.writes, True)]
        for rate, everywhere in rounds:
            writer = Writer(rate, all_ids, args.writer, everywhere=everywhere) if rate else None
            label = f"{rate:g}" + (" (every page stale)" if everywhere else "")
            cache.clear()  # each round starts with every page freshly stored (pages live ANONYMOUS_PAGE_CACHE_SECONDS)
            for name, paths in sets.items():
                for path in paths:  # every page once: each run starts from a warm cache
                    run.fetch(base + path)
                if writer is not None and not writer.is_alive():
                    writer.start()
                figures = wrk_paths(args, base, paths)
                rows.append((name, label, figures))
                print(f"  {name:<7} {label} writes/s: {figures['rps']:7.0f} req/s, hits {figures['hit_rate']:.0%}, "
                      f"p50 {figures['p50_us'] / 1000:.1f} ms, p95 {figures['p95_us'] / 1000:.1f} ms", flush=True)
            if writer is not None:
                writer.stopping.set()
                writer.join()
                print(f"  the writer posted {writer.written} replies ({writer.failed} refused)", flush=True)
    finally:
        run.stop_gunicorn(server)
    bare = {label: figures["rps"] for name, label, figures in rows if name == "bare"}
    print("\n| pages | replies/s | req/s | cache hits | p50 ms | p95 ms | of /healthz/ |")
    print("|---|---|---|---|---|---|---|")
    for name, label, figures in rows:
        print(f"| {name} | {label} | {figures['rps']:.0f} | {figures['hit_rate']:.0%} | "
              f"{figures['p50_us'] / 1000:.1f} | {figures['p95_us'] / 1000:.1f} | {figures['rps'] / bare[label]:.0%} |")


if __name__ == "__main__":
    main()
