"""Every read a forum page needs, with its joins and counts done in the query."""
from django.core.cache import cache
from django.db.models import Count, Max, Q, QuerySet
from django.shortcuts import get_object_or_404

from .models import Category, Post, TermsVersion, Topic, User
from .permissions import categories_visible_to, topics_visible_to

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


def category_list(*, user) -> QuerySet:
    """Top-level categories `user` may see, with the visible topic count and latest activity."""
    visible_topics = topics_visible_to(user, Topic.objects.all()).values("pk")
    return (
        categories_visible_to(user, Category.objects.filter(parent__isnull=True))
        .annotate(
            topic_count=Count("topics", filter=Q(topics__pk__in=visible_topics)),
            latest_activity=Max("topics__last_posted_at", filter=Q(topics__pk__in=visible_topics)),
        )
        .order_by("position", "name")
    )


def category_get(*, user, slug: str) -> Category:
    """A category by slug; 404 when missing or private to `user`, alike."""
    return get_object_or_404(categories_visible_to(user, Category.objects.all()), slug=slug)


def topic_list(*, user, category: Category | None = None) -> QuerySet:
    """Visible topics, latest activity first, with author and category joined."""
    topics = topics_visible_to(user, Topic.objects.all())
    if category is not None:
        topics = topics.filter(category=category)
    return topics.select_related("author", "category").order_by("-last_posted_at", "-pk")


def topic_get(*, user, pk: int) -> Topic:
    """A topic by id; 404 when missing or private to `user`, alike."""
    return get_object_or_404(topics_visible_to(user, Topic.objects.select_related("category", "author")), pk=pk)


def post_list(*, topic: Topic) -> QuerySet:
    """A topic's posts in order, with authors joined."""
    return Post.objects.filter(topic=topic).select_related("author").order_by("number")


def profile_get(*, username: str) -> User:
    """An active person's public profile, with expertise tags prefetched."""
    return get_object_or_404(
        User.objects.filter(is_active=True).prefetch_related("expertise", "groups"), username=username
    )


def profile_topic_list(*, user, profile_user: User) -> QuerySet:
    """Topics `profile_user` started that `user` may see."""
    return topic_list(user=user).filter(author=profile_user)[:20]
