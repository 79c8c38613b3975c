"""Moderation: the review queue, restrictions, the moderation log and site pages."""
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from .roles import _moderators_q, can_moderate, moderated_category_ids
from .visibility import _private_membership


def can_triage_personal_data(user) -> bool:
    """The anonymization team reviews posts flagged as containing personal data."""
    return user.is_authenticated and user.has_perm("forum.triage_anonymization")


def can_use_review_queue(user) -> bool:
    """Moderators, category moderators and the anonymization team (personal-data flags) review."""
    return can_moderate(user) or bool(moderated_category_ids(user)) or can_triage_personal_data(user)


def check_can_use_review_queue(user) -> None:
    if not can_use_review_queue(user):
        raise PermissionDenied(_("Only moderators can review flagged posts."))


def review_items_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Review items `user` may act on: all (moderators); their categories' (category moderators);
    posts flagged for personal data in topics they can read (the anonymization team)."""
    from ..models import Category

    if can_moderate(user):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    allowed = Q(post__topic__category_id__in=moderated_category_ids(user))
    if can_triage_personal_data(user):
        # The category rule of topics_visible_to, without its hidden-topic rule: hiding is
        # exactly what a personal-data flag does, and the team must still read the post.
        public = Q(post__topic__category__security__in=[Category.Security.PUBLIC, Category.Security.READ_ONLY])
        readable = public | _private_membership(user, "post__topic__category_id")
        allowed |= Q(personal_data=True, post__topic__deleted_at__isnull=True) & readable
    return queryset.filter(allowed)


def can_review_item(user, item) -> bool:
    """Whether `user` may act on one review item (see `review_items_visible_to`)."""
    from ..models import ReviewItem

    return review_items_visible_to(user, ReviewItem.objects.filter(pk=item.pk)).exists()


def check_can_review_item(user, item) -> None:
    if not can_review_item(user, item):
        raise PermissionDenied(_("You cannot review this post."))


def can_restrict_user(user, target) -> bool:
    """Global moderators silence, suspend, set trust levels and delete spammers; never of
    themselves, staff or other moderators."""
    return (
        can_moderate(user) and user.pk != target.pk and not target.is_staff and not target.is_superuser
        and not target.has_perm("forum.moderate")
    )


def restrictable_user_ids(user, user_ids) -> set[int]:
    """Which of `user_ids` `user` may restrict (see `can_restrict_user`), in one query for a list page."""
    from ..models import User

    if not can_moderate(user):
        return set()
    protected = Q(is_staff=True) | Q(pk=user.pk) | _moderators_q()
    ids = set(user_ids)
    return ids - set(User.objects.filter(pk__in=ids).filter(protected).values_list("pk", flat=True))


def check_can_restrict_user(user, target) -> None:
    if not can_restrict_user(user, target):
        raise PermissionDenied(_("You cannot moderate this person."))


def can_read_moderation_log(user) -> bool:
    return can_moderate(user)


def check_can_read_moderation_log(user) -> None:
    if not can_read_moderation_log(user):
        raise PermissionDenied(_("Only moderators read the moderation log."))


def can_edit_site_pages(user) -> bool:
    """Staff edit the guidelines, the FAQ and publish new terms."""
    return user.is_authenticated and user.is_staff and user.is_active


def check_can_edit_site_pages(user) -> None:
    if not can_edit_site_pages(user):
        raise PermissionDenied(_("Only staff can edit site pages."))
