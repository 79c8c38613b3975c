"""A topic page's posts rendered once and kept in the cache, the reader's own parts laid over each.

A post shows every reader the same header, notes and text (`forum/_post.html`), but for whether its
text is hidden from this reader, which is part of the key. Its actions (`forum/_post_actions.html`)
differ by what the reader may do: they are kept per combination of those answers, with the CSRF
token put in per request. The marks other apps add (forum/hooks.py `mark_posts`) are per reader
and laid over as they are. Keys are made of everything a fragment shows, as the topic list rows'
are (topic_rows.py): a changed text, name or count is a new key, and nothing needs invalidating.
"""
from django import template
from django.core.cache import cache
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from ..fragments import FRAGMENT_SECONDS, fragment_key

register = template.Library()

ARTICLE = "forum/_post.html"
ACTIONS = "forum/_post_actions.html"
MARKS_MARK = "<!--post-marks-->"
ACTIONS_MARK = "<!--post-actions-->"
# Rendered into a kept fragment in place of the page's CSRF token, replaced on the way out.
CSRF_PLACEHOLDER = "csrf-token-placeholder-0f7c"


def _article_key(post) -> str:
    author, reply_to = post.author, post.reply_to
    return fragment_key("forum:post:article", (ARTICLE,), (
        post.pk, post.number, author.username, author.name,
        (reply_to.pk, reply_to.number, reply_to.author.name) if reply_to is not None else None,
        post.created_at.isoformat(), post.revision_count, post.deleted_at is not None, post.deleted_by_author,
        post.hidden, post.content_hidden, "" if post.content_hidden else post.html,
    ))


# What the reader may do with a post and has done to it (set by the topic view): each is in the key.
ACTION_FLAGS = ("can_like", "liked", "bookmarked", "can_edit", "can_flag", "can_delete", "can_restore")
# Everything the two templates read, as they name it: what each key is made of
# (tests/forum/test_post_articles.py checks the templates read nothing else).
ARTICLE_SHOWN = frozenset({
    "post.pk", "post.number", "post.get_absolute_url", "post.created_at", "post.revision_count",
    "post.author.get_absolute_url", "post.author.name", "post.author.username",
    "post.reply_to", "post.reply_to.number", "post.reply_to.get_absolute_url", "post.reply_to.author.name",
    "post.deleted_at", "post.deleted_by_author", "post.hidden", "post.get_hidden_display",
    "post.content_hidden", "post.html",
})
ACTIONS_SHOWN = frozenset({
    "post.pk", "post.number", "post.like_count", "post.deleted_at", "topic.pk", "user.is_authenticated",
    "reply_form", *(f"post.{flag}" for flag in ACTION_FLAGS),
})


def _actions_key(post, topic_id: int, signed_in: bool, may_reply: bool) -> str:
    return fragment_key("forum:post:actions", (ACTIONS,), (
        post.pk, post.number, topic_id, post.like_count,
        post.deleted_at is not None, signed_in, may_reply,
        *(bool(getattr(post, flag, False)) for flag in ACTION_FLAGS),
    ))


@register.simple_tag(takes_context=True)
def post_articles(context, posts):
    """Each of `posts` as its `<article>`: one cache round trip for the page, rendering only the
    fragments not kept. The page's context gives the topic, the reader and whether they may reply."""
    topic, user = context["topic"], context.get("user")
    signed_in = bool(user is not None and user.is_authenticated)
    may_reply = bool(context.get("reply_form"))
    posts = list(posts)
    keys = [(_article_key(post), _actions_key(post, topic.pk, signed_in, may_reply))
            for post in posts]
    found = cache.get_many([key for pair in keys for key in pair])
    made = {}
    token = None  # read only when a form needs it: reading it sets the CSRF cookie (no page cache)
    articles = []
    for post, (article_key, actions_key) in zip(posts, keys, strict=True):
        article = found.get(article_key)
        if article is None:
            article = made[article_key] = render_to_string(ARTICLE, {"post": post})
        actions = found.get(actions_key)
        if actions is None:
            actions = made[actions_key] = render_to_string(ACTIONS, {
                "post": post, "topic": topic, "user": user, "reply_form": may_reply,
                "csrf_token": CSRF_PLACEHOLDER,
            })
        if CSRF_PLACEHOLDER in actions:
            token = token if token is not None else str(context.get("csrf_token", ""))
            actions = actions.replace(CSRF_PLACEHOLDER, token)
        marks = getattr(post, "marks", "") or ""
        # Ours is the first marks comment (before the text) and the last actions one (after it);
        # the sanitizer strips comments from posts anyway.
        before_actions, _, after_actions = article.replace(MARKS_MARK, marks, 1).rpartition(ACTIONS_MARK)
        articles.append(before_actions + actions + after_actions)
    if made:
        cache.set_many(made, FRAGMENT_SECONDS)
    # Fragments rendered by our templates (autoescaped); marks are the hooks' own safe HTML.
    return mark_safe("".join(articles))
