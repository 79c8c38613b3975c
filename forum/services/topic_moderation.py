"""Arranging the shared space: categories, and moderators' changes to topics (pinning, closing,
archiving, moving, tags) and to what their posts' history shows.

Every write invalidates the anonymous page cache after commit.
"""
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.translation import gettext as _

from .. import hooks
from ..models import Category, Post, PostRevision, Topic, TopicEvent, User
from ..pagecache import invalidate_on_commit
from ..permissions import (
    can_release_topic,
    check_can_edit_post,
    check_can_moderate_topic,
    check_can_move_topic,
    check_can_pin_globally,
)
from .content import _event, _lock_post, _lock_topic, clean_tags

# --- Categories -------------------------------------------------------------------

@transaction.atomic
def category_create(
    *, name: str, slug: str, description: str = "", color: str = "#2563eb", position: int = 0,
    security: str = Category.Security.PUBLIC, group_names=(), parent: Category | None = None,
    members_start_private_topics: bool = False, moderators=(),
) -> Category:
    """Create a category; `group_names` are the groups that read (private) or post (read-only)."""
    category = Category(
        name=name, slug=slug, description=description, color=color, position=position,
        security=security, parent=parent, members_start_private_topics=members_start_private_topics,
    )
    category.full_clean()
    category.save()
    category.groups.set(Group.objects.filter(name__in=group_names))
    category.moderators.set(moderators)
    invalidate_on_commit()
    return category


# --- Moderation -------------------------------------------------------------------

@transaction.atomic
def topic_set_pinned(*, actor: User, topic_id: int, pinned: bool, globally: bool = False) -> Topic:
    """Pin a topic at the top of its category, or everywhere (global moderators); or unpin it."""
    topic = _lock_topic(topic_id)
    check_can_moderate_topic(actor, topic)
    if globally and pinned:
        check_can_pin_globally(actor)
    if not pinned and topic.pinned_globally:
        check_can_pin_globally(actor)
    before = (topic.pinned, topic.pinned_globally)
    topic.pinned = pinned
    topic.pinned_globally = pinned and globally
    if (topic.pinned, topic.pinned_globally) == before:
        return topic
    topic.save(update_fields=["pinned", "pinned_globally"])
    if not pinned:
        kind = TopicEvent.Kind.UNPINNED
    else:
        kind = TopicEvent.Kind.PINNED_GLOBALLY if globally else TopicEvent.Kind.PINNED
    _event(topic, actor, kind)
    invalidate_on_commit()
    return topic


def _set_flag(*, actor: User, topic_id: int, field: str, value: bool, on: str, off: str) -> Topic:
    topic = _lock_topic(topic_id)
    check_can_moderate_topic(actor, topic)
    if getattr(topic, field) == value:
        return topic
    setattr(topic, field, value)
    topic.save(update_fields=[field])
    _event(topic, actor, on if value else off)
    invalidate_on_commit()
    return topic


@transaction.atomic
def topic_set_closed(*, actor: User, topic_id: int, closed: bool) -> Topic:
    """Close a topic to new replies, or reopen it. Locks the topic."""
    return _set_flag(
        actor=actor, topic_id=topic_id, field="closed", value=closed,
        on=TopicEvent.Kind.CLOSED, off=TopicEvent.Kind.OPENED,
    )


@transaction.atomic
def topic_set_archived(*, actor: User, topic_id: int, archived: bool) -> Topic:
    """Freeze a topic (no replies, edits or likes), or unfreeze it. Locks the topic."""
    return _set_flag(
        actor=actor, topic_id=topic_id, field="archived", value=archived,
        on=TopicEvent.Kind.ARCHIVED, off=TopicEvent.Kind.UNARCHIVED,
    )


@transaction.atomic
def topic_move(*, actor: User, topic_id: int, category: Category, release: bool = False) -> Topic:
    """Move a topic to another category, recording from where. Locks the topic.

    `release` is for a reviewed topic leaving a private channel (see `can_release_topic`).
    """
    topic = _lock_topic(topic_id)
    if not (release and can_release_topic(actor, topic, category)):
        check_can_move_topic(actor, topic, category)
        refusal = hooks.topic_move_refusal(topic=topic, destination=category)
        if refusal:
            raise PermissionDenied(refusal)
    if topic.category_id == category.pk:
        return topic
    source = topic.category
    topic.category = category
    topic.save(update_fields=["category"])
    if not source.is_public and category.is_public:
        # Leaving a private channel (e.g. cleared by the anonymization team): only the
        # current text of each post goes public, never what an edit redacted.
        _hide_earlier_revisions(Post.objects.filter(topic=topic))
    private_name = _("a private category")
    _event(
        topic, actor, TopicEvent.Kind.MOVED,
        detail=_("from %(source)s to %(destination)s") % {
            "source": source.name if source.is_public else private_name,
            "destination": category.name if category.is_public else private_name,
        },
    )
    invalidate_on_commit()
    return topic


def _hide_earlier_revisions(posts) -> int:
    hidden = 0
    for post_id, revision_count in posts.values_list("pk", "revision_count"):
        hidden += PostRevision.objects.filter(post_id=post_id, number__lt=revision_count, hidden=False).update(
            hidden=True
        )
    return hidden


@transaction.atomic
def post_hide_history(*, actor: User, post_id: int) -> int:
    """Hide every earlier version of a post from everyone but moderators (after a redaction).

    The versions are kept for the audit trail; returns how many were hidden.
    """
    post = _lock_post(post_id)
    check_can_moderate_topic(actor, post.topic)
    hidden = _hide_earlier_revisions(Post.objects.filter(pk=post.pk))
    if hidden:
        _event(post.topic, actor, TopicEvent.Kind.HISTORY_HIDDEN, post_number=post.number)
        invalidate_on_commit()
    return hidden


@transaction.atomic
def topic_set_tags(*, actor: User, topic_id: int, tags) -> Topic:
    """Replace a topic's tags (its author or a moderator). Locks the topic."""
    topic = _lock_topic(topic_id)
    first_post = Post.objects.get(topic=topic, number=1)
    first_post.topic = topic
    check_can_edit_post(actor, first_post)
    topic.tags.set(clean_tags(tags))
    invalidate_on_commit()
    return topic
