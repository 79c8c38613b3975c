"""Who sees what: the `*_visible_to` filters for categories, topics and posts, and readable post texts."""
from django.db.models import Q, QuerySet

from .access import access_for
from .roles import _moderators_q, can_moderate, can_moderate_topic, moderated_category_ids


def _private_membership(user, field: str) -> Q:
    """Private categories `user` reads: through a group, or as a category moderator (their cached
    access: a short literal list the planner reads as such, not a subquery per page)."""
    return Q(**{f"{field}__in": sorted(access_for(user).member_category_ids)})


def categories_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Categories `user` may see: public and read-only ones, and private ones they belong to.

    A private category is also listed for people who authored a topic in it,
    so a requester can find their own private topics. Uses subqueries, not
    joins, so counts annotated on the result stay right.
    """
    from ..models import Category, Topic

    if can_moderate(user):
        return queryset
    public = Q(security__in=[Category.Security.PUBLIC, Category.Security.READ_ONLY])
    if not user.is_authenticated:
        return queryset.filter(public)
    own_topics = Q(pk__in=Topic.objects.filter(author=user, deleted_at__isnull=True).values("category_id"))
    return queryset.filter(public | _private_membership(user, "pk") | own_topics)


def topics_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Topics `user` may see: every topic the rule below allows, the one place it is written.

    - public and read-only categories: everybody;
    - private categories: the category's groups, its moderators, global moderators,
      and the topic's own author (so the Anonymization channel shows a requester
      their own topics and nobody else's);
    - deleted topics: only people who moderate them;
    - hidden topics (first post hidden for review): their author and people who moderate them.
    """
    if can_moderate(user):
        return queryset
    # Categories are few and cached (access_for): a literal list of ids lets the planner walk the
    # topic indexes without joining categories.
    access = access_for(user)
    if not user.is_authenticated:
        return queryset.filter(
            category_id__in=sorted(access.public_category_ids), deleted_at__isnull=True, hidden_at__isnull=True
        )
    moderated = access.moderated_category_ids
    readable = queryset.filter(
        Q(category_id__in=sorted(access.public_category_ids | access.member_category_ids)) | Q(author=user)
    )
    return readable.filter(
        Q(deleted_at__isnull=True) | Q(category_id__in=sorted(moderated)),
        Q(hidden_at__isnull=True) | Q(author=user) | Q(category_id__in=sorted(moderated)),
    )


def own_topics_beyond_audience(user) -> Q:
    """The live topics `user` sees only because they wrote them, which others who read and moderate
    the same categories do not (`topics_visible_to` without `author=user`, for topics not deleted).
    What is kept for a whole audience (forum/selectors/lists.py) must leave these out."""
    access = access_for(user)
    readable = sorted(access.public_category_ids | access.member_category_ids)
    moderated = sorted(access.moderated_category_ids)
    seen_by_audience = Q(category_id__in=readable) & (Q(hidden_at__isnull=True) | Q(category_id__in=moderated))
    return Q(author=user, deleted_at__isnull=True) & ~seen_by_audience


def topics_visible_to_audience(user, queryset: QuerySet) -> QuerySet:
    """Topics everybody who reads and moderates the categories `user` does may see: what
    `topics_visible_to` allows but `user`'s own topics beyond their audience."""
    topics = topics_visible_to(user, queryset)
    if user.is_authenticated and not can_moderate(user):
        topics = topics.filter(~own_topics_beyond_audience(user))
    return topics


def posts_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Posts in topics `user` may see (deleted and hidden posts included: pages show them as placeholders)."""
    from ..models import Topic

    return queryset.filter(topic__in=topics_visible_to(user, Topic.objects.all()).values("pk"))


def post_texts_readable_by(user, queryset: QuerySet) -> QuerySet:
    """Of `queryset` (posts `user` may see), those whose text `user` may read: a post hidden for
    review only by its author and people who moderate it; and none another app withholds
    (e.g. a result held for its license). Search, emails and revision history use this."""
    from .. import hooks

    if not can_moderate(user):
        readable = Q(hidden="")
        if user.is_authenticated:
            readable |= Q(author=user) | Q(topic__category_id__in=moderated_category_ids(user))
        queryset = queryset.filter(readable)
    return hooks.without_withheld(user=user, posts=queryset)


def can_read_post_text(user, post) -> bool:
    """Whether `user` reads a hidden post's text (its author and who moderates it); any live post
    in a topic they see otherwise. Other apps' withholding is asked separately (hooks)."""
    if not post.hidden:
        return True
    return user.is_authenticated and (post.author_id == user.pk or can_moderate_topic(user, post.topic))


def topic_readers_among(topic, user_ids) -> set[int]:
    """Which of `user_ids` (active people only) may see `topic`: the rule of `topics_visible_to`,
    asked for many people at once (one query), for notification fan-out."""
    from ..models import Category, User

    people = User.objects.filter(pk__in=list(user_ids), is_active=True)
    hidden = topic.deleted_at is not None or topic.hidden_at is not None
    if not hidden and topic.category.security != Category.Security.PRIVATE:
        return set(people.values_list("pk", flat=True))
    allowed = _moderators_q() | Q(moderated_categories=topic.category_id)
    if topic.category.parent_id:
        allowed |= Q(moderated_categories=topic.category.parent_id)
    if topic.deleted_at is None:
        allowed |= Q(pk=topic.author_id)
        if topic.hidden_at is None:
            allowed |= Q(groups__categories=topic.category_id)
    return set(people.filter(allowed).values_list("pk", flat=True).distinct())
