"""Topic list rows rendered once and kept in the cache, the reader's own badge laid over each.

A row shows the same to every reader but for its "new" / "3 new" badge, so the cached HTML is
keyed by everything the row shows (`_row_key`, forum/fragments.py): a changed title, count, tag,
name or "5 minutes ago" is a new key, and nothing needs invalidating. Only the badge is made per
request.
"""
from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, ngettext

from ..fragments import fragment_key, kept_fragments

register = template.Library()

READER_MARK = "<!--reader-->"
TEMPLATE = "forum/_topic_row.html"
TEMPLATES = (TEMPLATE, "forum/_swatch.html")  # the row's and the one it includes


def _row_key(topic, show_category: bool) -> str:
    category, author = topic.category, topic.author
    return fragment_key("forum:row", TEMPLATES, (
        bool(show_category), topic.pk, topic.title, topic.slug,
        bool(getattr(topic, "is_pinned", False)), topic.closed, topic.archived,
        category.pk, category.name, category.slug, category.color, author.name,
        tuple((tag.slug, tag.name) for tag in topic.tags.all()),
        topic.reply_count, topic.like_count, topic.view_count,
        topic.last_posted_at.isoformat() if topic.last_posted_at else "", naturaltime(topic.last_posted_at),
    ))


def _reader_badge(topic, user) -> str:
    """The badge the reader alone sees: never opened, or how many posts came since they read it."""
    if not user.is_authenticated:
        return ""
    if getattr(topic, "read_number", None) is None:
        return format_html('<span class="badge badge-new">{}</span>', gettext("new"))
    unread = topic.unread_count
    if not unread:
        return ""
    return format_html(
        '<a class="badge badge-unread" href="{}">{}</a>', reverse("forum:topic-unread", args=[topic.pk]),
        ngettext("%(counter)s new", "%(counter)s new", unread) % {"counter": unread},
    )


def rows_html(topics, show_category) -> list[str]:
    """Each of `topics`' row, its reader's badge left out (`READER_MARK`): one cache round trip,
    rendering only rows not kept."""
    return kept_fragments(
        topics, [_row_key(topic, show_category) for topic in topics],
        lambda topic: render_to_string(TEMPLATE, {"topic": topic, "show_category": show_category}),
    )


@register.simple_tag(takes_context=True)
def topic_rows(context, topics, show_category=False):
    """The `<tr>` of each of `topics`: topics, or rows a list page kept already rendered
    (`forum.selectors.lists.KeptRow`, which carry their `row_html`)."""
    user = context.get("user")
    topics = list(topics)
    if all(hasattr(topic, "row_html") for topic in topics):
        rows = [topic.row_html for topic in topics]
    else:
        rows = rows_html(topics, show_category)
    rows = [row.replace(READER_MARK, _reader_badge(topic, user) if user is not None else "", 1)
            for topic, row in zip(topics, rows, strict=True)]
    # Rows rendered by our template (autoescaped), badges by format_html.
    return mark_safe("\n    ".join(rows))
