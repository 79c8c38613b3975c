"""Rate limits on writing, per person and per address, so a script or a slip cannot flood the site.

Counters live in Django's cache (Redis in production, shared by every worker). Each limit
is a fixed window of `seconds`: the Nth+1 action inside one window is refused, with how
long until the window ends. Moderators are exempt.
"""
import json
import math
import time
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .permissions import can_moderate


class RateLimited(Exception):
    """Too many actions of `kind`; `retry_after` is in whole seconds (for the Retry-After header)."""

    def __init__(self, kind: str, limit: int, window: int, retry_after: int):
        self.kind, self.limit, self.window, self.retry_after = kind, limit, window, retry_after
        super().__init__(self.message)

    @property
    def message(self) -> str:
        return _("You have done this %(count)s in a short time. Please try again in %(wait)s.") % {
            "count": ngettext("once", "%(limit)d times", self.limit) % {"limit": self.limit},
            "wait": wait_text(self.retry_after),
        }


def wait_text(seconds: int) -> str:
    """'N minutes' (or seconds, under a minute), rounded up so the wait is never understated."""
    if seconds < 60:
        return ngettext("%(count)d second", "%(count)d seconds", seconds) % {"count": seconds}
    minutes = math.ceil(seconds / 60)
    return ngettext("%(count)d minute", "%(count)d minutes", minutes) % {"count": minutes}


def client_ip(request) -> str | None:
    """The address a request came from. Behind settings.TRUSTED_PROXY_COUNT proxies, the address the
    outermost trusted proxy saw (taken from the right of X-Forwarded-For, which a client cannot forge
    past the proxies); otherwise the connection's."""
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def _hit(key: str, window: int) -> int:
    """Count one more action under `key`; the first action creates the counter."""
    if cache.add(key, 1, timeout=window + 1):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # the counter expired between add and incr
        cache.add(key, 1, timeout=window + 1)
        return 1


def _window(kind: str, scope: str, identity, window: int) -> tuple[str, int]:
    """The counter's key in the current fixed window, and the seconds until that window ends."""
    now = time.time()
    number = int(now // window)
    return f"ratelimit:{kind}:{scope}:{identity}:{number}", max(math.ceil((number + 1) * window - now), 1)


def _count(kind: str, scope: str, identity, limits) -> None:
    """Count one action; raise RateLimited when it is over the limit."""
    limit, window = limits
    key, retry_after = _window(kind, scope, identity, window)
    if _hit(key, window) > limit:
        raise RateLimited(kind, limit, window, retry_after)


def _over(kind: str, scope: str, identity, limits) -> RateLimited | None:
    """The refusal `_count` would give, without counting (for limits counted only on failure)."""
    limit, window = limits
    key, retry_after = _window(kind, scope, identity, window)
    if (cache.get(key) or 0) >= limit:
        return RateLimited(kind, limit, window, retry_after)
    return None


def rate_limit_check(kind: str, *, user=None, ip: str | None = None) -> None:
    """Count one action of `kind` by `user` (if signed in) and from `ip`; raise RateLimited above
    settings.FORUM_RATE_LIMITS[kind] per person or settings.FORUM_RATE_LIMITS_PER_IP[kind] per
    address. Moderators are never limited."""
    signed_in = user is not None and user.is_authenticated
    if signed_in and can_moderate(user):
        return
    per_person = settings.FORUM_RATE_LIMITS.get(kind)
    if per_person and signed_in:
        _count(kind, "person", user.pk, per_person)
    per_ip = settings.FORUM_RATE_LIMITS_PER_IP.get(kind)
    if per_ip and ip:
        _count(kind, "ip", ip, per_ip)


def rate_limited_response(request, error: RateLimited) -> HttpResponse:
    """429 with the reason and Retry-After; JSON for clients that ask for it, a page otherwise."""
    if "application/json" in request.headers.get("Accept", "") and "text/html" not in request.headers.get(
        "Accept", ""
    ):
        response = HttpResponse(
            json.dumps({"detail": error.message, "retry_after": error.retry_after}),
            status=429, content_type="application/json",
        )
    else:
        response = render(request, "429.html", {"message": error.message}, status=429)
    response["Retry-After"] = str(error.retry_after)
    return response


def rate_limited(kind: str, *, key=None):
    """Refuse POSTs of `kind` above the limits (see `rate_limit_check`) with HTTP 429.

    With `key(request)` (e.g. the email typed on a sign-in form), the per-person limit counts
    only failed attempts under that key (a response that is not a redirect), so nobody can lock
    a person out by signing in as them; the per-address limit counts every attempt.
    """
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.method != "POST":
                return view(request, *args, **kwargs)
            per_person = settings.FORUM_RATE_LIMITS.get(kind)
            identity = key(request) if key else None
            try:
                if identity is not None and per_person:
                    refusal = _over(kind, "person", identity, per_person)
                    if refusal is not None:
                        raise refusal
                    rate_limit_check(kind, ip=client_ip(request))
                else:
                    rate_limit_check(kind, user=request.user, ip=client_ip(request))
            except RateLimited as error:
                return rate_limited_response(request, error)
            response = view(request, *args, **kwargs)
            if identity is not None and per_person and response.status_code != 302:
                try:
                    _count(kind, "person", identity, per_person)
                except RateLimited:
                    pass  # the next attempt is refused
            return response
        return wrapper
    return decorator


def over_limit(kind: str, identity: str) -> bool:
    """Count one more action of `kind` by `identity` (e.g. a visitor's address); True above
    settings.FORUM_RATE_LIMITS[kind]."""
    try:
        _count(kind, "person", identity, settings.FORUM_RATE_LIMITS[kind])
    except RateLimited:
        return True
    return False
