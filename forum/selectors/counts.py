"""Counts that pages show, computed once per change rather than once per request.

A page used to count every visible topic each time it was shown (topics per category on the home
page, a list's number of pages): that cost grows with the site. Here such figures are computed
once and kept in the cache beside the anonymous page cache's generations (forum/pagecache.py),
which every write that adds, hides, moves or removes a topic bumps; so a figure is never older
than the pages cached beside it, and is recomputed at most once per write.
"""
import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Count, Max, Q

from ..pagecache import GENERATION_KEY, LISTS_KEY, current_generations

STATS_SECONDS = 24 * 3600


@dataclass(frozen=True)
class CategoryStats:
    live: int  # topics neither deleted nor hidden for review: what everybody who reads the category sees
    live_latest: object  # their latest activity (datetime or None)
    all: int  # every topic, deleted and hidden ones included: what global moderators see
    all_latest: object


EMPTY = CategoryStats(0, None, 0, None)


def _compute_category_stats() -> dict:
    from ..models import Topic

    live = Q(deleted_at__isnull=True, hidden_at__isnull=True)
    rows = (
        Topic.objects.order_by().values("category_id")
        .annotate(live=Count("pk", filter=live), live_latest=Max("last_posted_at", filter=live),
                  all=Count("pk"), all_latest=Max("last_posted_at"))
    )
    return {
        row["category_id"]: CategoryStats(row["live"], row["live_latest"], row["all"], row["all_latest"])
        for row in rows
    }


def counted(name: str, compute, *, scope=LISTS_KEY, seconds: int = STATS_SECONDS):
    """`compute()`'s value, kept in the cache under `name` until a write bumps the site's or
    `scope`'s generation (forum/pagecache.py; `scope` may be a tuple of several): one cache round
    trip, or `compute` after a write. `name` must say everything the value depends on (whose view,
    which filters)."""
    if not settings.SHARED_CACHE:
        return compute()
    key = "forum:counts:" + hashlib.sha256(name.encode()).hexdigest()
    generation_keys = [GENERATION_KEY, *((scope,) if isinstance(scope, str) else scope)]
    found = cache.get_many([*generation_keys, key])
    stored = found.get(key)
    generations = tuple(found.get(generation_key) for generation_key in generation_keys)
    if stored is not None and None not in generations and stored[0] == generations:
        return stored[1]
    # Read before computing: a write committing meanwhile bumps past these, so what is stored
    # below is stale at once rather than kept.
    generations = current_generations(found, generation_keys)
    value = compute()
    cache.set(key, (generations, value), seconds)
    return value


def audience(user) -> str:
    """What decides what `user` may count, for `counted` names: the categories they read and
    moderate (so a role granted shows in their counts at once), and who they are (their own topics)."""
    if not user.is_authenticated:
        return f"anonymous {readers(user)}"
    return f"person {user.pk} {readers(user)}"


def readers(user) -> str:
    """The categories `user` reads and moderates, without who they are: people with the same
    `readers` see the same topics but for their own (forum/selectors/lists.py)."""
    from ..permissions import can_moderate
    from ..permissions.access import access_for

    if can_moderate(user):
        return "moderates all"
    access = access_for(user)
    public = ",".join(map(str, sorted(access.public_category_ids)))
    member = ",".join(map(str, sorted(access.member_category_ids)))
    moderated = ",".join(map(str, sorted(access.moderated_category_ids)))
    return f"read {public} {member} moderates {moderated}"


def category_topic_stats() -> dict:
    """Per category id, its topics' counts and latest activity (`CategoryStats`): one cache round
    trip, or one grouped query when a write made them stale."""
    return counted("category-topics", _compute_category_stats)
