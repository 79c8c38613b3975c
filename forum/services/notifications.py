"""Writes about notifications: telling people, fanning a post out to its watchers, reading.

A notification is unique per (person, key), so a retried task or a second
delivery of the same event never tells anybody twice; emails are owed in the
same transaction (see forum/services/mail.py) and sent after commit.
"""
import re

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import hooks
from ..markdown import find_references
from ..models import (
    CategoryNotificationSetting,
    Notification,
    NotificationLevel,
    Post,
    PostLike,
    TagNotificationSetting,
    Topic,
    TopicNotificationSetting,
    User,
)
from ..notifications import LIKED, MENTIONED, MODERATOR_MESSAGE, POSTED, QUOTED, REPLIED
from ..pagecache import bump_on_commit
from ..permissions import check_can_send_moderator_message, post_texts_readable_by, topic_readers_among
from ..selectors.notifications import BELL_GENERATION_SECONDS, BELL_SCOPE
from . import mail

# The composer quotes a post as "@author:" followed by "> " lines (static/js/composer.js).
_QUOTE = re.compile(r"(?m)^@([\w.\-]+):[ \t]*\r?\n>")
MAX_DIRECT_RECIPIENTS = 50  # mentions and quotes notified per post; more are not notified


def bell_changed_on_commit(user_ids) -> None:
    """What these people have unread changed: their bell's kept count is stale now and on commit
    (forum/selectors/notifications.py). Every write that adds, reads or removes a notification calls it."""
    bump_on_commit((BELL_SCOPE.format(user_id) for user_id in user_ids), timeout=BELL_GENERATION_SECONDS)


@transaction.atomic
def notify(
    *, user: User, kind: str, key: str, url: str, actor: User | None = None, topic=None, post=None, title: str = "",
    unreadable_url: str = "",
) -> Notification | None:
    """Tell `user` about something once per `key`, in the caller's transaction; their email
    preference for `kind` decides whether an email is owed too. Returns None when nothing new
    was created (already told, inactive, or `user` did it themselves).

    Someone who cannot read `topic` (e.g. it moved into a private channel) is still told, but
    without its title or link: they get `unreadable_url` (else their notifications page).
    """
    if user is None or not user.is_active or (actor is not None and actor.pk == user.pk):
        return None
    if topic is not None:
        topic = Topic.objects.select_related("category").get(pk=topic.pk)  # a caller's copy may be stale
        if user.pk not in topic_readers_among(topic, [user.pk]):
            topic, post, title = None, None, ""
            url = unreadable_url or reverse("forum:notification-list")
    try:
        with transaction.atomic():
            notification, created = Notification.objects.get_or_create(
                user=user, key=key[:200],
                defaults={
                    "kind": kind, "url": url[:500], "actor": actor, "topic": topic, "post": post,
                    "title": title[:200], "actor_names": [actor.name] if actor else [],
                },
            )
    except IntegrityError:  # a concurrent transaction told them first
        return None
    if not created:
        return None
    notification.user = user
    bell_changed_on_commit([user.pk])
    mail.notification_emails_owe([notification])
    return notification


@transaction.atomic
def notify_many(
    *, user_ids, kind: str, key: str, url: str, actor: User | None = None, topic=None, post=None, title: str = "",
) -> int:
    """`notify` for many people at once: one bulk insert, existing ones left alone. Returns how many
    were told now. Visibility and mutes are the caller's to have checked."""
    user_ids = [uid for uid in user_ids if actor is None or uid != actor.pk]
    if not user_ids:
        return 0
    now = timezone.now()
    rows = [
        Notification(
            user_id=uid, kind=kind, key=key[:200], url=url[:500], actor=actor, topic=topic, post=post,
            title=title[:200], actor_names=[actor.name] if actor else [], created_at=now,
        )
        for uid in user_ids
    ]
    Notification.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)
    # Those stamped with this run's time are new; anybody told before keeps their old row and email.
    created = list(
        Notification.objects.filter(key=key[:200], user_id__in=user_ids, created_at=now, user__is_active=True)
        .select_related("user")
    )
    bell_changed_on_commit(notification.user_id for notification in created)
    mail.notification_emails_owe(created)
    return len(created)


# --- A new post -------------------------------------------------------------------

def _explicit_levels(topic) -> tuple[dict, dict, dict]:
    """Each person's chosen level for the topic, its category and its tags (highest tag wins)."""
    own = dict(TopicNotificationSetting.objects.filter(topic=topic).values_list("user_id", "level"))
    category = dict(
        CategoryNotificationSetting.objects.filter(category_id=topic.category_id).values_list("user_id", "level")
    )
    tags: dict[int, int] = {}
    tag_ids = list(topic.tags.values_list("pk", flat=True))
    if tag_ids:
        for user_id, level in TagNotificationSetting.objects.filter(tag_id__in=tag_ids).values_list("user_id", "level"):
            tags[user_id] = max(level, tags.get(user_id, level))
    return own, category, tags


def _effective_level(user_id: int, topic, levels) -> int:
    own, category, tags = levels
    for chosen in (own, category, tags):
        if user_id in chosen:
            return chosen[user_id]
    # A topic's author watches it unless they chose otherwise, as on Discourse.
    return NotificationLevel.WATCHING if user_id == topic.author_id else NotificationLevel.NORMAL


def _direct_recipients(post) -> dict[int, str]:
    """People this post speaks to, each with the most specific reason: quoted, mentioned, replied to."""
    usernames, _slugs = find_references(post.raw)
    quoted = {name.lower() for name in _QUOTE.findall(post.raw)}
    names = sorted(usernames | quoted)[:MAX_DIRECT_RECIPIENTS]
    kinds: dict[int, str] = {}
    if names:
        for user_id, lower in (
            User.objects.annotate(lower=Lower("username")).filter(lower__in=names).values_list("pk", "lower")
        ):
            kinds[user_id] = QUOTED if lower in quoted else MENTIONED
    if post.reply_to_id and post.reply_to and post.reply_to.author_id not in kinds:
        kinds[post.reply_to.author_id] = REPLIED
    return kinds


def post_notify(*, post_id: int) -> tuple[str, list[int]]:
    """Tell the people a new post speaks to (quoted, mentioned, replied to), now; return the kind
    and ids of the watchers still to tell, for the caller to fan out in chunks.

    Muted topics and people who cannot read the topic are left out.
    """
    post = (
        Post.objects.select_related("topic", "topic__category", "author", "reply_to")
        .filter(pk=post_id, deleted_at__isnull=True, hidden="", topic__deleted_at__isnull=True).first()
    )
    if post is None:
        return POSTED, []
    topic = post.topic
    levels = _explicit_levels(topic)
    watcher_kind = hooks.post_notification_kind(post=post) or POSTED
    direct = _direct_recipients(post)
    if post.number > 1 and topic.author_id not in direct:
        # The asker hears about every answer in their own topic (unless they lowered its level).
        level = _effective_level(topic.author_id, topic, levels)
        if level >= NotificationLevel.NORMAL:
            direct[topic.author_id] = watcher_kind if watcher_kind != POSTED else REPLIED
    direct.pop(post.author_id, None)
    direct = {
        uid: kind for uid, kind in direct.items() if _effective_level(uid, topic, levels) != NotificationLevel.MUTED
    }
    readers = _post_readers_among(post, direct)
    by_kind: dict[str, list[int]] = {}
    for uid, kind in direct.items():
        if uid in readers:
            by_kind.setdefault(kind, []).append(uid)
    with transaction.atomic():
        for kind, user_ids in by_kind.items():
            notify_many(user_ids=user_ids, kind=kind, key=f"post:{post.pk}", url=post.get_absolute_url(),
                        actor=post.author, topic=topic, post=post, title=topic.title)
    candidates = set().union(*(set(d) for d in levels)) | {topic.author_id}
    watchers = sorted(
        uid for uid in candidates
        if uid not in direct and uid != post.author_id
        and _effective_level(uid, topic, levels) == NotificationLevel.WATCHING
    )
    return watcher_kind, watchers


@transaction.atomic
def post_notify_watchers(*, post_id: int, kind: str, user_ids) -> int:
    """Tell one chunk of a post's watchers, in bulk; returns how many were told now."""
    post = (
        Post.objects.select_related("topic", "topic__category", "author")
        .filter(pk=post_id, deleted_at__isnull=True, hidden="", topic__deleted_at__isnull=True).first()
    )
    if post is None:
        return 0
    readers = _post_readers_among(post, user_ids)
    return notify_many(
        user_ids=sorted(readers), kind=kind, key=f"post:{post.pk}", url=post.get_absolute_url(),
        actor=post.author, topic=post.topic, post=post, title=post.topic.title,
    )


def _post_readers_among(post: Post, user_ids) -> set[int]:
    """Which of `user_ids` may read `post`: its topic's readers, and of those, when another app holds
    the post (a result held for its license), only the people that app lets read it. A held post is
    rare, so asking person by person there costs nothing elsewhere (one query otherwise)."""
    readers = topic_readers_among(post.topic, user_ids)
    if not readers or hooks.without_held(posts=Post.objects.filter(pk=post.pk)).exists():
        return readers
    return {user.pk for user in User.objects.filter(pk__in=readers)
            if post_texts_readable_by(user, Post.objects.filter(pk=post.pk)).exists()}


def post_notify_queue(post: Post) -> None:
    """Queue telling people about a new post, after the current transaction commits."""
    from ..tasks import notify_post

    notify_post.delay_on_commit(post_id=post.pk)


# --- Likes ------------------------------------------------------------------------

def like_notify(*, post: Post, actor: User) -> None:
    """Tell a post's author about a like, batching likes into their unread notification
    ("Ana and 4 others liked…"). Runs inside `post_like`, which holds the post's lock."""
    existing = (
        Notification.objects.select_for_update()
        .filter(user_id=post.author_id, kind=LIKED, post=post, read_at__isnull=True).first()
    )
    if existing is None:
        author = User.objects.get(pk=post.author_id)
        notify(user=author, kind=LIKED, key=f"liked:{post.pk}:{actor.pk}", url=post.get_absolute_url(),
               actor=actor, topic=post.topic, post=post, title=post.topic.title)
        return
    # Count people, not events: likes since the author last read a notification about this post's
    # likes (an unlike and like again is still one person).
    last_read = Notification.objects.filter(
        user_id=post.author_id, kind=LIKED, post=post, read_at__isnull=False).aggregate(at=Max("read_at"))["at"]
    likes = PostLike.objects.filter(post=post)
    if last_read is not None:
        likes = likes.filter(created_at__gt=last_read)
    existing.count = max(likes.count(), 1)
    existing.actor = actor
    existing.actor_names = [actor.name, *[n for n in existing.actor_names if n != actor.name]][:3]
    existing.created_at = timezone.now()
    existing.save(update_fields=["count", "actor", "actor_names", "created_at"])


# --- Moderator messages -----------------------------------------------------------

@transaction.atomic
def moderator_message_send(*, actor: User, recipient: User, text: str) -> Notification:
    """A moderator's short message to one person, delivered as a notification (and email)."""
    check_can_send_moderator_message(actor, recipient)
    text = " ".join(text.split())
    if not text:
        raise ValidationError({"text": _("Please write something.")})
    if len(text) > 200:
        raise ValidationError({"text": _("Please keep the message under 200 characters.")})
    notification = notify(
        user=recipient, kind=MODERATOR_MESSAGE, key=f"moderator-message:{actor.pk}:{timezone.now().timestamp()}",
        url=reverse("forum:notification-list"), actor=actor, title=text,
    )
    if notification is None:
        raise ValidationError({"text": _("This person cannot receive messages.")})
    return notification


# --- Reading ----------------------------------------------------------------------

@transaction.atomic
def notification_open(*, user: User, notification_id: int) -> Notification:
    """Mark one of `user`'s notifications read and return it (to follow its link).
    Someone else's notification does not exist for them."""
    from ..selectors.notifications import notification_list

    notification = notification_list(user=user).filter(pk=notification_id).first()
    if notification is None:
        raise Notification.DoesNotExist
    if notification.read_at is None:
        Notification.objects.filter(pk=notification.pk, read_at__isnull=True).update(read_at=timezone.now())
        bell_changed_on_commit([user.pk])
    return notification


@transaction.atomic
def notifications_mark_all_read(*, user: User) -> int:
    """Mark every notification of `user` read; returns how many were unread."""
    marked = Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
    if marked:
        bell_changed_on_commit([user.pk])
    return marked


def notifications_mark_read_in_topic(*, user: User, topic_id: int, up_to_number: int) -> int:
    """Reading a topic up to a post clears notifications about it and the posts before it
    (so no email is sent about what was read). One UPDATE."""
    if not user.is_authenticated:
        return 0
    marked = Notification.objects.filter(
        Q(post__isnull=True) | Q(post__number__lte=up_to_number),
        user=user, topic_id=topic_id, read_at__isnull=True,
    ).update(read_at=timezone.now())
    if marked:
        bell_changed_on_commit([user.pk])
    return marked
