"""The checks a post passes before it is saved: new members' limits on links, images and topics,
the same text twice, and whether a new member's post waits for approval."""
import re
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import Post, Topic, User
from ..permissions import is_new_member

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


def _should_hold(actor: User, post: Post) -> bool:
    """Whether a new member's just-saved `post` waits for approval (settings.FORUM_HOLD_FIRST_POSTS)."""
    held_first = settings.FORUM_HOLD_FIRST_POSTS
    if not held_first or not is_new_member(actor):
        return False
    published = Post.objects.filter(author=actor, deleted_at__isnull=True, hidden="").exclude(pk=post.pk).count()
    return published < held_first
