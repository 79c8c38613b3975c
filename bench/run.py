"""Measure the main pages served by gunicorn: requests/s, median and 95th-percentile latency, SQL queries.

    # quick: creates, migrates and seeds helpdesk_bench_quick (2,000 topics x 10 posts) when needed
    .venv/bin/python bench/run.py --quick

    # a database seeded with bench/seed.py
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/helpdesk_bench .venv/bin/python bench/run.py

It starts `gunicorn config.wsgi -w 2` on 127.0.0.1 with production settings (DEBUG off,
Redis cache and sessions, the anonymous page cache on; only the HTTPS redirect and
secure cookies are off, for plain HTTP on loopback), then drives every page with wrk,
as an anonymous visitor (served from the page cache after the first request), signed
in as a bench user, and anonymously with the page cache off (every request rendered).
The requests board's "my claims" and "matches" are measured signed in only, as a
volunteer (--volunteer), and its dashboard anonymously only.
The REST API's list endpoints (/api/v1/...) are measured anonymously (the API has no page
cache) and with a read token of the bench user ("token": `Authorization: Token <key>`),
made at start-up; the bench tokens of earlier runs are revoked.
SQL queries per page are counted in this process with Django's test client against
the same database and settings; "render ms" is the median time of that in-process
render, one request at a time, without the page cache. The API lists are also counted
with 100 items a page, which shows queries that grow with the page.

wrk and gunicorn share the machine's cores, and wrk keeps --connections requests in
flight, so latency under load includes waiting for a free worker.
"""
import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, USERNAME, VOLUNTEER, search_word, setup_django  # noqa: E402

BENCH = Path(__file__).resolve().parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
QUICK_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/helpdesk_bench_quick"
QUICK_SEED = ["--topics", "2000", "--posts-per-topic", "10", "--users", "1000"]
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"  # the cache uses database 7; away from the dev and test ones
SECRET_KEY = "bench-only-not-secret-" + "x" * 40
MODES = ("anonymous", "signed-in", "uncached", "token")
WEB_MODES = ("anonymous", "signed-in", "uncached")
# The API has no page cache (anonymous is every request rendered) and is signed in with a token, not a session.
API_MODES = ("anonymous", "token")
API_PREFIX = "api-"  # page names of the API's endpoints; `--pages api` picks them all
# Pages measured in some modes only (the others in WEB_MODES, or API_MODES for the API): "my claims" and
# "matches" need a signed-in volunteer, the dashboard shows everybody the same figures, and notifications are
# one's own.
PAGE_MODES = {
    "claims": ("signed-in",), "matches": ("signed-in",), "dashboard": ("anonymous", "uncached"),
    "notifications": ("signed-in",), "api-notifications": ("token",),
}
VOLUNTEER_PAGES = ("claims", "matches")  # signed in as --volunteer rather than --user
# The bench user's API token: made at start-up (its key is never stored), the earlier ones of this name revoked.
TOKEN_NAME = "bench/run.py"
API_BIG_PAGE = 100  # forum.api.pagination.CursorPage.max_page_size: a second count, to spot queries per item


def production_env(args) -> dict:
    """Production settings, except what plain HTTP on loopback needs."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{args.port}",
        "DATABASE_URL": args.database_url,
        "REDIS_URL": args.redis_url,
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "STATIC_ROOT": str(Path(tempfile.gettempdir()) / "helpdesk-bench-static"),
        "LOG_LEVEL": "WARNING",
    }


# --- The database ---------------------------------------------------------------

def ensure_quick_database(args, env: dict) -> None:
    """Create, migrate and seed the quick database, each only when not done yet."""
    import psycopg2

    parts = urlsplit(args.database_url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(urlunsplit(parts._replace(path="/postgres")))
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            print(f"Creating database {name}", flush=True)
            cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()
    subprocess.run([str(PYTHON), "manage.py", "migrate", "-v0"], cwd=ROOT, env=env, check=True)
    check = psycopg2.connect(args.database_url)
    with check.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM forum_topic), EXISTS (SELECT 1 FROM requests_board_datarequest)")
        seeded, has_requests = cursor.fetchone()
    check.close()
    if not seeded:
        subprocess.run([str(PYTHON), str(BENCH / "seed.py"), *QUICK_SEED], cwd=ROOT, env=env, check=True)
    elif not has_requests:  # seeded before seed.py made data requests
        subprocess.run([str(PYTHON), str(BENCH / "seed.py"), "--requests-only"], cwd=ROOT, env=env, check=True)


def data_summary() -> dict:
    from django.db import connection

    from forum.models import Post, PostLike, Topic, TopicRead, User
    from requests_board.models import Claim, DataRequest

    summary = {
        "topics": Topic.objects.count(), "posts": Post.objects.count(), "people": User.objects.count(),
        "likes": PostLike.objects.count(), "read_positions": TopicRead.objects.count(),
        "data_requests": DataRequest.objects.count(), "claims": Claim.objects.count(),
    }
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
            summary["database_size"] = cursor.fetchone()[0]
    return summary


def pages(args) -> list[tuple[str, str]]:
    """The pages to measure, picked from the seeded data: the busiest category, tag and author."""
    from django.db.models import Count
    from taggit.models import Tag

    from forum.models import Category, Topic

    category = (
        Category.objects.filter(security=Category.Security.PUBLIC, parent__isnull=True)
        .annotate(n=Count("topics")).order_by("-n").first()
    )
    tag = Tag.objects.annotate(n=Count("taggit_taggeditem_items")).order_by("-n").first()
    topic = (
        Topic.objects.filter(
            deleted_at__isnull=True, post_count__gte=20, category__security=Category.Security.PUBLIC
        ).order_by("-last_posted_at").first()
    )
    # The API's posts list pages by 25: the longest topic, so that a page of API_BIG_PAGE is full too.
    long_topic = (
        Topic.objects.filter(deleted_at__isnull=True, category__security=Category.Security.PUBLIC)
        .order_by("-post_count", "pk").first()
    )
    if category is None or tag is None or topic is None:
        sys.exit("The database has no bench data: seed it with bench/seed.py first.")
    page_list = [
        ("home", "/"),
        ("latest", "/latest/"),
        ("category", f"/c/{category.slug}/"),
        ("tag", f"/tag/{tag.slug}/"),
        ("topic", topic.get_absolute_url()),
        ("top", "/top/"),
        ("search", f"/search/?q={args.search}"),
        ("profile", f"/u/{args.profile}/"),
        ("notifications", "/my/notifications/"),
    ]
    api_list = [
        ("api-categories", "/api/v1/categories/"),
        ("api-tags", "/api/v1/tags/"),
        ("api-topics", "/api/v1/topics/"),
        ("api-topic-posts", f"/api/v1/topics/{long_topic.pk}/posts/"),
        ("api-users", "/api/v1/users/"),
        ("api-notifications", "/api/v1/notifications/"),
        ("api-search", f"/api/v1/search/?q={args.search}"),
    ]
    from requests_board.models import DataRequest

    if not DataRequest.objects.exists():
        print("  note: no data requests: the requests pages are left out (add them with bench/seed.py "
              "--requests-only)", flush=True)
        return page_list + api_list
    return page_list + [
        ("board", "/requests/"),
        ("board-open-deadline", "/requests/?state=open&has_deadline=on"),
        ("claims", "/requests/claims/"),
        ("matches", "/requests/matches/"),
        ("dashboard", "/requests/dashboard/"),
    ] + api_list + [
        ("api-requests", "/api/v1/requests/"),
        ("api-results", "/api/v1/results/"),
        ("api-datasets", "/api/v1/datasets/"),
    ]


def is_api(name: str) -> bool:
    return name.startswith(API_PREFIX)


def applies(name: str, mode: str) -> bool:
    return mode in PAGE_MODES.get(name, API_MODES if is_api(name) else WEB_MODES)


def big_page_url(name: str, url: str) -> str | None:
    """The same list with API_BIG_PAGE items a page; None where the endpoint has no page size to set."""
    if not is_api(name) or name in ("api-categories", "api-search"):  # not paginated; paged by number
        return None
    return url + ("&" if "?" in url else "?") + f"page_size={API_BIG_PAGE}"


def page_user(args, name: str) -> str:
    return args.volunteer if name in VOLUNTEER_PAGES else args.user


def signed_in_cookie(username: str) -> str:
    """A session for `username`, made as django.contrib.auth.login makes one."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from forum.models import User

    user = User.objects.filter(username=username).first()
    if user is None:
        sys.exit(f"No user {username}: seed the database with bench/seed.py first.")
    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = user._meta.pk.value_to_string(user)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return session.session_key


def bench_token(username: str) -> str:
    """A fresh read token of `username`, through the service the tokens page uses; the bench tokens of
    earlier runs are revoked first, so reruns never reach API_MAX_TOKENS_PER_PERSON."""
    from forum import services
    from forum.models import ApiToken, User

    user = User.objects.filter(username=username).first()
    if user is None:
        sys.exit(f"No user {username}: seed the database with bench/seed.py first.")
    for token_id in ApiToken.objects.filter(user=user, name=TOKEN_NAME, revoked_at__isnull=True).values_list(
            "pk", flat=True):
        services.api_token_revoke(actor=user, token_id=token_id)
    _token, key = services.api_token_create(actor=user, name=TOKEN_NAME, scope=ApiToken.Scope.READ)
    return key


def request_headers(args, mode: str, name: str, credentials: dict) -> dict:
    """What a client sends for this page in this mode: a session cookie, an API token, or nothing."""
    if mode == "signed-in":
        return {"Cookie": credentials["cookies"][page_user(args, name)]}
    if mode == "token":
        return {"Authorization": f"Token {credentials['token']}"}
    return {}


# --- In-process: queries and render time ----------------------------------------------

def measure_in_process(args, page_list, session_keys: dict, token: str | None, runs: int) -> dict:
    """Queries and median render time per page and mode, through Django's test client."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext, override_settings

    from forum import pagecache

    results = {}
    for mode in ("anonymous", "signed-in", "token"):
        for name, url in page_list:
            if not (applies(name, mode) or (mode == "anonymous" and applies(name, "uncached"))):
                continue
            if mode == "token":
                client = Client(HTTP_HOST="127.0.0.1", HTTP_AUTHORIZATION=f"Token {token}")
            else:
                client = Client(HTTP_HOST="127.0.0.1")
            if mode == "signed-in":
                client.cookies["sessionid"] = session_keys[page_user(args, name)]
            # The fewest queries of the runs: a token notes its last use once a minute, an UPDATE now and then.
            timings, counts = [], []
            with override_settings(ANONYMOUS_PAGE_CACHE_SECONDS=0):
                for run in range(runs + 1):
                    with CaptureQueriesContext(connection) as captured:
                        started = time.perf_counter()
                        response = client.get(url)
                        elapsed = (time.perf_counter() - started) * 1000
                    if response.status_code != 200:
                        sys.exit(f"{mode} {url} answered {response.status_code} in-process "
                                 f"({response.get('Location', '')}); the benchmark needs 200.")
                    if mode == "token" and not response.wsgi_request.user.is_authenticated:
                        sys.exit(f"token {url}: the token did not sign the bench user in.")
                    if run:  # the first one warms template and connection caches
                        timings.append(elapsed)
                        counts.append(len(captured))
                queries = min(counts)
                big_queries = None
                if big_url := big_page_url(name, url):
                    big_counts = []
                    for _run in range(2):
                        with CaptureQueriesContext(connection) as captured:
                            response = client.get(big_url)
                        if response.status_code != 200:
                            sys.exit(f"{mode} {big_url} answered {response.status_code} in-process; "
                                     "the benchmark needs 200.")
                        big_counts.append(len(captured))
                    big_queries = min(big_counts)
                    if big_queries != queries:
                        print(f"  note: {mode} {url}: {queries} queries with the default page size, "
                              f"{big_queries} with {API_BIG_PAGE} items a page", flush=True)
            results[(mode, name)] = {"queries": queries, "render_ms": statistics.median(timings)}
            if big_queries is not None:
                results[(mode, name)]["queries_big_page"] = big_queries
            if is_api(name):  # no page cache: nothing more to count
                continue
            hit_queries = None
            if mode == "anonymous":
                pagecache.invalidate()
                client.get(url)  # fills the cache
                with CaptureQueriesContext(connection) as captured:
                    response = client.get(url)
                hit_queries = len(captured) if response.get("X-Cache") == "hit" else None
            results[(mode, name)]["hit_queries"] = hit_queries
            if mode == "anonymous":  # the same render as a miss
                results[("uncached", name)] = {"queries": queries, "render_ms": statistics.median(timings)}
    return results


# --- Over HTTP: gunicorn and wrk ------------------------------------------------------

def port_free(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def start_gunicorn(args, env: dict, log_path: Path) -> subprocess.Popen:
    if not port_free(args.port):
        sys.exit(f"Port {args.port} is in use; choose another with --port.")
    log = open(log_path, "ab")  # handed to the child process, closed when it ends
    server = subprocess.Popen(
        [str(GUNICORN), "config.wsgi", "-w", str(args.workers), "-b", f"127.0.0.1:{args.port}",
         "--error-logfile", "-"],
        cwd=ROOT, env=env, stdout=log, stderr=log,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"gunicorn exited with {server.returncode}; see {log_path}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{args.port}/healthz/", timeout=2) as response:
                if response.status == 200:
                    return server
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.3)
    server.terminate()
    sys.exit(f"gunicorn did not answer within 60 s; see {log_path}")


def stop_gunicorn(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


def fetch(url: str, headers: dict | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers=headers or {})

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=60) as response:
            response.read()
            return response.status, dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def csrf_cookie(base: str, session_key: str) -> str:
    """The csrftoken cookie a browser would hold next to its session, so pages need not set one each time."""
    _status, headers = fetch(base + "/", {"Cookie": f"sessionid={session_key}"})
    for part in headers.get("Set-Cookie", "").split(";"):
        if part.strip().startswith("csrftoken="):
            return part.strip()
    return ""


def wrk(args, url: str, headers: dict, duration: int) -> dict:
    command = [
        "wrk", "-t", str(args.threads), "-c", str(args.connections), "-d", f"{duration}s", "--timeout", "120s",
        "-s", str(BENCH / "wrk_report.lua"), url,
    ]
    for header, value in headers.items():
        command[1:1] = ["-H", f"{header}: {value}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    for line in output.splitlines():
        if line.startswith("BENCH_JSON "):
            figures = json.loads(line.removeprefix("BENCH_JSON "))
            figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
            figures["errors"] = sum(value for key, value in figures.items() if key.startswith("errors_"))
            figures["seconds"] = duration
            return figures
    raise RuntimeError(f"wrk printed no figures:\n{output}")


def warm_up(url: str, headers: dict, seconds: float) -> None:
    """One request after another for a while: fills caches without leaving a queue behind."""
    deadline = time.monotonic() + seconds
    for done in range(200):
        if done >= 2 and time.monotonic() > deadline:
            return
        fetch(url, headers)


def drain(base: str) -> None:
    """Wait for requests wrk abandoned at the end of its run: the workers still serve them."""
    for _ in range(2):
        fetch(base + "/healthz/")


def _cpu_times() -> tuple[int, int]:
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return sum(fields) - idle, sum(fields)


def background_cpu(sample: float = 1.0) -> float:
    """Percent of the machine's CPU busy while our server is idle: other people's processes."""
    try:
        busy_before, total_before = _cpu_times()
        time.sleep(sample)
        busy_after, total_after = _cpu_times()
    except (OSError, ValueError, IndexError):
        return 0.0
    return 100 * (busy_after - busy_before) / max(total_after - total_before, 1)


def wait_for_quiet(args) -> float:
    """Background CPU now, after waiting up to --quiet-wait seconds for it to fall below --quiet-below."""
    deadline = time.monotonic() + args.quiet_wait
    busy = background_cpu()
    while busy > args.quiet_below and time.monotonic() < deadline:
        busy = background_cpu(2.0)
    return busy


def wrk_seconds(args, render_ms: float) -> int:
    """--duration, longer for slow pages: long enough for each connection to finish a few requests."""
    needed = 3 * render_ms / 1000 * args.connections / args.workers
    return int(min(max(args.duration, needed), max(args.max_duration, args.duration)))


def measure_http(args, env, page_list, modes, session_keys, token, log_path, in_process) -> dict:
    results = {}
    base = f"http://127.0.0.1:{args.port}"
    for cached in (True, False):
        run_modes = [mode for mode in modes if (mode != "uncached") == cached]
        if not run_modes:
            continue
        server_env = dict(env, ANONYMOUS_PAGE_CACHE_SECONDS="300" if cached else "0")
        server = start_gunicorn(args, server_env, log_path)
        try:
            credentials = {"token": token, "cookies": {}}
            if "signed-in" in run_modes:
                credentials["cookies"] = {
                    username: "; ".join(filter(None, [f"sessionid={key}", csrf_cookie(base, key)]))
                    for username, key in session_keys.items()
                }
            for mode in run_modes:
                for name, path in page_list:
                    if not applies(name, mode):
                        continue
                    url = base + path
                    headers = request_headers(args, mode, name, credentials)
                    status, answer = fetch(url, headers)  # fills the page cache when it is on
                    if status != 200:
                        sys.exit(f"{mode} {url} answered {status} {answer.get('Location', '')}; "
                                 "the benchmark needs 200 (see the gunicorn log: " + str(log_path) + ")")
                    render_ms = in_process.get((mode, name), {}).get("render_ms", 0)
                    if mode == "anonymous" and not is_api(name):
                        _status, answer = fetch(url)
                        if answer.get("X-Cache") == "hit":
                            render_ms = 0  # served from the cache
                        else:
                            print(f"  note: {url} is not served from the anonymous page cache", flush=True)
                    warm_up(url, headers, args.warmup)
                    background = wait_for_quiet(args)
                    seconds = wrk_seconds(args, render_ms)
                    figures = wrk(args, url, headers, seconds)
                    drain(base)
                    figures["background_cpu"] = background
                    results[(mode, name)] = figures
                    print(f"  {mode:9} {name:19} {figures['rps']:8.1f} req/s  median {figures['p50_us'] / 1000:7.1f} ms"
                          f"  p95 {figures['p95_us'] / 1000:7.1f} ms  n {figures['requests']:6} in {seconds} s  "
                          f"errors {figures['errors']}  background CPU {background:3.0f}%", flush=True)
        finally:
            stop_gunicorn(server)
    return results


# --- Report ---------------------------------------------------------------------------

def _ms(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def markdown(args, page_list, data, in_process, http, modes) -> str:
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    background = [figures["background_cpu"] for figures in http.values()]
    lines = [
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on {os.cpu_count()} cores ({cpu}), "
        f"Python {platform.python_version()}; PostgreSQL and Redis on the same machine.",
        f"Data: {data['topics']:,} topics, {data['posts']:,} posts, {data['people']:,} people, "
        f"{data['likes']:,} likes, {data['read_positions']:,} read positions, "
        f"{data['data_requests']:,} data requests, {data['claims']:,} claims"
        + (f", database {data['database_size']}" if "database_size" in data else "") + ".",
        f"gunicorn `-w {args.workers}` (sync); wrk `-t {args.threads} -c {args.connections} -d {args.duration}s` "
        f"(up to {args.max_duration} s for slow pages) "
        f"after {args.warmup:g} s of single requests; signed in as `{args.user}` "
        f"(my claims and matches: the volunteer `{args.volunteer}`); API \"token\": a read token of "
        f"`{args.user}`."
        + (" \"other CPU\": how busy the machine was with other people's processes just before the page "
           f"was measured ({min(background):.0f}-{max(background):.0f}%)." if background else ""),
        "",
        "| page | visitor | requests/s | median ms | p95 ms | requests | KB | queries | render ms | other CPU |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    labels = {"anonymous": "anonymous (page cache)", "signed-in": "signed in", "uncached": "anonymous, no page cache",
              "token": "token"}
    for mode in modes:
        for name, path in page_list:
            if not applies(name, mode):
                continue
            figures = http.get((mode, name))
            measured = in_process.get((mode, name), {})
            queries = measured.get("queries")
            if mode == "anonymous" and measured.get("hit_queries") is not None:
                queries = f"{measured['hit_queries']} hit / {queries} miss"
            if measured.get("queries_big_page", queries) != queries:
                queries = f"{queries} ({measured['queries_big_page']} at {API_BIG_PAGE} a page)"
            if mode == "signed-in" and name in VOLUNTEER_PAGES:
                visitor = "signed in (volunteer)"
            elif mode == "anonymous" and is_api(name):
                visitor = "anonymous"  # the API has no page cache
            else:
                visitor = labels[mode]
            cells = [f"{name} `{path}`", visitor]
            if figures:
                cells += [
                    f"{figures['rps']:,.0f}" if figures["rps"] >= 10 else f"{figures['rps']:.1f}",
                    _ms(figures["p50_us"] / 1000),
                    _ms(figures["p95_us"] / 1000),
                    f"{figures['requests']:,}" + (f" ({figures['errors']} errors)" if figures["errors"] else ""),
                    f"{figures['bytes'] / max(figures['requests'], 1) / 1024:.0f}" if "bytes" in figures else "",
                ]
            else:
                cells += ["", "", "", "", ""]
            cells += [str(queries), _ms(measured["render_ms"]) if measured else ""]
            cells.append(f"{figures['background_cpu']:.0f}%" if figures else "")
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help=f"use (and create, migrate and seed if needed) {QUICK_DATABASE_URL}")
    parser.add_argument("--database-url", default=None, help="default: DATABASE_URL")
    parser.add_argument("--redis-url", default=None, help=f"default: REDIS_URL, else {DEFAULT_REDIS_URL}")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=16, help="wrk connections")
    parser.add_argument("--duration", type=int, default=None, help="seconds of wrk per page (10; --quick: 5)")
    parser.add_argument("--max-duration", type=int, default=60,
                        help="slow pages get up to this many seconds, so every connection completes a few requests")
    parser.add_argument("--warmup", type=float, default=None,
                        help="seconds of one-at-a-time requests per page first (2; --quick: 1)")
    parser.add_argument("--quiet-below", type=float, default=10,
                        help="before each page, wait for other processes to use less than this %% of the CPU")
    parser.add_argument("--quiet-wait", type=float, default=0, help="... but no longer than this many seconds")
    parser.add_argument("--runs", type=int, default=10, help="in-process renders per page, for render ms")
    parser.add_argument("--modes", default=",".join(MODES), help=f"comma-separated, of {', '.join(MODES)}")
    parser.add_argument("--pages", default="",
                        help="comma-separated page names (default: all; `api`: every API endpoint)")
    parser.add_argument("--user", default=USERNAME.format(2), help="who to sign in as, and whose API token")
    parser.add_argument("--volunteer", default=VOLUNTEER,
                        help=f"who to sign in as for {' and '.join(VOLUNTEER_PAGES)} (a volunteer with expertise)")
    parser.add_argument("--profile", default=USERNAME.format(1), help="whose profile page to measure")
    parser.add_argument("--search", default=search_word(), help="the search page's query")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()

    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed. On Debian or Ubuntu: apt-get install -y wrk")
    if not GUNICORN.exists():
        sys.exit(f"{GUNICORN} is missing: run `python3 dev.py setup` first.")
    if args.duration is None:
        args.duration = 5 if args.quick else 10
    if args.warmup is None:
        args.warmup = 1 if args.quick else 2
    args.database_url = args.database_url or (QUICK_DATABASE_URL if args.quick else os.environ.get("DATABASE_URL"))
    if not args.database_url or not args.database_url.startswith("postgres"):
        sys.exit("Give a seeded PostgreSQL database in DATABASE_URL (or --database-url), or use --quick.")
    args.redis_url = args.redis_url or os.environ.get("REDIS_URL") or DEFAULT_REDIS_URL
    modes = [mode.strip() for mode in args.modes.split(",") if mode.strip()]
    if unknown := set(modes) - set(MODES):
        parser.error(f"unknown modes {', '.join(sorted(unknown))}")

    env = production_env(args)
    # Before anything renders a page with DEBUG off (the quick database's migrate and seed run with env too).
    subprocess.run([str(PYTHON), "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    if args.quick:
        ensure_quick_database(args, env)
    os.environ.update(env)
    setup_django()
    from forum import pagecache

    pagecache.invalidate()  # pages cached from another database on this Redis must not be served
    page_list = pages(args)
    if args.pages:
        wanted = {name.strip() for name in args.pages.split(",")}
        page_list = [(name, url) for name, url in page_list if name in wanted or ("api" in wanted and is_api(name))]
    data = data_summary()
    print(f"{data['topics']:,} topics, {data['posts']:,} posts in {args.database_url.rsplit('/', 1)[-1]}", flush=True)
    users = {page_user(args, name) for name, _path in page_list if applies(name, "signed-in")}
    session_keys = {username: signed_in_cookie(username) for username in sorted(users)}
    token = bench_token(args.user) if any(applies(name, "token") for name, _path in page_list) else None

    print("Counting queries in-process...", flush=True)
    in_process = measure_in_process(args, page_list, session_keys, token, args.runs)
    log_path = Path(tempfile.gettempdir()) / "helpdesk-bench-gunicorn.log"
    print(f"Serving with gunicorn on port {args.port} (log: {log_path})...", flush=True)
    http = measure_http(args, env, page_list, modes, session_keys, token, log_path, in_process)

    report = markdown(args, page_list, data, in_process, http, modes)
    print()
    print(report)
    if args.json:
        args.json.write_text(json.dumps({
            "data": data, "pages": dict(page_list),
            "results": [
                {"mode": mode, "page": name, **http.get((mode, name), {}), **in_process.get((mode, name), {})}
                for mode in modes for name, _path in page_list if applies(name, mode)
            ],
        }, indent=2))


if __name__ == "__main__":
    main()
