"""Writes on the shared space: topics, posts and revisions, and the reading position.

Every write that changes what an anonymous visitor could see invalidates the
anonymous page cache after commit, and reindexes the posts it touched for search.
Categories and moderators' changes to topics are in `topic_moderation`, the checks a
post passes before it is saved in `posting_limits`, holds in `holds`.
"""
from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _

from .. import hooks, search
from ..markdown import find_references, render_post
from ..models import Category, Post, PostRevision, Topic, TopicEvent, TopicRead, TrustLevel, User
from ..pagecache import invalidate_on_commit
from ..permissions import (
    check_can_delete_post,
    check_can_edit_post,
    check_can_post_in_category,
    check_can_reply,
    check_can_restore_post,
)
from .notifications import notifications_mark_read_in_topic, post_notify_queue
from .posting_limits import _check_duplicate, _check_new_member_limits, _check_new_member_topics, _should_hold

# --- Helpers ----------------------------------------------------------------------


MAX_REFERENCES = 50  # mentions and category links resolved per post; more stay plain text


def render_post_text(raw: str):
    """Render a post: resolve @mentions of active people and #links to public categories.

    Private categories are never linked: the HTML is stored once and shown to everybody.
    Raises ValidationError when the text is out of bounds.
    """
    usernames, slugs = find_references(raw)
    usernames = sorted(usernames)[:MAX_REFERENCES]
    slugs = sorted(slugs)[:MAX_REFERENCES]
    users = {}
    if usernames:
        for username in (
            User.objects.filter(is_active=True).annotate(lower=Lower("username"))
            .filter(lower__in=usernames).values_list("username", flat=True)
        ):
            users[username.lower()] = (username, reverse("forum:profile-detail", kwargs={"username": username}))
    categories = {}
    if slugs:
        for slug, name in (
            Category.objects.exclude(security=Category.Security.PRIVATE)
            .filter(slug__in=slugs).values_list("slug", "name")
        ):
            categories[slug] = (name, reverse("forum:category-detail", kwargs={"slug": slug}))
    return render_post(raw, users=users, categories=categories)


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise ValidationError({"title": _("Please give the topic a title.")})
    if len(title) > 200:
        raise ValidationError({"title": _("Please keep the title under 200 characters.")})
    return title


def clean_tags(tags) -> list[str]:
    """Normalize tag names (lower case, dashes) and enforce the per-topic limit."""
    cleaned = []
    for tag in tags:
        name = slugify(str(tag).strip().lower())[:40]
        if name and name not in cleaned:
            cleaned.append(name)
    limit = settings.FORUM_MAX_TAGS_PER_TOPIC
    if len(cleaned) > limit:
        raise ValidationError({"tags": _("Choose at most %(limit)d tags.") % {"limit": limit}})
    return cleaned


def _render_or_field_error(raw: str, field: str = "raw"):
    if not raw.strip():
        raise ValidationError({field: _("Please write something.")})
    try:
        return render_post_text(raw)
    except ValidationError as error:
        raise ValidationError({field: error.messages}) from None


def screen_fields(fields: dict) -> dict:
    """The identifier check (hooks.screen_text) of several fields about to be published, read
    as one text (a name in the title and a birth date in the body hold together). Each finding
    gets its "field" and its place within that field."""
    parts, offsets, position = [], [], 0
    for name, text in fields.items():
        text = text or ""
        offsets.append((name, position, position + len(text)))
        parts.append(text)
        position += len(text) + 2
    screening = hooks.screen_text("\n\n".join(parts))
    for finding in screening["findings"]:
        for name, start, end in offsets:
            if start <= finding["start"] < end + 2:
                finding.update(field=name, start=finding["start"] - start, end=min(finding["end"], end) - start)
                break
    return screening


def _event(topic: Topic, actor: User, kind: str, *, post_number=None, detail: str = "") -> None:
    TopicEvent.objects.create(topic=topic, actor=actor, kind=kind, post_number=post_number, detail=detail[:300])


def _lock_topic(topic_id: int) -> Topic:
    return Topic.objects.select_for_update().select_related("category").get(pk=topic_id)


def _lock_post(post_id: int) -> Post:
    """Lock a post and its topic, topic first (the order every service uses, so none deadlock)."""
    topic_id = Post.objects.values_list("topic_id", flat=True).get(pk=post_id)
    topic = _lock_topic(topic_id)
    post = Post.objects.select_for_update().get(pk=post_id)
    post.topic = topic
    return post


# --- Topics and posts -------------------------------------------------------------

@transaction.atomic
def topic_create(*, actor: User, category: Category, title: str, raw: str, tags=()) -> Topic:
    """Open a topic with its first post. The post's HTML is rendered here, once; the title and
    text go through the identifier check together.

    Locks the author's row, so a double click cannot pass the duplicate and per-day checks twice.
    """
    check_can_post_in_category(actor, category)
    User.objects.select_for_update().only("pk").get(pk=actor.pk)
    errors = {}
    try:
        title = _clean_title(title)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        tags = clean_tags(tags)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        rendered = _render_or_field_error(raw)
        _check_new_member_limits(actor, rendered.html)
        _check_duplicate(actor, raw)
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        _check_new_member_topics(actor)
    except ValidationError as error:
        errors.setdefault(NON_FIELD_ERRORS, []).extend(error.messages)
    if errors:
        raise ValidationError(errors)
    now = timezone.now()
    topic = Topic.objects.create(
        category=category, title=title, slug=slugify(title)[:200] or "topic", author=actor,
        created_at=now, last_posted_at=now, last_poster=actor, post_count=1, last_post_number=1,
    )
    post = Post.objects.create(
        topic=topic, author=actor, number=1, raw=raw, html=rendered.html, created_at=now, updated_at=now
    )
    PostRevision.objects.create(post=post, number=1, editor=actor, created_at=now, raw=raw, title=title)
    if tags:
        topic.tags.set(tags)
    TopicRead.objects.create(user=actor, topic=topic, last_read_number=1, first_read_at=now, updated_at=now)
    Topic.objects.filter(pk=topic.pk).update(view_count=1)
    search.index_posts([post.pk])
    invalidate_on_commit(topic_ids=[topic.pk])  # a new topic shows in the lists, nowhere else yet
    post.topic = topic
    _publish_or_hold(post, actor, fields={"title": title, "raw": raw})
    topic.first_post = post
    topic.mentions = rendered.mentions
    return topic


def _publish_or_hold(post: Post, actor: User, *, fields: dict) -> None:
    """Tell people about a new post; or hold it for the anonymization team if the identifier check
    finds what may identify a patient in `fields`, or for approval if its author is new (and the
    site says so). Either way the author's trust level is looked at again afterwards."""
    from .holds import post_hold, post_hold_identifying
    from .trust import trust_level_update_queue

    screening = screen_fields(fields)
    post.held_identifying = screening["hold"]
    if screening["hold"]:
        if _should_hold(actor, post):
            post_hold(post)  # a new member's post waits for a moderator too: held for approval first
        post_hold_identifying(post, findings=screening["findings"])
        post.held = True
    elif _should_hold(actor, post):
        post_hold(post)
        post.held = True
    else:
        post_notify_queue(post)
        post.held = False
    trust_level_update_queue(actor)


@transaction.atomic
def post_create(*, actor: User, topic_id: int, raw: str, reply_to_number: int | None = None) -> Post:
    """Reply in a topic. Locks the topic row so concurrent replies get distinct, dense numbers."""
    topic = _lock_topic(topic_id)
    check_can_reply(actor, topic)
    rendered = _render_or_field_error(raw)
    _check_new_member_limits(actor, rendered.html)
    _check_duplicate(actor, raw)
    reply_to = None
    if reply_to_number:
        reply_to = Post.objects.filter(topic=topic, number=reply_to_number).first()
    now = timezone.now()
    number = topic.last_post_number + 1
    post = Post.objects.create(
        topic=topic, author=actor, number=number, reply_to=reply_to, raw=raw, html=rendered.html,
        created_at=now, updated_at=now,
    )
    PostRevision.objects.create(post=post, number=1, editor=actor, created_at=now, raw=raw)
    Topic.objects.filter(pk=topic.pk).update(
        post_count=F("post_count") + 1, last_post_number=number, last_posted_at=now, last_poster=actor,
    )
    topic_mark_read(user=actor, topic=topic, number=number)
    search.index_posts([post.pk])
    invalidate_on_commit(topic_ids=[topic.pk])  # a reply shows on its topic's pages and in the lists only
    post.topic = topic
    _publish_or_hold(post, actor, fields={"raw": raw})
    post.mentions = rendered.mentions
    return post


@transaction.atomic
def post_edit(*, actor: User, post_id: int, raw: str | None, title: str | None = None, reason: str = "") -> Post:
    """Change a post's text (and its topic's title, for a first post), keeping a revision.
    `raw` None keeps the text (a title-only edit), read under the lock.

    Locks the topic and the post. Saving unchanged text records nothing.
    """
    post = _lock_post(post_id)
    check_can_edit_post(actor, post)
    return edit_locked_post(post, actor=actor, raw=post.raw if raw is None else raw, title=title, reason=reason)


def edit_locked_post(
    post: Post, *, actor: User, raw: str, title: str | None = None, reason: str = "", screen: bool = True,
) -> Post:
    """The edit itself, on a post locked by `_lock_post` whose editing the caller allowed.

    With `screen` (everybody but a reviewer cleaning a held text), the new version goes through
    the identifier check: if it may identify a patient, a shown post keeps its old text and the
    new version waits for the anonymization team (`post.edit_held`); a post already hidden takes
    the edit and waits as before.
    """
    from .holds import edit_hold_identifying, post_hold_identifying, withdraw_held_edit

    topic = post.topic
    new_title = topic.title
    post.edit_held = False
    if title is not None and post.number == 1:
        new_title = _clean_title(title)
    if raw == post.raw and new_title == topic.title:
        if screen:
            withdraw_held_edit(post)  # saving the published text again takes a held edit back
        return post
    rendered = _render_or_field_error(raw)
    if screen and reason and screen_fields({"reason": reason})["hold"]:
        raise ValidationError({"reason": _(
            "The reason for the edit is public in the post's history; please leave out what could identify a "
            "patient."
        )})
    if actor.pk == post.author_id:
        _check_new_member_limits(actor, rendered.html)
    if screen:
        screening = screen_fields({"title": new_title, "raw": raw} if post.number == 1 else {"raw": raw})
        if screening["hold"] and not post.hidden and post.deleted_at is None:
            edit_hold_identifying(post, actor=actor, raw=raw, title=new_title if post.number == 1 else "",
                                  findings=screening["findings"])
            post.edit_held = True
            return post
        withdraw_held_edit(post)
        if screening["hold"] or post.hidden:  # hidden already: it waits for the team, with what is found now
            post_hold_identifying(post, findings=screening["findings"], hold=screening["hold"])
    now = timezone.now()
    post.revision_count += 1  # the row is locked, so a plain increment is safe
    post.raw, post.html, post.edited_at, post.updated_at = raw, rendered.html, now, now
    post.save(update_fields=["raw", "html", "revision_count", "edited_at", "updated_at"])
    PostRevision.objects.create(
        post=post, number=post.revision_count, editor=actor, created_at=now, raw=raw,
        title=new_title if post.number == 1 else "", reason=reason.strip()[:200],
    )
    if new_title != topic.title:
        topic.title = new_title
        topic.slug = slugify(new_title)[:200] or "topic"
        topic.save(update_fields=["title", "slug"])
    search.index_posts([post.pk])
    invalidate_on_commit()
    post.mentions = rendered.mentions
    return post


def _set_post_deleted(post: Post, actor: User, *, deleted: bool) -> None:
    """Soft-delete or restore a locked post, moving its counts off or back onto its topic.

    A first post carries its topic with it. Authors tidying their own replies is not
    moderation, so only other people's deletes are recorded as events.
    """
    from .holds import withdraw_held_edit

    topic = post.topic
    if deleted:
        withdraw_held_edit(post)  # a deleted post's held edit is never to be published
    now = timezone.now() if deleted else None
    post.deleted_at, post.deleted_by = now, actor if deleted else None
    post.save(update_fields=["deleted_at", "deleted_by"])
    sign = -1 if deleted else 1
    Topic.objects.filter(pk=topic.pk).update(
        post_count=F("post_count") + sign, like_count=F("like_count") + sign * post.like_count
    )
    if post.number == 1:
        Topic.objects.filter(pk=topic.pk).update(deleted_at=now, deleted_by=post.deleted_by)
        kind = TopicEvent.Kind.TOPIC_DELETED if deleted else TopicEvent.Kind.TOPIC_RESTORED
        _event(topic, actor, kind, post_number=1)
    elif not deleted or actor.pk != post.author_id:
        kind = TopicEvent.Kind.POST_DELETED if deleted else TopicEvent.Kind.POST_RESTORED
        _event(topic, actor, kind, post_number=post.number)
    search.index_posts([post.pk])
    invalidate_on_commit()


@transaction.atomic
def post_delete(*, actor: User, post_id: int) -> Post:
    """Soft-delete a post; deleting a first post deletes the whole topic. Locks topic and post."""
    post = _lock_post(post_id)
    check_can_delete_post(actor, post)
    _set_post_deleted(post, actor, deleted=True)
    return post


@transaction.atomic
def post_restore(*, actor: User, post_id: int) -> Post:
    """Undo a soft delete (moderators); restoring a first post restores its topic. Locks topic and post."""
    post = _lock_post(post_id)
    check_can_restore_post(actor, post)
    _set_post_deleted(post, actor, deleted=False)
    return post


# --- Reading ----------------------------------------------------------------------

def topic_mark_read(*, user: User, topic: Topic, number: int, notifications: bool = True) -> int:
    """Move `user`'s read position in `topic` forward to post `number`; never backward, and
    clear their notifications about the posts read.

    The first read also counts one view. Safe under concurrent requests: the
    unique row and a conditional UPDATE decide, not a read-then-write. A topic read with
    the reader's position (`read_number`, forum.selectors.topic_get) already at `number` or
    beyond is not written again. `notifications` False: the caller knows `user` has no unread
    notification, so none is looked for. Returns how many notifications it marked read.
    """
    if not user.is_authenticated or number < 1:
        return 0
    now = timezone.now()
    marked = 0
    if notifications:
        marked = notifications_mark_read_in_topic(user=user, topic_id=topic.pk, up_to_number=number)
    known = getattr(topic, "read_number", None)
    if known is not None and known >= number:
        return marked
    with transaction.atomic():
        updated = TopicRead.objects.filter(user=user, topic=topic, last_read_number__lt=number).update(
            last_read_number=number, updated_at=now
        )
        if updated:
            return marked
        _read, created = TopicRead.objects.get_or_create(
            user=user, topic=topic,
            defaults={"last_read_number": number, "first_read_at": now, "updated_at": now},
        )
        if created:
            Topic.objects.filter(pk=topic.pk).update(view_count=F("view_count") + 1)
            if user.trust_level == TrustLevel.NEW:  # reading is what earns the first level
                from .trust import trust_level_update_queue

                trust_level_update_queue(user)
    return marked
