"""What people do with topics and posts: reply, edit, delete, like, flag, quote, pin, move, post."""
from django.core.exceptions import PermissionDenied
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _

from .roles import (
    can_moderate,
    can_moderate_category,
    can_moderate_topic,
    check_can_moderate_topic,
    group_category_ids,
)
from .visibility import can_read_post_text, post_texts_readable_by


def check_not_silenced(user) -> None:
    """Silenced people read but do not write until the silence ends; they see why."""
    if user.is_authenticated and user.is_silenced():
        raise PermissionDenied(
            _("A moderator silenced you until %(until)s: %(reason)s") % {
                "until": formats.date_format(timezone.localtime(user.silenced_until), "DATETIME_FORMAT"),
                "reason": user.silence_reason,
            }
        )


def can_reply(user, topic) -> bool:
    """Whoever may post in the category replies, unless the topic is closed (moderators still can)
    or archived or deleted (nobody can)."""
    if not user.is_authenticated or topic.archived or topic.deleted_at or user.is_silenced():
        return False
    if topic.closed and not can_moderate_topic(user, topic):
        return False
    if topic.author_id == user.pk:
        return True
    from ..models import Category

    category = topic.category
    if category.security == Category.Security.PRIVATE:
        # Members may start their own private topics there, not answer other people's.
        return can_moderate_category(user, category) or category.pk in group_category_ids(user)
    return can_post_in_category(user, category)


def check_can_reply(user, topic) -> None:
    check_not_silenced(user)
    if not can_reply(user, topic):
        if topic.closed:
            raise PermissionDenied(_("This topic is closed to new replies."))
        if topic.archived:
            raise PermissionDenied(_("This topic is archived."))
        raise PermissionDenied(_("You cannot reply in this topic."))


def can_edit_post(user, post) -> bool:
    """Authors edit their live posts in live topics; moderators edit any post they moderate."""
    if not user.is_authenticated:
        return False
    if can_moderate_topic(user, post.topic):
        return True
    return (
        post.author_id == user.pk and not post.deleted_at and not post.topic.archived
        and not post.topic.deleted_at and not user.is_silenced()
    )


def check_can_edit_post(user, post) -> None:
    if post.author_id == user.pk and not can_moderate_topic(user, post.topic):
        check_not_silenced(user)
    if not can_edit_post(user, post):
        raise PermissionDenied(_("You cannot edit this post."))


def can_delete_post(user, post) -> bool:
    """Whoever may edit a live post deletes it; a silenced author still may (e.g. to take back
    something that should not have been posted)."""
    if post.deleted_at is not None:
        return False
    if can_edit_post(user, post):
        return True
    return (
        user.is_authenticated and post.author_id == user.pk and not post.topic.archived
        and not post.topic.deleted_at
    )


def check_can_delete_post(user, post) -> None:
    if not can_delete_post(user, post):
        raise PermissionDenied(_("You cannot delete this post."))


def can_restore_post(user, post) -> bool:
    return post.deleted_at is not None and can_moderate_topic(user, post.topic)


def check_can_restore_post(user, post) -> None:
    if not can_restore_post(user, post):
        raise PermissionDenied(_("Only moderators can restore posts."))


def can_see_deleted_content(user, topic) -> bool:
    """Moderators read what a deleted post said; everybody else sees a placeholder."""
    return can_moderate_topic(user, topic)


def can_like_post(user, post) -> bool:
    """One like per person, never on your own post, not on deleted posts or archived topics."""
    return (
        user.is_authenticated and post.author_id != user.pk and post.deleted_at is None and not post.hidden
        and not post.topic.archived and post.topic.deleted_at is None and not user.is_silenced()
    )


def can_quote_post(user, post) -> bool:
    """Whether `user` may quote `post` into a reply: a live, shown post whose text they may read, other
    apps' holds included (a result held for its license is quoted by nobody but who may read it)."""
    from ..models import Post

    if post.deleted_at is not None or post.hidden:
        return False
    return post_texts_readable_by(user, Post.objects.filter(pk=post.pk)).exists()


def _check_reads_post_text(user, post, message) -> None:
    """Liking or flagging needs the text to be readable by `user`, other apps' holds included (e.g. a
    result held for its license). One query; pages hide the buttons already (hooks.mark_posts)."""
    from ..models import Post

    if not post_texts_readable_by(user, Post.objects.filter(pk=post.pk)).exists():
        raise PermissionDenied(message)


def check_can_like_post(user, post) -> None:
    check_not_silenced(user)
    if not user.is_authenticated or post.author_id == user.pk:
        raise PermissionDenied(_("You cannot like your own post."))
    if not can_like_post(user, post):
        raise PermissionDenied(_("This post cannot be liked."))
    _check_reads_post_text(user, post, _("This post cannot be liked."))


def can_pin_globally(user) -> bool:
    return can_moderate(user)


def check_can_pin_globally(user) -> None:
    if not can_pin_globally(user):
        raise PermissionDenied(_("Only global moderators can pin a topic everywhere."))


def can_retreat_topic(user, topic, destination) -> bool:
    """A topic's author may move it into a private channel that takes members' topics
    (e.g. on realising the data may identify a patient): it only gets less visible."""
    from ..models import Category

    return (
        user.is_authenticated and topic.author_id == user.pk and topic.deleted_at is None
        and destination.security == Category.Security.PRIVATE and destination.members_start_private_topics
    )


def can_release_topic(user, topic, destination) -> bool:
    """The anonymization team and moderators release a reviewed topic from a private channel
    that takes members' topics into a public category. Only services call this (after a
    review); the Move page never does."""
    from ..models import Category

    source = topic.category
    return (
        user.is_authenticated and (user.has_perm("forum.triage_anonymization") or can_moderate(user))
        and topic.deleted_at is None
        and source.security == Category.Security.PRIVATE and source.members_start_private_topics
        and destination.is_public
    )


def check_can_move_topic(user, topic, destination) -> None:
    """Moving needs moderation rights both where the topic is and where it goes,
    except an author's retreat into a private channel."""
    if can_retreat_topic(user, topic, destination):
        return
    check_can_moderate_topic(user, topic)
    if not can_moderate_category(user, destination):
        raise PermissionDenied(_("You cannot move topics into this category."))


def can_post_in_category(user, category) -> bool:
    """Members post in public categories and start private topics where the category allows;
    otherwise only the category's groups and moderators post."""
    from ..models import Category

    if not user.is_authenticated or user.is_silenced():
        return False
    if can_moderate_category(user, category) or category.security == Category.Security.PUBLIC:
        return True
    if category.security == Category.Security.PRIVATE and category.members_start_private_topics:
        return True
    return category.pk in group_category_ids(user)


def check_can_post_in_category(user, category) -> None:
    check_not_silenced(user)
    if not can_post_in_category(user, category):
        raise PermissionDenied(_("You cannot post in this category."))


def can_flag_post(user, post) -> bool:
    """Signed-in people flag other people's live posts whose text they can read, unless silenced."""
    return (
        user.is_authenticated and post.author_id != user.pk and post.deleted_at is None
        and post.topic.deleted_at is None and can_read_post_text(user, post) and not user.is_silenced()
    )


def check_can_flag_post(user, post) -> None:
    if not user.is_authenticated or post.author_id == user.pk:
        raise PermissionDenied(_("You cannot flag your own post."))
    check_not_silenced(user)
    if not can_flag_post(user, post):
        raise PermissionDenied(_("This post cannot be flagged."))
    _check_reads_post_text(user, post, _("This post cannot be flagged."))
