"""Two web processes sharing Redis, as production runs: once a write commits, neither serves a page,
a count or a permission from before it (issue 21: the anonymous page cache's scopes, the counts kept
per write, and each person's cached access).

The writes are made here, through the services, with the web processes' cache settings; the reads go
over HTTP to two gunicorn processes on the test database (production settings, plain HTTP).
"""
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from importlib import import_module
from pathlib import Path

import pytest
import requests
from django.conf import settings
from django.contrib.auth.models import Group

from forum import services
from forum.models import Category, Post
from tests.forum.factories import CategoryFactory, UserFactory
from tests.integration.conftest import ARTIFACTS, ROOT, _database_url, _free_port, _services_available

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

STATIC_ROOT = Path(tempfile.gettempdir()) / "helpdesk-two-processes-static"


def _web_env(port: int) -> dict:
    from django.db import connection

    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": settings.SECRET_KEY,  # the sessions made here must verify there
        "ALLOWED_HOSTS": "127.0.0.1",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": _database_url(connection.settings_dict),
        # As the Celery workers of these tests: the broker's database, so the cache is the next one,
        # the one this test process uses (see `shared_cache`).
        "REDIS_URL": settings.CELERY_BROKER_URL,
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
        "ANONYMOUS_PAGE_CACHE_SECONDS": "300",
        "STATIC_ROOT": str(STATIC_ROOT),
        "LOG_LEVEL": "WARNING",
    }


def _start(port: int) -> subprocess.Popen:
    ARTIFACTS.mkdir(exist_ok=True)
    with open(ARTIFACTS / f"gunicorn-{port}.log", "w") as log:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "config.wsgi", "-w", "1", "-b", f"127.0.0.1:{port}"],
            cwd=ROOT, env=_web_env(port), stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/healthz/", timeout=2).status_code == 200:
                return process
        except requests.ConnectionError:
            pass
        if process.poll() is not None:
            break
        time.sleep(0.3)
    _stop(process)
    pytest.fail(f"gunicorn on {port} did not start:\n" + (ARTIFACTS / f"gunicorn-{port}.log").read_text())


def _stop(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def shared_cache(settings):
    """This process's cache as the web processes see it: the same Redis database and key prefix."""
    reason = _services_available()
    if reason:
        pytest.fail(f"integration test needs PostgreSQL and Redis: {reason}")
    from config.settings import _redis_db_url

    settings.CACHES = {"default": {
        "BACKEND": "config.redis_cache.SharedClientRedisCache",
        "LOCATION": _redis_db_url(settings.CELERY_BROKER_URL, 1),
        "KEY_PREFIX": "helpdesk",
    }}
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def two_processes(shared_cache):
    if not (STATIC_ROOT / "staticfiles.json").exists():
        subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT,
                       env=_web_env(0), check=True)
    processes = [_start(_free_port()) for _ in range(2)]
    try:
        yield [f"http://127.0.0.1:{process.args[-1].rsplit(':', 1)[1]}" for process in processes]
    finally:
        for process in processes:
            _stop(process)


class _Web:
    """Requests to the two processes as one site: behind a proxy, both see the same Host."""

    def __init__(self):
        self.session = requests.Session()

    def get(self, url, **kwargs):
        return self.session.get(url, headers={"Host": "127.0.0.1"}, allow_redirects=False, **kwargs)


def _session_cookie(user) -> dict:
    """A signed-in session for `user`, stored where both web processes read it (the database)."""
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    session = import_module(settings.SESSION_ENGINE).SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return {settings.SESSION_COOKIE_NAME: session.session_key}


def _home_count(html: str, category: Category) -> int:
    """The topic count the home page shows on `category`'s row."""
    row = html[html.index(category.get_absolute_url()):]
    return int(re.search(r'<td class="num">(\d+)</td>', row)[1])


def test_no_stale_page_count_or_permission_after_a_write_commits(two_processes, public_category, private_category):
    first, second = two_processes
    web = _Web()
    author, reader = UserFactory(), UserFactory()
    topic = services.topic_create(actor=author, category=public_category, title="Synthetic two process topic",
                                  raw="Synthetic opening text.")
    url = topic.get_absolute_url()

    # One process stores the page; the other serves that copy.
    assert web.get(first + url).status_code == 200
    cached = web.get(second + url)
    assert cached.headers.get("X-Cache") == "hit"
    assert "Synthetic later reply" not in cached.text
    home_before = _home_count(web.get(second + "/").text, public_category)

    # A reply committed here: both processes show it at once, whichever stored the page.
    services.post_create(actor=reader, topic_id=topic.pk, raw="Synthetic later reply.")
    for origin in (first, second):
        assert "Synthetic later reply" in web.get(origin + url).text
        assert "Synthetic two process topic" in web.get(origin + "/latest/").text

    # A new topic counts on the home page of both; deleting it takes it off every list and page.
    second_topic = services.topic_create(actor=author, category=public_category,
                                         title="Synthetic soon deleted topic", raw="Synthetic text.")
    for origin in (first, second):
        assert _home_count(web.get(origin + "/").text, public_category) == home_before + 1
        assert "Synthetic soon deleted topic" in web.get(origin + "/latest/").text
    services.post_delete(actor=author, post_id=Post.objects.get(topic=second_topic, number=1).pk)
    for origin in (first, second):
        assert _home_count(web.get(origin + "/").text, public_category) == home_before
        assert "Synthetic soon deleted topic" not in web.get(origin + "/latest/").text
        assert web.get(origin + second_topic.get_absolute_url()).status_code == 404

    # Access: a private topic opens to a reader the moment their group gets in, and closes again.
    secret = services.topic_create(actor=author, category=private_category, title="Synthetic private topic",
                                   raw="Synthetic private text.")
    cookies = _session_cookie(reader)
    for origin in (first, second):
        assert web.get(origin + secret.get_absolute_url(), cookies=cookies).status_code == 404
    group = Group.objects.create(name="Synthetic private readers")
    private_category.groups.add(group)
    reader.groups.add(group)
    for origin in (first, second):
        page = web.get(origin + secret.get_absolute_url(), cookies=cookies)
        assert page.status_code == 200 and "Synthetic private text" in page.text
    reader.groups.remove(group)
    for origin in (first, second):
        assert web.get(origin + secret.get_absolute_url(), cookies=cookies).status_code == 404

    # A category made private is gone at once for everybody signed in, on both (the admin, which
    # saves it through CategoryAdmin, also makes the anonymous pages stale).
    other = CategoryFactory()
    public_topic = services.topic_create(actor=author, category=other, title="Synthetic closing category topic",
                                         raw="Synthetic text.")
    for origin in (first, second):
        assert web.get(origin + public_topic.get_absolute_url()).status_code == 200
    other.security = Category.Security.PRIVATE
    other.save()
    for origin in (first, second):
        assert web.get(origin + public_topic.get_absolute_url(), cookies=cookies).status_code == 404


def test_signed_in_pages_kept_per_audience_show_every_write_at_once(two_processes, public_category):
    """Lists and topic pages kept per audience (forum/selectors/lists.py, topic_pages.py), read
    signed in on either process right after a write committed here."""
    from forum.models import NotificationLevel

    first, second = two_processes
    web = _Web()
    author, reader = UserFactory(), UserFactory()
    cookies = _session_cookie(reader)
    topic = services.topic_create(actor=author, category=public_category, title="Synthetic kept for readers",
                                  raw="Synthetic kept opening.")
    url = topic.get_absolute_url()
    for origin in (first, second):  # both keep what they read
        assert "Synthetic kept opening" in web.get(origin + url, cookies=cookies).text
        assert "Synthetic kept for readers" in web.get(origin + "/latest/", cookies=cookies).text

    reply = services.post_create(actor=author, topic_id=topic.pk, raw="Synthetic signed-in reply.")
    for origin in (first, second):  # the reader's own badge, until they read the reply
        latest = web.get(origin + "/latest/", cookies=cookies).text
        assert re.search(r"Synthetic kept for readers.*?1 new", latest, re.S), origin
    for origin in (first, second):
        assert "Synthetic signed-in reply" in web.get(origin + url, cookies=cookies).text
        latest = web.get(origin + "/latest/", cookies=cookies).text
        assert not re.search(r"Synthetic kept for readers.*?1 new", latest, re.S), origin
    services.post_edit(actor=author, post_id=reply.pk, raw="Synthetic corrected reply.")
    for origin in (first, second):
        page = web.get(origin + url, cookies=cookies).text
        assert "Synthetic corrected reply" in page and "Synthetic signed-in reply" not in page

    services.notification_level_set(user=reader, level=NotificationLevel.MUTED, topic=topic)
    for origin in (first, second):
        assert "Synthetic kept for readers" not in web.get(origin + "/latest/", cookies=cookies).text
        assert "Synthetic kept for readers" in web.get(origin + "/latest/").text  # others still see it

    services.post_delete(actor=author, post_id=Post.objects.get(topic=topic, number=1).pk)
    for origin in (first, second):
        assert web.get(origin + url, cookies=cookies).status_code == 404
        assert "Synthetic kept for readers" not in web.get(origin + public_category.get_absolute_url(),
                                                          cookies=cookies).text
