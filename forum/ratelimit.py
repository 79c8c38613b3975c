"""Per-person rate limits on writing, so a script or a slip cannot flood the forum."""
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils.translation import gettext as _

from .permissions import can_moderate


def client_ip(request) -> str | None:
    """The address a request came from, as the server in front (gunicorn behind the proxy) reports it."""
    return request.META.get("REMOTE_ADDR") or None


def _hit(key: str, window: int) -> int:
    """Count one more action in the current window; the first action opens the window."""
    if cache.add(key, 1, timeout=window):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # the window expired between add and incr
        cache.add(key, 1, timeout=window)
        return 1


def rate_limited(kind: str):
    """Refuse a person's POSTs of `kind` above settings.FORUM_RATE_LIMITS[kind] = (count, seconds)."""
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            limit, window = settings.FORUM_RATE_LIMITS[kind]
            user = request.user
            if request.method == "POST" and user.is_authenticated and not can_moderate(user):
                if _hit(f"ratelimit:{kind}:{user.pk}", window) > limit:
                    message = _(
                        "You are posting very fast: at most %(limit)d times in %(minutes)d minutes. "
                        "Please wait a little, go back and try again: your browser keeps what you wrote."
                    ) % {"limit": limit, "minutes": max(window // 60, 1)}
                    return render(request, "429.html", {"message": message}, status=429)
            return view(request, *args, **kwargs)
        return wrapper
    return decorator


def over_limit(kind: str, identity: str) -> bool:
    """Count one more action of `kind` by `identity` (e.g. a visitor's address); True above
    settings.FORUM_RATE_LIMITS[kind]."""
    limit, window = settings.FORUM_RATE_LIMITS[kind]
    return _hit(f"ratelimit:{kind}:{identity}", window) > limit
