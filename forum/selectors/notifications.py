"""Reads for the bell, the notifications page and the notification settings page."""
from django.db.models import Q

from ..models import DigestSubscription, EmailPreference, Notification, Topic
from ..notifications import kind_get, notification_kinds
from ..permissions import topics_visible_to


def unread_notification_count(*, user) -> int:
    """How many notifications `user` has not read (one indexed count)."""
    if not user.is_authenticated:
        return 0
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


def notification_list(*, user):
    """`user`'s notifications, newest first, each with `text` set when iterated through
    `describe_notifications`. Those about a topic `user` can no longer see (moved to a private
    channel, deleted) are left out. A fixed number of queries per page."""
    visible = topics_visible_to(user, Topic.objects.all()).values("pk")
    return (
        Notification.objects.filter(user=user)
        .filter(Q(topic__isnull=True) | Q(topic__in=visible))
        .order_by("-created_at", "-pk")
    )


def describe_notifications(notifications) -> list:
    """Set `text` (the sentence shown) and `kind_label` on each notification of a page."""
    for notification in notifications:
        kind = kind_get(notification.kind)
        actor = notification.actor_names[0] if notification.actor_names else ""
        notification.text = kind.describe(actor=actor, title=notification.title, count=notification.count)
        notification.kind_label = kind.label
    return notifications


def notification_settings_for(*, user) -> dict:
    """The digest schedule and, per kind, the email delivery `user` has (their choice or the default)."""
    chosen = dict(EmailPreference.objects.filter(user=user).values_list("kind", "delivery"))
    kinds = [
        {"kind": kind, "delivery": chosen.get(name, kind.email_default)} for name, kind in notification_kinds().items()
    ]
    subscription = DigestSubscription.objects.filter(user=user).first()
    return {"kinds": kinds, "subscription": subscription}
