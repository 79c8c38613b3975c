"""Writes on the shared space: categories, topics, posts, revisions and moderation.

Every write that changes what an anonymous visitor could see invalidates the
anonymous page cache after commit, and reindexes the posts it touched for search.
"""
import re
from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import extensions, search
from ..markdown import find_references, render_post
from ..models import Category, Post, PostRevision, Topic, TopicEvent, TopicRead, TrustLevel, User
from ..pagecache import invalidate_on_commit
from ..permissions import (
    can_release_topic,
    check_can_delete_post,
    check_can_edit_post,
    check_can_moderate_topic,
    check_can_move_topic,
    check_can_pin_globally,
    check_can_post_in_category,
    check_can_reply,
    check_can_restore_post,
    is_new_member,
)
from .notifications import notifications_mark_read_in_topic, post_notify_queue

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


# Counted in the sanitized HTML, whose attributes are always double-quoted. Images are never
# embedded: the renderer turns them into links marked "image-link" (forum/markdown.py).
_LINK = re.compile(r"<a\s([^>]*)>(.*?)</a>", re.IGNORECASE | re.DOTALL)
_HREF = re.compile(r"\bhref=\"([^\"]*)\"", re.IGNORECASE)
_OFFSITE = re.compile(r"^\s*(?:https?:|[/\\]{2})", re.IGNORECASE)


def _offsite_links(html: str) -> tuple[int, int]:
    """(links, images) that lead off the site. A bare file or host name the renderer turned into
    a link (e.g. README.md) is not counted: spam spells its links out."""
    links = images = 0
    for attributes, text in _LINK.findall(html):
        href = _HREF.search(attributes)
        if href is None or not _OFFSITE.match(href.group(1).replace("&amp;", "&")):
            continue
        if 'class="image-link"' in attributes:
            images += 1
            continue
        bare = re.sub(r"^https?://", "", href.group(1), flags=re.IGNORECASE).rstrip("/")
        if text == bare and not text.lower().startswith("www.") and "/" not in text:
            continue
        links += 1
    return links, images


def _check_new_member_limits(actor: User, html: str, field: str = "raw") -> None:
    """New members' posts carry few links and no images: most spam is links."""
    if not is_new_member(actor):
        return
    links, images = _offsite_links(html)
    limit = settings.FORUM_NEW_USER_MAX_LINKS
    errors = []
    if links > limit:
        errors.append(ngettext(
            "New members can put at most %(limit)d link in a post, and this one has %(count)d. "
            "Remove some links, or take part a little first: the limit is lifted as you do.",
            "New members can put at most %(limit)d links in a post, and this one has %(count)d. "
            "Remove some links, or take part a little first: the limit is lifted as you do.",
            limit,
        ) % {"limit": limit, "count": links})
    if images > settings.FORUM_NEW_USER_MAX_IMAGES:
        errors.append(_(
            "New members cannot put images in posts yet. Link to the image instead, or take part a "
            "little first: the limit is lifted as you do."
        ))
    if errors:
        raise ValidationError({field: errors})


def _check_new_member_topics(actor: User) -> None:
    if not is_new_member(actor):
        return
    limit = settings.FORUM_NEW_USER_TOPICS_PER_DAY
    since = timezone.now() - timedelta(days=1)
    if Topic.objects.filter(author=actor, created_at__gte=since).count() >= limit:
        raise ValidationError(ngettext(
            "New members can start %(limit)d topic a day. Please reply in an existing topic, or try again "
            "tomorrow.",
            "New members can start %(limit)d topics a day. Please reply in an existing topic, or try again "
            "tomorrow.",
            limit,
        ) % {"limit": limit})


def _check_duplicate(actor: User, raw: str) -> None:
    """The same text twice from one person is a double click or spam: refuse the second."""
    minutes = settings.FORUM_DUPLICATE_POST_MINUTES
    if not minutes:
        return
    since = timezone.now() - timedelta(minutes=minutes)
    if Post.objects.filter(author=actor, created_at__gte=since, deleted_at__isnull=True, raw=raw).exists():
        raise ValidationError({"raw": _(
            "You already posted exactly this text recently. If it did not appear, reload the page; "
            "otherwise please change it before posting again."
        )})


def screen_fields(fields: dict) -> dict:
    """The identifier check (extensions.screen_text) of several fields about to be published, read
    as one text (a name in the title and a birth date in the body hold together). Each finding
    gets its "field" and its place within that field."""
    parts, offsets, position = [], [], 0
    for name, text in fields.items():
        text = text or ""
        offsets.append((name, position, position + len(text)))
        parts.append(text)
        position += len(text) + 2
    screening = extensions.screen_text("\n\n".join(parts))
    for finding in screening["findings"]:
        for name, start, end in offsets:
            if start <= finding["start"] < end + 2:
                finding.update(field=name, start=finding["start"] - start, end=min(finding["end"], end) - start)
                break
    return screening


def _should_hold(actor: User, post: Post) -> bool:
    """Whether a new member's just-saved `post` waits for approval (settings.FORUM_HOLD_FIRST_POSTS)."""
    held_first = settings.FORUM_HOLD_FIRST_POSTS
    if not held_first or not is_new_member(actor):
        return False
    published = Post.objects.filter(author=actor, deleted_at__isnull=True, hidden="").exclude(pk=post.pk).count()
    return published < held_first


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


# --- Topics and posts -------------------------------------------------------------

@transaction.atomic
def topic_create(*, actor: User, category: Category, title: str, raw: str, tags=(), details: dict | None = None
                 ) -> Topic:
    """Open a topic with its first post. The post's HTML is rendered here, once.

    `details` are other fields published with the topic (e.g. a request's structured fields,
    by name): they go through the identifier check with the title and the text.

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
    invalidate_on_commit()
    post.topic = topic
    _publish_or_hold(post, actor, fields={"title": title, "raw": raw, **(details or {})})
    topic.first_post = post
    topic.mentions = rendered.mentions
    return topic


def _publish_or_hold(post: Post, actor: User, *, fields: dict) -> None:
    """Tell people about a new post; or hold it for the anonymization team if the identifier check
    finds what may identify a patient in `fields`, or for approval if its author is new (and the
    site says so). Either way the author's trust level is looked at again afterwards."""
    from .moderation import post_hold, post_hold_identifying
    from .trust import trust_level_update_queue

    screening = screen_fields(fields)
    post.findings = screening["findings"]
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
    invalidate_on_commit()
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
    details: dict | None = None,
) -> Post:
    """The edit itself, on a post locked by `_lock_post` whose editing the caller allowed.

    With `screen` (everybody but a reviewer cleaning a held text), the new version goes through
    the identifier check: if it may identify a patient, a shown post keeps its old text and the
    new version waits for the anonymization team (`post.edit_held`); a post already hidden takes
    the edit and waits as before. `details` are other published fields checked with it.
    """
    from .moderation import edit_hold_identifying, post_hold_identifying, withdraw_held_edit

    topic = post.topic
    new_title = topic.title
    post.edit_held = False
    if title is not None and post.number == 1:
        new_title = _clean_title(title)
    if raw == post.raw and new_title == topic.title and not details:
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
        fields = {"title": new_title, "raw": raw, **(details or {})} if post.number == 1 else {"raw": raw}
        screening = screen_fields(fields)
        post.findings = screening["findings"]
        if screening["hold"] and not post.hidden and post.deleted_at is None:
            edit_hold_identifying(post, actor=actor, raw=raw, title=new_title if post.number == 1 else "",
                                  findings=screening["findings"])
            post.edit_held = True
            return post
        withdraw_held_edit(post)
        if screening["hold"] or post.hidden:  # hidden already: it waits for the team, with what is found now
            post_hold_identifying(post, findings=screening["findings"], hold=screening["hold"])
    if raw == post.raw and new_title == topic.title:
        return post
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
    from .moderation import withdraw_held_edit

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
        refusal = extensions.topic_move_refusal(topic=topic, destination=category)
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


# --- Reading ----------------------------------------------------------------------

def topic_mark_read(*, user: User, topic: Topic, number: int) -> None:
    """Move `user`'s read position in `topic` forward to post `number`; never backward, and
    clear their notifications about the posts read.

    The first read also counts one view. Safe under concurrent requests: the
    unique row and a conditional UPDATE decide, not a read-then-write.
    """
    if not user.is_authenticated or number < 1:
        return
    now = timezone.now()
    notifications_mark_read_in_topic(user=user, topic_id=topic.pk, up_to_number=number)
    with transaction.atomic():
        updated = TopicRead.objects.filter(user=user, topic=topic, last_read_number__lt=number).update(
            last_read_number=number, updated_at=now
        )
        if updated:
            return
        _read, created = TopicRead.objects.get_or_create(
            user=user, topic=topic,
            defaults={"last_read_number": number, "first_read_at": now, "updated_at": now},
        )
        if created:
            Topic.objects.filter(pk=topic.pk).update(view_count=F("view_count") + 1)
            if user.trust_level == TrustLevel.NEW:  # reading is what earns the first level
                from .trust import trust_level_update_queue

                trust_level_update_queue(user)


# --- Maintenance ------------------------------------------------------------------

def posts_rerender(*, apply: bool, batch_size: int = 500, stdout=None) -> dict:
    """Render every post and bio again with the current renderer; store what changed if `apply`.

    Runs in batches, each in its own transaction, so a long run holds no lock for
    long and can be interrupted and restarted. A post whose text the current
    renderer refuses keeps its stored HTML and is counted as failed.
    """
    from ..markdown import render_markdown

    counts = {"checked": 0, "changed": 0, "failed": 0}
    last_pk = 0
    while True:
        batch = list(Post.objects.filter(pk__gt=last_pk).order_by("pk").only("pk", "raw", "html")[:batch_size])
        if not batch:
            break
        changed = []
        for post in batch:
            counts["checked"] += 1
            try:
                html = render_post_text(post.raw).html
            except ValidationError:
                counts["failed"] += 1
                if stdout:
                    stdout.write(f"post {post.pk}: the current renderer refuses its text; kept as it was")
                continue
            if html != post.html:
                post.html = html
                changed.append(post)
        counts["changed"] += len(changed)
        if apply and changed:
            with transaction.atomic():
                Post.objects.bulk_update(changed, ["html"])
        last_pk = batch[-1].pk
    for user in User.objects.exclude(bio="").only("pk", "bio", "bio_html").iterator():
        counts["checked"] += 1
        try:
            html = render_markdown(user.bio)
        except ValidationError:
            counts["failed"] += 1
            continue
        if html != user.bio_html:
            counts["changed"] += 1
            if apply:
                User.objects.filter(pk=user.pk).update(bio_html=html)
    if apply and counts["changed"]:
        invalidate_on_commit()
    return counts
