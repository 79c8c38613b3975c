"""Who sees what of licensing: held items, and the moderators' report.

One rule says who reads held content (an item held for its license, and the post or files it
covers): its author and the people who moderate its topic, global moderators and the topic's
category moderators alike (they already read posts hidden for review there). `can_see_held` asks
it of one item and `held_readable_q` of many; every page, search, email and hook uses these two.
"""
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet

from forum.models import Topic
from forum.permissions import can_moderate, can_moderate_topic, moderated_category_ids, topics_visible_to


def can_see_held(user, item) -> bool:
    """Whether `user` reads `item` (any item: one that is not held is for everybody who sees its topic)."""
    if not item.is_held:
        return True
    return user.is_authenticated and (item.author_id == user.pk or can_moderate_topic(user, item.topic))


def held_readable_q(user) -> Q | None:
    """The held items `user` reads, as a filter on LicensedItem (the rule of `can_see_held`); None
    when they read every held item (global moderators)."""
    if can_moderate(user):
        return None
    if not user.is_authenticated:
        return Q(pk__in=[])
    return Q(author=user) | Q(topic__category_id__in=moderated_category_ids(user))


def can_read_license_report(user) -> bool:
    """Moderators read the report of held items and counts per license."""
    return can_moderate(user)


def check_can_read_license_report(user) -> None:
    if not can_read_license_report(user):
        raise PermissionDenied


def items_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Items on topics `user` may read, their posts not deleted; held ones only for who may read them."""
    topics = topics_visible_to(user, Topic.objects.filter(deleted_at__isnull=True)).values("pk")
    queryset = queryset.filter(topic__in=topics).filter(Q(post__isnull=True) | Q(post__deleted_at__isnull=True))
    readable = held_readable_q(user)
    if readable is None:
        return queryset
    return queryset.filter(~Q(state="held") | readable)
