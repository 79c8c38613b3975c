"""Reads for the bell, the notifications page and the notification settings page."""
from django.db.models import Q

from ..models import DigestSubscription, EmailPreference, Notification, Topic
from ..notifications import kind_get, notification_kinds
from ..permissions import topics_visible_to


def _visible_to_owner(user):
    """`user`'s notifications less those about a topic they can no longer see (moved into a
    private channel, deleted): listed, counted and opened alike."""
    visible = topics_visible_to(user, Topic.objects.all()).values("pk")
    return Notification.objects.filter(user=user).filter(Q(topic__isnull=True) | Q(topic__in=visible))


def unread_notification_count(*, user) -> int:
    """How many notifications `user` has not read (one count on the unread index)."""
    if not user.is_authenticated:
        return 0
    return _visible_to_owner(user).filter(read_at__isnull=True).count()


def notification_list(*, user):
    """`user`'s notifications, newest first (see `describe_notifications` for their text).
    A fixed number of queries per page."""
    return _visible_to_owner(user).order_by("-created_at", "-pk")


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
