"""Whole-page cache for anonymous visitors: views opt in, writes make the pages they affect stale.

Every stored page carries two generations: the site's, which any write may bump to make every
page stale (the default, and what every write that hides, moves, renames or changes who may see
something does), and its scope's: a topic's pages (/t/<slug>/<id>/) have one per topic, every
other page shares the "lists" one. A new reply or a like bumps only its topic and the lists
(`invalidate_on_commit(topic_ids=[...])`), so a busy site keeps every other topic's pages warm.
"""
import hashlib
import logging
import re
import secrets
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.locmem import LocMemCache
from django.db import transaction
from django.http import HttpResponse
from django.utils.cache import cc_delim_re
from django.utils.translation import get_language_from_request

logger = logging.getLogger(__name__)

# A page is stored with the generation read when its request started, not under a
# generation-specific key: a hit is one round trip (generation and page together),
# a page rendered while a write commits is stale at once, and a miss overwrites the old copy.
GENERATION_KEY = "pagecache:generation"
LISTS_KEY = "pagecache:generation:lists"
TOPIC_KEY = "pagecache:generation:topic:{}"
# What one person's lists leave out (their mutes): bumped when they change (forum/selectors/lists.py).
PERSON_LISTS_KEY = "pagecache:generation:person-lists:{}"
# A topic's pages (any page number); forum/urls.py's "topic-detail".
TOPIC_PATH = re.compile(r"^/t/[^/]+/(\d+)/$")
# django.contrib.messages' CookieStorage.cookie_name; pending messages make a page personal.
MESSAGES_COOKIE_NAME = "messages"
# Cookie variation is covered by serving only requests without session or messages
# cookies, language variation by the key; a page varying on anything else is not stored.
KEYED_VARY_HEADERS = {"cookie", "accept-language"}
UNCACHEABLE_DIRECTIVES = {"private", "no-cache", "no-store"}


def cache_anonymous_page(view):
    """Let the page cache store this view's successful responses to anonymous visitors."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        response._anonymous_cacheable = True
        return response

    return wrapper


def _bump(key: str) -> None:
    try:
        cache.incr(key)
    except ValueError:
        # Missing (first use, or evicted): restart from the clock, never from a
        # small number, so no earlier generation and none of its pages can come back.
        if not cache.add(key, time.time_ns(), timeout=None):
            cache.incr(key)


def bump_on_commit(keys, *, timeout=None) -> None:
    """Bump the generations `keys` now and again when the current transaction commits (the same two
    steps as `invalidate_on_commit`), for values kept beside a generation of their own
    (forum/selectors/counts.py's `counted` with a `scope`). A generation that expires (`timeout`
    seconds) starts again from a new value, so nothing kept beside the old one comes back."""
    keys = sorted(set(keys))
    if not keys:
        return

    def bump_all():
        # A new random value, not an increment: one round trip for many keys (a post's watchers);
        # what is kept beside a generation is compared for equality, never for order.
        cache.set_many(dict.fromkeys(keys, secrets.randbits(62)), timeout=timeout)

    bump_all()
    transaction.on_commit(bump_all, robust=True)


def invalidate() -> None:
    """Make every cached anonymous page stale at once."""
    _bump(GENERATION_KEY)


def _invalidate_topics(topic_ids) -> None:
    _bump(LISTS_KEY)
    for topic_id in topic_ids:
        _bump(TOPIC_KEY.format(topic_id))


def invalidate_on_commit(*, topic_ids=None) -> None:
    """Make cached anonymous pages stale now and again when the current transaction commits: every
    page, or with `topic_ids` only those topics' pages and the lists (every page that is not a
    topic's). Give `topic_ids` only for a write that adds to a topic what its pages and the lists
    show (a reply, a like), never for one that hides, moves or renames anything."""
    # The bump on commit guarantees freshness: a page re-cached from the old data
    # meanwhile carries an older generation. The bump now shows the write where
    # nothing commits, as in tests run inside one transaction.
    if topic_ids is None:
        invalidate()
        # robust: the write is already committed; a cache error must not report it as failed.
        transaction.on_commit(invalidate, robust=True)
        return
    topic_ids = sorted(set(topic_ids))
    _invalidate_topics(topic_ids)
    transaction.on_commit(lambda: _invalidate_topics(topic_ids), robust=True)


def _scope_key(request) -> str:
    match = TOPIC_PATH.match(request.path_info)
    return TOPIC_KEY.format(match[1]) if match else LISTS_KEY


def _current(key: str, found: dict) -> int:
    generation = found.get(key)
    if generation is None:
        _bump(key)
        generation = cache.get(key)
    return generation


def current_generations(found: dict, keys) -> tuple:
    """The generations of `keys` (read in `found`, one get_many), starting any that is missing."""
    return tuple(_current(key, found) for key in keys)


class AnonymousPageCacheMiddleware:
    """Serve stored pages to certainly-anonymous visitors before sessions, auth, CSRF and the view run."""

    def __init__(self, get_response):
        self.get_response = get_response
        if not settings.DEBUG and isinstance(caches["default"], LocMemCache):
            logger.warning(
                "The anonymous page cache uses a per-process cache: with several web processes, "
                "set REDIS_URL or ANONYMOUS_PAGE_CACHE_SECONDS=0, or writes in one process leave "
                "the others serving stale pages."
            )

    def __call__(self, request):
        timeout = settings.ANONYMOUS_PAGE_CACHE_SECONDS
        if not timeout or not self._is_certainly_anonymous(request):
            return self.get_response(request)

        key, scope = self._page_key(request), _scope_key(request)
        found = cache.get_many([GENERATION_KEY, scope, key])  # one round trip
        generations = (found.get(GENERATION_KEY), found.get(scope))
        stored = found.get(key)
        if stored is not None and None not in generations and stored[0] == generations:
            # The security middlewares sit before this one, so they add their headers to hits too.
            return self._hit(stored)

        # Read before rendering: a write committing meanwhile bumps past these, so the page
        # stored below is stale at once rather than served as new.
        generations = (_current(GENERATION_KEY, found), _current(scope, found))
        response = self.get_response(request)
        if request.method == "GET" and self._is_storable(request, response):
            headers = list(response.items())
            cache.set(key, (generations, response.status_code, headers, response.content), timeout)
        return response

    @staticmethod
    def _is_certainly_anonymous(request) -> bool:
        # Without a session cookie nobody is signed in and no session data can shape the page.
        return (
            request.method in ("GET", "HEAD")
            and settings.SESSION_COOKIE_NAME not in request.COOKIES
            and "HTTP_AUTHORIZATION" not in request.META  # an API token signs its caller in
            and MESSAGES_COOKIE_NAME not in request.COOKIES
        )

    @staticmethod
    def _page_key(request) -> str:
        # HEAD shares the GET page; the language is the one LocaleMiddleware will choose.
        identity = f"{get_language_from_request(request)} {request.build_absolute_uri()}"
        return "pagecache:page:" + hashlib.sha256(identity.encode()).hexdigest()

    @staticmethod
    def _hit(stored) -> HttpResponse:
        _generation, status, headers, content = stored
        response = HttpResponse(content, status=status)
        for name, value in headers:
            response[name] = value
        response["X-Cache"] = "hit"
        return response

    @staticmethod
    def _is_storable(request, response) -> bool:
        if not getattr(response, "_anonymous_cacheable", False):
            return False
        if response.status_code != 200 or response.streaming or response.cookies:
            return False
        user = getattr(request, "user", None)
        if user is None or user.is_authenticated:
            return False
        directives = {d.split("=", 1)[0].strip().lower() for d in cc_delim_re.split(response.get("Cache-Control", ""))}
        if directives & UNCACHEABLE_DIRECTIVES:
            return False
        vary = {v.strip().lower() for v in cc_delim_re.split(response.get("Vary", "")) if v.strip()}
        return vary <= KEYED_VARY_HEADERS
