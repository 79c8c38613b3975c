"""Reads about people and terms."""
from django.core.cache import cache
from django.core.paginator import Page, Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.http import Http404

from ..models import Post, PostLike, TermsVersion, Topic, User
from ..permissions import post_texts_readable_by, posts_visible_to, topics_visible_to

TERMS_CACHE_KEY = "forum:terms-current"
_TERMS_CACHE_SECONDS = 300


def terms_current() -> TermsVersion | None:
    """The newest published terms version, cached; None before any is published."""
    cached = cache.get(TERMS_CACHE_KEY)
    if cached is not None:
        return cached or None
    terms = TermsVersion.objects.order_by("-published_at", "-pk").first()
    cache.set(TERMS_CACHE_KEY, terms or "", _TERMS_CACHE_SECONDS)
    return terms


def terms_accepted(user) -> bool:
    """Whether signed-in `user` accepted the current terms (True before any are published)."""
    terms = terms_current()
    return terms is None or user.accepted_terms_version == terms.version


# What a profile page shows of its person and asks of them (roles, whether they may be restricted):
# only these are kept in the cache with it, never their email, password hash, logins or sanctions.
_PROFILE_SHOWN = ("id", "username", "display_name", "affiliation", "orcid", "bio_html", "date_joined",
                  "deleted_at", "is_active", "is_staff", "is_superuser")


def profile_get(*, username: str) -> User:
    """An active person's public profile, with expertise tags and roles prefetched: kept until a
    write anywhere (profile edits, role changes and deactivation make every page stale), as the
    anonymous page that shows it is."""
    from .counts import counted

    def find():
        return User.objects.filter(is_active=True, username=username).only(*_PROFILE_SHOWN).prefetch_related(
            "expertise", "groups").first()

    person = counted(f"profile-person:1 {username}", find, scope=())
    if person is None:
        raise Http404
    return person


def _visible_live_posts(user, profile_user: User) -> QuerySet:
    posts = Post.objects.filter(author=profile_user, deleted_at__isnull=True)
    return post_texts_readable_by(user, posts_visible_to(user, posts))


def profile_activity(*, user, profile_user: User) -> dict:
    """Counts for a profile, over what `user` may see only (private topics are never counted); kept
    until a write makes them stale (`counted`), since counting a busy author's posts grows with them."""
    from .counts import audience, counted

    return counted(f"profile {profile_user.pk} {audience(user)}", lambda: _profile_counts(user, profile_user))


def _profile_counts(user, profile_user: User) -> dict:
    visible_topics = topics_visible_to(user, Topic.objects.all()).values("pk")
    return {
        "topics": Topic.objects.filter(author=profile_user, pk__in=visible_topics).count(),
        "replies": _visible_live_posts(user, profile_user).filter(number__gt=1).count(),
        "likes_given": PostLike.objects.filter(
            user=profile_user, post__deleted_at__isnull=True, post__topic__in=visible_topics
        ).count(),
        "likes_received": PostLike.objects.filter(
            post__author=profile_user, post__deleted_at__isnull=True, post__topic__in=visible_topics
        ).count(),
    }


def profile_topic_list(*, user, profile_user: User) -> QuerySet:
    """Topics `profile_user` started that `user` may see, newest first (with what a profile shows of
    them: title and category)."""
    return (
        topics_visible_to(user, Topic.objects.filter(author=profile_user))
        .select_related("category").order_by("-created_at", "-pk")
    )


def profile_reply_list(*, user, profile_user: User) -> QuerySet:
    """Replies `profile_user` wrote in topics `user` may see, newest first."""
    return (
        _visible_live_posts(user, profile_user).filter(number__gt=1)
        .select_related("topic", "topic__category").order_by("-created_at", "-pk")
    )


def profile_like_list(*, user, profile_user: User) -> QuerySet:
    """Posts `profile_user` liked, in topics `user` may see, latest like first."""
    from .topics import person_fields_unshown

    visible_topics = topics_visible_to(user, Topic.objects.all()).values("pk")
    return (
        PostLike.objects.filter(user=profile_user, post__deleted_at__isnull=True, post__topic__in=visible_topics)
        .select_related("post", "post__author", "post__topic", "post__topic__category")
        .defer(*person_fields_unshown("post__author")).order_by("-created_at", "-pk")
    )


PROFILE_LISTS = {"topics": profile_topic_list, "replies": profile_reply_list, "likes": profile_like_list}


def profile_page(*, user, profile_user: User, tab: str, number, per_page: int, count: int) -> Page:
    """Page `number` of a profile's `tab` (one of `PROFILE_LISTS`) as `user` sees it, its `count`
    known from the profile's figures (Django's `get_page`: a bad number is the first page, one past
    the end the last). Kept until a write changes a topic (the lists' and the site's generations),
    as the figures are: the busiest author's page read their whole history. A topic list is the
    same for everybody who reads the same categories, but for the author's own; replies and likes
    depend on who reads (a held result's author and requester read it), so are kept per person."""
    from .counts import audience, counted, readers
    from .lists import LIST_SECONDS

    paginator = Paginator([], per_page)
    paginator.count = count  # a cached_property: set, never counted
    number = paginator.get_page(number).number  # Django's rule for bad numbers; slices nothing
    bottom = (number - 1) * per_page
    whose = readers(user) if tab == "topics" and user.pk != profile_user.pk else audience(user)
    items = counted(
        f"profile-page:1 {profile_user.pk} {tab} {whose} {number} {per_page}",
        lambda: list(PROFILE_LISTS[tab](user=user, profile_user=profile_user)[bottom:bottom + per_page]),
        seconds=LIST_SECONDS,
    )
    return Page(items, number, paginator)


def people_list(*, user) -> QuerySet:
    """Active members with something `user` may read (a live post in a topic they see), expertise
    prefetched: a directory never names someone whose only activity is private."""
    posts = post_texts_readable_by(user, posts_visible_to(user, Post.objects.filter(
        author=OuterRef("pk"), deleted_at__isnull=True)))
    return User.objects.filter(Exists(posts), is_active=True, deleted_at__isnull=True).prefetch_related("expertise")


def api_token_list(*, user) -> QuerySet:
    """`user`'s live tokens, newest first (revoked ones are gone from the page)."""
    from ..models import ApiToken

    return ApiToken.objects.filter(user=user, revoked_at__isnull=True).order_by("-created_at", "-pk")
