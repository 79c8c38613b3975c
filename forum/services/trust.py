"""Trust levels: earned by taking part, they lift the limits a new account starts with.

Levels 0-2 only ever rise on their own; level 3 (regular) is kept only while its
requirements hold (a moderator agreeing with a flag on the person's posts takes it away,
back to level 2). Activity is counted in totals: a long absence alone does not. A moderator
may set a level and lock it, after which activity changes nothing.
"""
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Flag, ModerationLogEntry, Post, TopicRead, TrustLevel, User
from ..permissions import check_can_restrict_user

AGREED_FLAGS_WINDOW_DAYS = 100


def trust_facts(user: User) -> dict:
    """What `user` has done that trust levels count (four queries)."""
    posts = Post.objects.filter(author=user, deleted_at__isnull=True, hidden="")
    since = timezone.now() - timedelta(days=AGREED_FLAGS_WINDOW_DAYS)
    return {
        "days": (timezone.now() - user.date_joined).days,
        "topics_read": TopicRead.objects.filter(user=user).exclude(topic__author=user).count(),
        "posts": posts.count(),
        "likes_received": posts.aggregate(total=Sum("like_count"))["total"] or 0,
        "agreed_flags": Flag.objects.filter(
            post__author=user, outcome=Flag.Outcome.AGREED, created_at__gte=since
        ).values("post").distinct().count(),
    }


def trust_level_earned(facts: dict) -> int:
    """The highest level whose requirements (settings.FORUM_TRUST_LEVELS) `facts` meet."""
    earned = TrustLevel.NEW
    for level in sorted(settings.FORUM_TRUST_LEVELS):
        needs = settings.FORUM_TRUST_LEVELS[level]
        if all(facts.get(name, 0) >= minimum for name, minimum in needs.items()):
            earned = level
        else:
            break
    if earned >= TrustLevel.REGULAR and facts.get("agreed_flags", 0):
        earned = TrustLevel.MEMBER
    return earned


@transaction.atomic
def trust_level_update(*, user_id: int) -> int:
    """Recompute a person's level from their activity (unless locked). Locks the person row."""
    user = User.objects.select_for_update().get(pk=user_id)
    if user.trust_level_locked or not user.is_active:
        return user.trust_level
    earned = trust_level_earned(trust_facts(user))
    if user.trust_level >= TrustLevel.REGULAR:
        level = max(earned, TrustLevel.MEMBER)  # a regular may lose level 3, never more
    else:
        level = max(user.trust_level, earned)
    if level != user.trust_level:
        User.objects.filter(pk=user.pk).update(trust_level=level)
    return level


@transaction.atomic
def trust_level_set(*, actor: User, user_id: int, level: int, locked: bool, reason: str = "") -> User:
    """A moderator sets a person's level; `locked` keeps activity from changing it. Locks the person."""
    from .moderation import moderation_log

    user = User.objects.select_for_update().get(pk=user_id)
    check_can_restrict_user(actor, user)
    try:
        level = TrustLevel(int(level))
    except (TypeError, ValueError):
        raise ValidationError({"level": _("Choose a trust level between 0 and 3.")}) from None
    before = (user.trust_level, user.trust_level_locked)
    user.trust_level, user.trust_level_locked = level, bool(locked)
    if (user.trust_level, user.trust_level_locked) == before:
        return user
    user.save(update_fields=["trust_level", "trust_level_locked"])
    if locked and not before[1]:
        action = ModerationLogEntry.Action.TRUST_LOCKED
    elif not locked and before[1]:
        action = ModerationLogEntry.Action.TRUST_UNLOCKED
    else:
        action = ModerationLogEntry.Action.TRUST_CHANGED
    moderation_log(actor=actor, action=action, target_user=user, reason=" ".join(reason.split()),
                   detail={"from": before[0], "to": int(level), "locked": bool(locked)})
    return user


def trust_level_update_queue(user: User) -> None:
    """Recompute `user`'s level after the current transaction commits (not for level 3 and up:
    only the periodic sweep can lower a regular)."""
    from ..tasks import update_trust_level

    if user.is_authenticated and not user.trust_level_locked and user.trust_level < TrustLevel.REGULAR:
        update_trust_level.delay_on_commit(user_id=user.pk)


def trust_levels_update_all(*, batch_size: int = 500) -> int:
    """Recompute every active, unlocked person's level, in batches; returns how many changed."""
    changed = 0
    last_pk = 0
    while True:
        batch = list(
            User.objects.filter(pk__gt=last_pk, is_active=True, trust_level_locked=False)
            .order_by("pk").values_list("pk", "trust_level")[:batch_size]
        )
        if not batch:
            return changed
        for pk, level in batch:
            if trust_level_update(user_id=pk) != level:
                changed += 1
        last_pk = batch[-1][0]
