"""Reads for moderation pages: the review queue, the moderation log, the site's pages."""
from django.db.models import Count, Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from ..models import Flag, ModerationLogEntry, ReviewItem, SitePage, TermsVersion, User
from ..permissions import review_items_visible_to


def review_item_list(*, user, status: str = ReviewItem.Status.PENDING) -> QuerySet:
    """Review items `user` may act on, oldest first when pending (newest first otherwise), with
    their post, topic, author and flags (with flaggers) loaded: a fixed number of queries."""
    items = review_items_visible_to(user, ReviewItem.objects.filter(status=status))
    order = ["created_at", "pk"] if status == ReviewItem.Status.PENDING else ["-resolved_at", "-pk"]
    return (
        items.select_related(
            "post", "post__author", "post__topic", "post__topic__category", "resolved_by",
        )
        .prefetch_related(Prefetch("flags", queryset=Flag.objects.select_related("flagger").order_by("created_at")))
        .order_by(*order)
    )


def review_item_get(*, user, pk: int) -> ReviewItem:
    """One review item `user` may act on; 404 otherwise."""
    return get_object_or_404(review_item_list(user=user, status=ReviewItem.Status.PENDING), pk=pk)


def review_item_decided_or_pending_get(*, user, pk: int) -> ReviewItem:
    """A review item `user` may act on, whatever its status (so a late second decision is told
    why it is refused); 404 otherwise."""
    return get_object_or_404(review_items_visible_to(user, ReviewItem.objects.all()), pk=pk)


def personal_data_review_count(*, user) -> int:
    """Pending review items about personal data `user` may act on (held texts and flags): one query."""
    return review_items_visible_to(
        user, ReviewItem.objects.filter(status=ReviewItem.Status.PENDING, personal_data=True)
    ).count()


def review_queue_size(*, user) -> int:
    return review_items_visible_to(user, ReviewItem.objects.filter(status=ReviewItem.Status.PENDING)).count()


def moderation_log_list(*, action: str = "", target: User | None = None) -> QuerySet:
    """The moderation log, newest first, with the people and topics it names loaded."""
    entries = ModerationLogEntry.objects.select_related("actor", "target_user", "topic", "post")
    if action:
        entries = entries.filter(action=action)
    if target is not None:
        entries = entries.filter(target_user=target)
    return entries.order_by("-created_at", "-pk")


def moderation_person_get(*, username: str) -> User:
    """A person as moderators see them: active or not, with flags against them counted."""
    return get_object_or_404(
        User.objects.filter(deleted_at__isnull=True).annotate(
            flags_received=Count("posts__flags", distinct=True),
        ),
        username=username,
    )


def site_page_get(*, slug: str) -> SitePage | None:
    """The staff-written version of a page, or None (the built-in text is shown then)."""
    return SitePage.objects.filter(slug=slug).first()


def terms_version_get(*, version: str) -> TermsVersion:
    return get_object_or_404(TermsVersion, version=version)


def terms_version_list() -> QuerySet:
    return TermsVersion.objects.order_by("-published_at", "-pk").only("version", "published_at", "summary_of_changes")
