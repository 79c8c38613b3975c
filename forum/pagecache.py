"""Whole-page cache for anonymous visitors: views opt in, every write makes all pages stale."""
import hashlib
import logging
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


def invalidate() -> None:
    """Make every cached anonymous page stale at once."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        # Missing (first use, or evicted): restart from the clock, never from a
        # small number, so no earlier generation and none of its pages can come back.
        if not cache.add(GENERATION_KEY, time.time_ns(), timeout=None):
            cache.incr(GENERATION_KEY)


def invalidate_on_commit() -> None:
    """Make every cached anonymous page stale now and again when the current transaction commits."""
    # The bump on commit guarantees freshness: a page re-cached from the old data
    # meanwhile carries an older generation. The bump now shows the write where
    # nothing commits, as in tests run inside one transaction.
    invalidate()
    # robust: the write is already committed; a cache error must not report it as failed.
    transaction.on_commit(invalidate, robust=True)


def _current_generation() -> int:
    generation = cache.get(GENERATION_KEY)
    if generation is None:
        invalidate()
        generation = cache.get(GENERATION_KEY)
    return generation


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

        key = self._page_key(request)
        found = cache.get_many([GENERATION_KEY, key])
        generation = found.get(GENERATION_KEY)
        stored = found.get(key)
        if stored is not None and generation is not None and stored[0] == generation:
            # The security middlewares sit before this one, so they add their headers to hits too.
            return self._hit(stored)

        if generation is None:
            generation = _current_generation()
        response = self.get_response(request)
        if request.method == "GET" and self._is_storable(request, response):
            headers = list(response.items())
            cache.set(key, (generation, response.status_code, headers, response.content), timeout)
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
