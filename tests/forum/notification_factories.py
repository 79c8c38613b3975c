"""Helpers for the notification, email and digest tests. All data is obviously synthetic."""
from django.test import TestCase
from taggit.models import Tag

from forum import services
from forum.models import Notification, NotificationLevel, OutboundEmail


def committed(function, /, **kwargs):
    """Call a service and run what it queued for after commit (the fan-out task, the emails),
    as the workers would once the transaction commits."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return function(**kwargs)


def reply(author, topic, raw="A synthetic reply.", *, reply_to_number=None):
    """`author` replies in `topic`; the fan-out and the emails run as after a commit."""
    return committed(services.post_create, actor=author, topic_id=topic.pk, raw=raw, reply_to_number=reply_to_number)


def watch(user, *, topic=None, category=None, tag=None, level=NotificationLevel.WATCHING):
    """Set `user`'s level on a topic, a category or a tag (by name)."""
    if isinstance(tag, str):
        tag = Tag.objects.get(name=tag)
    services.notification_level_set(user=user, level=level, topic=topic, category=category, tag=tag)


def told(user, **filters) -> list[Notification]:
    """`user`'s notifications, oldest first."""
    return list(Notification.objects.filter(user=user, **filters).order_by("pk"))


def kinds_about(post) -> dict[int, list[str]]:
    """Who was told about `post`, and as what: {user id: [kind, ...]}."""
    kinds: dict[int, list[str]] = {}
    for user_id, kind in Notification.objects.filter(post=post).values_list("user_id", "kind").order_by("pk"):
        kinds.setdefault(user_id, []).append(kind)
    return kinds


def emails_to(user) -> list[OutboundEmail]:
    return list(OutboundEmail.objects.filter(to=user.email).order_by("pk"))
