"""What a digest says: sections of news for one person (or, for newsletter subscribers, the public).

Every section is one or two queries whatever the site holds; other apps add
sections through the `digest_sections` hook of their forum extension module.
"""
import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q
from django.utils.translation import gettext as _
from taggit.models import TaggedItem

from .. import hooks
from ..models import (
    Category,
    CategoryNotificationSetting,
    EmailPreference,
    Notification,
    NotificationLevel,
    OutboundEmail,
    Post,
    TagNotificationSetting,
    Topic,
)
from ..notifications import Delivery, kind_get, notification_kinds
from ..permissions import topics_visible_to

ITEMS_PER_SECTION = 10


@dataclass
class DigestItem:
    title: str
    url: str  # absolute
    detail: str = ""


@dataclass
class DigestSection:
    title: str
    items: list = field(default_factory=list)


def absolute(path: str) -> str:
    return settings.SITE_URL + path


def _watched_topics(user, since, now) -> DigestSection:
    watching = NotificationLevel.WATCHING
    categories = CategoryNotificationSetting.objects.filter(user=user, level=watching).values("category_id")
    tagged = TaggedItem.objects.filter(
        content_type=ContentType.objects.get_for_model(Topic),
        tag_id__in=TagNotificationSetting.objects.filter(user=user, level=watching).values("tag_id"),
    ).values("object_id")
    new_topics = Topic.objects.filter(created_at__gte=since, created_at__lt=now, deleted_at__isnull=True)
    topics = (  # public areas only: an email never carries a private channel's titles
        topics_visible_to(user, new_topics).exclude(category__security=Category.Security.PRIVATE)
        .filter(Q(category_id__in=categories) | Q(pk__in=tagged)).exclude(author=user)
    )
    shown_first_posts = hooks.without_held(posts=Post.objects.filter(number=1, hidden=""))
    topics = topics.filter(pk__in=shown_first_posts.values("topic_id")).select_related("category")
    return DigestSection(_("New in categories and tags you watch"), [
        DigestItem(topic.title, absolute(topic.get_absolute_url()), topic.category.name)
        for topic in topics.order_by("-created_at")[:ITEMS_PER_SECTION]
    ])


def _unread_for_you(user, since, now) -> DigestSection:
    """Unread notifications of the kinds the person wants in the digest, never one that was (or is
    about to be) emailed on its own, and only about public topics (or no topic: those carry no title)."""
    chosen = dict(EmailPreference.objects.filter(user=user).values_list("kind", "delivery"))
    kinds = [name for name, kind in notification_kinds().items()
             if chosen.get(name, kind.email_default) == Delivery.DIGEST]
    public = topics_visible_to(user, Topic.objects.exclude(category__security=Category.Security.PRIVATE)).values("pk")
    notifications = (
        Notification.objects.filter(user=user, read_at__isnull=True, kind__in=kinds, created_at__gte=since,
                                    created_at__lt=now)
        .filter(Q(topic__isnull=True) | Q(topic__in=public))
        .filter(Q(post__isnull=True) | Q(
            post__in=hooks.without_held(posts=Post.objects.filter(hidden="")).values("pk")))
        .exclude(pk__in=OutboundEmail.objects.filter(user=user, notification__isnull=False).exclude(
            status=OutboundEmail.Status.SKIPPED).values("notification_id"))
        .order_by("-created_at")[:ITEMS_PER_SECTION]
    )
    items = []
    for notification in notifications:
        actor = notification.actor_names[0] if notification.actor_names else ""
        text = kind_get(notification.kind).describe(actor=actor, title=notification.title, count=notification.count)
        items.append(DigestItem(text, absolute(notification.url)))
    return DigestSection(_("Waiting for you"), items)


def digest_sections(*, user, since: datetime.datetime, now: datetime.datetime) -> list[DigestSection]:
    """The non-empty sections of one digest: for an account holder (`user`), or the public
    newsletter (`user` None). Only what the reader may see; nothing held for its license."""
    viewer = user if user is not None else AnonymousUser()
    sections = []
    if user is not None:
        sections += [_unread_for_you(user, since, now), _watched_topics(user, since, now)]
    sections += hooks.digest_sections(user=viewer, since=since, now=now)
    return [section for section in sections if section.items]
