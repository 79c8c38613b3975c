"""Who sees what of licensing: held items, and the moderators' report."""
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from forum.models import Topic
from forum.permissions import can_moderate, can_moderate_topic, topics_visible_to


def can_see_held(user, item) -> bool:
    """A held item is shown to its author and to moderators only."""
    if not item.is_held:
        return True
    return user.is_authenticated and (item.author_id == user.pk or can_moderate_topic(user, item.topic))


def can_read_license_report(user) -> bool:
    """Moderators read the report of held items and counts per license."""
    return can_moderate(user)


def check_can_read_license_report(user) -> None:
    if not can_read_license_report(user):
        raise PermissionDenied


def items_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Items on topics `user` may read, their posts not deleted; held ones only for their authors
    and moderators."""
    topics = topics_visible_to(user, Topic.objects.filter(deleted_at__isnull=True)).values("pk")
    queryset = queryset.filter(topic__in=topics).filter(Q(post__isnull=True) | Q(post__deleted_at__isnull=True))
    if can_moderate(user):
        return queryset
    shown = ~Q(state="held")
    if user.is_authenticated:
        shown |= Q(author=user)
    return queryset.filter(shown)
