"""Writes about what each person does with posts: likes, bookmarks, notification levels."""
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from taggit.models import Tag

from ..models import (
    Bookmark,
    Category,
    CategoryNotificationSetting,
    NotificationLevel,
    Post,
    PostLike,
    TagNotificationSetting,
    Topic,
    TopicNotificationSetting,
    User,
)
from ..pagecache import PERSON_LISTS_KEY, bump_on_commit, invalidate_on_commit
from ..permissions import check_can_like_post, post_texts_readable_by, posts_visible_to
from .content import _lock_post
from .notifications import like_notify


@transaction.atomic
def post_like(*, actor: User, post_id: int) -> bool:
    """Like a post once; returns False if `actor` had liked it already.

    The unique (user, post) row decides under concurrency; counters move with F().
    """
    post = _lock_post(post_id)  # a delete or restore cannot run between the check and the counters
    check_can_like_post(actor, post)
    try:
        with transaction.atomic():
            PostLike.objects.create(user=actor, post=post)
    except IntegrityError:
        return False
    Post.objects.filter(pk=post.pk).update(like_count=F("like_count") + 1)
    Topic.objects.filter(pk=post.topic_id).update(like_count=F("like_count") + 1)
    like_notify(post=post, actor=actor)
    invalidate_on_commit(topic_ids=[post.topic_id])  # counts on its topic's pages, the lists, profiles
    return True


@transaction.atomic
def post_unlike(*, actor: User, post_id: int) -> bool:
    """Take back a like; returns False if there was none."""
    post = _lock_post(post_id)
    deleted, _by_model = PostLike.objects.filter(user=actor, post=post).delete()
    if not deleted:
        return False
    Post.objects.filter(pk=post.pk).update(like_count=F("like_count") - 1)
    if post.deleted_at is None:  # a deleted post's likes were already taken off its topic
        Topic.objects.filter(pk=post.topic_id).update(like_count=F("like_count") - 1)
    invalidate_on_commit(topic_ids=[post.topic_id])
    return True


@transaction.atomic
def bookmark_set(*, actor: User, post_id: int, note: str = "") -> Bookmark:
    """Bookmark a post `actor` can read, with an optional note, or change the note of an existing bookmark."""
    # Only a text the person may read: not one hidden for review, nor one another app withholds
    # (a result held for its license), which a bookmark list would otherwise lead back to.
    if not post_texts_readable_by(actor, posts_visible_to(actor, Post.objects.filter(pk=post_id))).exists():
        raise PermissionDenied(_("You cannot bookmark this post."))
    bookmark, _created = Bookmark.objects.update_or_create(
        user=actor, post_id=post_id, defaults={"note": note.strip()[:300]},
    )
    return bookmark


@transaction.atomic
def bookmark_remove(*, actor: User, post_id: int) -> bool:
    return Bookmark.objects.filter(user=actor, post_id=post_id).delete()[0] > 0


@transaction.atomic
def notification_level_set(
    *, user: User, level: int, topic: Topic | None = None, category: Category | None = None,
    tag: Tag | None = None,
) -> None:
    """Set how closely `user` follows one topic, category or tag (watch, track, normal, mute)."""
    level = NotificationLevel(int(level))
    defaults = {"level": level, "updated_at": timezone.now()}
    if topic is not None:
        TopicNotificationSetting.objects.update_or_create(user=user, topic=topic, defaults=defaults)
    elif category is not None:
        CategoryNotificationSetting.objects.update_or_create(user=user, category=category, defaults=defaults)
    elif tag is not None:
        TagNotificationSetting.objects.update_or_create(user=user, tag=tag, defaults=defaults)
    else:
        raise ValueError("notification_level_set needs a topic, category or tag")
    bump_on_commit([PERSON_LISTS_KEY.format(user.pk)])  # a mute changes what their lists leave out
