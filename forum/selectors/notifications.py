"""Reads for the bell, the notifications page and the notification settings page."""
from dataclasses import dataclass

from django.db.models import Count, Q

from ..models import DigestSubscription, EmailPreference, Notification, Topic
from ..notifications import kind_get, notification_kinds
from ..permissions import topics_visible_to
from .counts import audience, counted


def _visible_to_owner(user):
    """`user`'s notifications less those about a topic they can no longer see (moved into a
    private channel, deleted): listed, counted and opened alike."""
    visible = topics_visible_to(user, Topic.objects.all()).values("pk")
    return Notification.objects.filter(user=user).filter(Q(topic__isnull=True) | Q(topic__in=visible))


# One generation per person, bumped by every change to what they have unread
# (forum/services/notifications.py `bell_changed_on_commit`).
BELL_SCOPE = "forum:bell:generation:{}"
BELL_GENERATION_SECONDS = 30 * 24 * 3600  # one per person who was told something lately, not forever
# Above this many topics with something unread, which topics is not kept (only the count).
MAX_UNREAD_TOPICS_KEPT = 200


@dataclass(frozen=True)
class UnreadSummary:
    count: int
    topic_ids: frozenset | None  # the topics the unread ones are about; None: too many to keep

    def about(self, topic_id) -> bool:
        """Whether some unread notification may be about `topic_id` (so reading it has some to clear)."""
        return self.count > 0 and (self.topic_ids is None or topic_id in self.topic_ids)


NOTHING_UNREAD = UnreadSummary(0, frozenset())


def _compute_unread(user) -> UnreadSummary:
    rows = (
        _visible_to_owner(user).filter(read_at__isnull=True)
        .order_by().values("topic_id").annotate(unread=Count("pk")).values_list("topic_id", "unread")
    )
    by_topic = dict(rows)
    topic_ids = frozenset(by_topic) if len(by_topic) <= MAX_UNREAD_TOPICS_KEPT else None
    return UnreadSummary(sum(by_topic.values()), topic_ids)


def unread_notification_summary(*, user) -> UnreadSummary:
    """How many notifications `user` has not read, and about which topics: one cache round trip,
    or one grouped query on the unread index after something changed them. Kept beside the person's
    bell generation, the site's generation (a topic hidden, moved or deleted) and what they may
    read (`audience`), so it is never older than any of these."""
    if not user.is_authenticated:
        return NOTHING_UNREAD
    return counted(bell_name(user), lambda: _compute_unread(user), scope=BELL_SCOPE.format(user.pk))


def bell_name(user) -> str:
    """What `user`'s kept count is named by (`counted`): the version changes with UnreadSummary's
    fields, so a deploy never reads older ones; the audience, so a role taken counts at once."""
    return f"bell:1 {audience(user)}"


def unread_notification_count(*, user) -> int:
    """How many notifications `user` has not read (see `unread_notification_summary`)."""
    return unread_notification_summary(user=user).count


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
