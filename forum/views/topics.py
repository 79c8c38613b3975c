"""Categories, tags, topic lists, topics and everything done to posts.

Every action is a plain HTML form posting here; the JavaScript in static/js/
only adds the live preview and quoting a selection.
"""
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from .. import hooks, selectors, services
from ..forms import BookmarkForm, MoveTopicForm, NotificationLevelForm, PostEditForm, ReplyForm, TopicForm
from ..identifiers import EDIT_HELD_MESSAGE, HELD_MESSAGE, finding_rows
from ..models import NotificationLevel
from ..pagecache import cache_anonymous_page
from ..permissions import (
    can_delete_post,
    can_edit_post,
    can_flag_post,
    can_like_post,
    can_moderate_category,
    can_moderate_topic,
    can_pin_globally,
    can_post_in_category,
    can_quote_post,
    can_reply,
    can_restore_post,
    check_can_edit_post,
    check_can_moderate_topic,
    check_can_reply,
)
from ..ratelimit import rate_limited

TOPICS_PER_PAGE = 30
LIST_TITLES = {
    "latest": gettext_lazy("Latest"),
    "top": gettext_lazy("Top"),
    "unanswered": gettext_lazy("Unanswered"),
    "new": gettext_lazy("New for me"),
}


def _topic_page(request, **filters):
    return selectors.topic_list_page(
        user=request.user, number=request.GET.get("page"), per_page=TOPICS_PER_PAGE, **filters,
    )


# --- Lists ------------------------------------------------------------------------

@cache_anonymous_page
def topic_list(request, order):
    """Latest, top, unanswered and new-for-me lists, filterable by tag and category."""
    if order == "new" and not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?next={request.path}")
    period = request.GET.get("period", "all")
    if period not in selectors.TOP_PERIODS:
        period = "all"
    tag = None
    if request.GET.get("tag"):
        tag = selectors.tag_find(user=request.user, slug=request.GET["tag"])
    context = {
        "order": order, "title": LIST_TITLES[order], "period": period, "periods": selectors.TOP_PERIODS,
        "tag": tag, "page": _topic_page(request, order=order, period=period, tag=tag),
    }
    return render(request, "forum/topic_list.html", context)


@cache_anonymous_page
def category_detail(request, slug):
    category = selectors.category_get(user=request.user, slug=slug)
    subcategories = selectors.subcategory_list(user=request.user, category=category)
    context = {
        "category": category,
        "subcategories": subcategories,
        "page": _topic_page(request, category=category, subcategories=subcategories),
        "can_post": can_post_in_category(request.user, category),
        "can_review": can_moderate_category(request.user, category),
        "notification_level": selectors.notification_levels_for(user=request.user, category=category),
        "level_choices": NotificationLevel.choices,
    }
    return render(request, "forum/category_detail.html", context)


@cache_anonymous_page
def tag_detail(request, slug):
    tag = selectors.tag_get(user=request.user, slug=slug)
    context = {
        "tag": tag,
        "page": _topic_page(request, tag=tag),
        "notification_level": selectors.notification_levels_for(user=request.user, tag=tag),
        "level_choices": NotificationLevel.choices,
    }
    return render(request, "forum/tag_detail.html", context)


# --- Writing ----------------------------------------------------------------------

@login_required
@rate_limited("post")
def topic_create(request):
    categories = selectors.category_choices(user=request.user)
    initial = {}
    if slug := request.GET.get("category"):
        initial["category"] = categories.filter(slug=slug).first()
    form = TopicForm(request.POST or None, actor=request.user, categories=categories, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            topic = form.save()
        except ValidationError as error:  # pragma: no cover - the form collects them
            form.add_error(None, error)
            topic = None
        if topic is not None:
            if topic.first_post.held_identifying:
                messages.warning(request, HELD_MESSAGE)
            else:
                messages.success(request, _("Your topic is posted."))
            return redirect(topic)
    return render(request, "forum/topic_form.html", {"form": form})


@login_required
def preview(request):
    """Render Markdown exactly as saving would, for the live preview. Saves nothing."""
    if request.method != "POST":
        return JsonResponse({"error": _("Use POST.")}, status=405)
    raw = request.POST.get("raw", "")
    try:
        rendered = services.render_post_text(raw)
    except ValidationError as error:
        return JsonResponse({"errors": error.messages}, status=400)
    # The author's own text, so the values found are shown to them (and only them) to edit out.
    screening = services.screen_fields({"raw": raw})
    identifiers = [{key: row[key] for key in ("kind", "label", "value", "start", "end")}
                   for row in finding_rows(screening["findings"])]
    return JsonResponse({"html": rendered.html, "identifiers": identifiers, "held": screening["hold"]})


@cache_anonymous_page
def topic_detail(request, pk, slug):
    topic = selectors.topic_for_page(user=request.user, pk=pk)
    if slug != topic.slug:
        return redirect(topic, permanent=True)
    try:
        page_number = int(request.GET.get("page", 1))
    except ValueError:
        raise Http404 from None
    page = selectors.topic_page(user=request.user, topic=topic, page=page_number)
    user = request.user
    is_moderator = can_moderate_topic(user, topic)
    for post in page.posts:
        post.can_edit = can_edit_post(user, post)
        post.can_delete = can_delete_post(user, post)
        post.can_restore = can_restore_post(user, post)
        post.can_like = can_like_post(user, post)
        post.can_flag = can_flag_post(user, post) and not post.content_hidden
        post.liked = post.pk in page.liked
        post.bookmarked = post.pk in page.bookmarks
    hooks.mark_posts(request=request, topic=topic, posts=page.posts)
    if user.is_authenticated and page.posts:
        # The bell's count first: with nothing unread about this topic (the common case) there is
        # nothing to mark, and the bell shows what is left without counting again.
        unread = selectors.unread_notification_summary(user=user)
        marked = services.topic_mark_read(user=user, topic=topic, number=page.posts[-1].number,
                                          notifications=unread.about(topic.pk))
        request.unread_notification_count = unread.count - marked
    reply_form = None
    if can_reply(user, topic):
        reply_form = ReplyForm(actor=user, topic=topic)
    context = {
        "topic": topic,
        "page": page,
        "reply_form": reply_form,
        "is_moderator": is_moderator,
        "can_pin_globally": can_pin_globally(user),
        "level_choices": NotificationLevel.choices,
        "panels": hooks.topic_panels(request=request, topic=topic),
        "head_extras": hooks.topic_heads(request=request, topic=topic),
    }
    return render(request, "forum/topic_detail.html", context)


@login_required
@rate_limited("post")
def topic_reply(request, pk):
    """Reply form: POST saves; GET shows the form alone (used without JavaScript, or to quote)."""
    topic = selectors.topic_get(user=request.user, pk=pk)
    check_can_reply(request.user, topic)
    initial = {}
    if request.method == "GET":
        initial = _reply_initial(request, topic)
    form = ReplyForm(request.POST or None, actor=request.user, topic=topic, initial=initial)
    if request.method == "POST" and form.is_valid():
        post = form.save()
        if post is not None:
            if post.held_identifying:
                messages.warning(request, HELD_MESSAGE)
            return redirect(_post_url(post))
    reply_to = None
    number = str(form.data.get("reply_to") or initial.get("reply_to") or "")
    if number.isdigit():
        reply_to = selectors.post_get_by_number(topic=topic, number=int(number))
    return render(request, "forum/reply_form.html", {"topic": topic, "form": form, "reply_to": reply_to})


def _reply_initial(request, topic) -> dict:
    """Pre-fill a reply to post ?to=N, quoting it whole with ?quote=1."""
    initial = {}
    try:
        number = int(request.GET.get("to", 0))
    except ValueError:
        number = 0
    if number:
        post = selectors.post_get_by_number(topic=topic, number=number)
        if post is not None and can_quote_post(request.user, post):
            initial["reply_to"] = post.number
            if request.GET.get("quote"):
                quoted = "\n".join(f"> {line}" for line in post.raw.splitlines())
                initial["raw"] = f"@{post.author.username} {_('wrote')}:\n{quoted}\n\n"
    return initial


def _post_url(post) -> str:
    return _post_number_url(post.topic, post.number)


def _post_number_url(topic, number: int) -> str:
    """The topic page that shows post `number`, scrolled to it."""
    page = selectors.post_page_number(number)
    query = f"?page={page}" if page > 1 else ""
    return f"{topic.get_absolute_url()}{query}#post-{number}"


@require_GET
def post_permalink(request, pk):
    """/p/<id>/ leads to the right page of the topic, whatever page the post is on now."""
    post = selectors.post_get(user=request.user, pk=pk)
    return redirect(_post_url(post))


@login_required
@rate_limited("edit")
def post_edit(request, pk):
    post = selectors.post_get(user=request.user, pk=pk)
    check_can_edit_post(request.user, post)
    initial = {"raw": post.raw}
    if post.number == 1:
        initial["title"] = post.topic.title
        initial["tags"] = ", ".join(sorted(tag.name for tag in post.topic.tags.all()))
    form = PostEditForm(request.POST or None, actor=request.user, post=post, initial=initial)
    if request.method == "POST" and form.is_valid() and (saved := form.save()) is not None:
        if saved.edit_held:
            messages.warning(request, EDIT_HELD_MESSAGE)
        else:
            messages.success(request, _("Your changes are saved."))
        return redirect(_post_url(post))
    return render(request, "forum/post_edit.html", {"form": form, "post": post})


@cache_anonymous_page
def post_revisions(request, pk):
    """The history of a post; moderators can hide earlier versions after a redaction (POST)."""
    post = selectors.post_get(user=request.user, pk=pk)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return redirect(f"{reverse('account_login')}?next={request.path}")
        services.post_hide_history(actor=request.user, post_id=post.pk)
        messages.success(request, _("Earlier versions are hidden; only moderators can read them now."))
        return redirect("forum:post-revisions", pk=post.pk)
    revisions = selectors.post_revision_list(user=request.user, post=post)
    context = {"post": post, "revisions": revisions, "is_moderator": can_moderate_topic(request.user, post.topic)}
    return render(request, "forum/post_revisions.html", context)


@require_POST
@login_required
def post_delete(request, pk):
    post = selectors.post_get(user=request.user, pk=pk)
    services.post_delete(actor=request.user, post_id=post.pk)
    if post.number == 1:
        messages.success(request, _("The topic is deleted."))
        return redirect(post.topic.category)
    messages.success(request, _("The post is deleted."))
    return redirect(_post_url(post))


@require_POST
@login_required
def post_restore(request, pk):
    post = selectors.post_get(user=request.user, pk=pk)
    services.post_restore(actor=request.user, post_id=post.pk)
    messages.success(request, _("The post is restored."))
    return redirect(_post_url(post))


@require_POST
@login_required
def post_like(request, pk):
    post = selectors.post_get(user=request.user, pk=pk)
    if request.POST.get("action") == "unlike":
        services.post_unlike(actor=request.user, post_id=post.pk)
    else:
        services.post_like(actor=request.user, post_id=post.pk)
    return redirect(_post_url(post))


@login_required
def post_bookmark(request, pk):
    post = selectors.post_get(user=request.user, pk=pk)
    if request.method == "POST" and request.POST.get("action") == "remove":
        services.bookmark_remove(actor=request.user, post_id=post.pk)
        messages.success(request, _("Bookmark removed."))
        return redirect(_post_url(post))
    form = BookmarkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        services.bookmark_set(actor=request.user, post_id=post.pk, note=form.cleaned_data["note"])
        messages.success(request, _("Bookmarked."))
        return redirect(_post_url(post))
    return render(request, "forum/bookmark_form.html", {"form": form, "post": post})


@login_required
def bookmark_list(request):
    page = Paginator(selectors.bookmark_list(user=request.user), TOPICS_PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "forum/bookmark_list.html", {"page": page})


# --- Moderation -------------------------------------------------------------------

MODERATION_ACTIONS = {
    "pin": lambda actor, pk: services.topic_set_pinned(actor=actor, topic_id=pk, pinned=True),
    "pin_globally": lambda actor, pk: services.topic_set_pinned(actor=actor, topic_id=pk, pinned=True, globally=True),
    "unpin": lambda actor, pk: services.topic_set_pinned(actor=actor, topic_id=pk, pinned=False),
    "close": lambda actor, pk: services.topic_set_closed(actor=actor, topic_id=pk, closed=True),
    "open": lambda actor, pk: services.topic_set_closed(actor=actor, topic_id=pk, closed=False),
    "archive": lambda actor, pk: services.topic_set_archived(actor=actor, topic_id=pk, archived=True),
    "unarchive": lambda actor, pk: services.topic_set_archived(actor=actor, topic_id=pk, archived=False),
}
MODERATION_MESSAGES = {
    "pin": gettext_lazy("Pinned in its category."),
    "pin_globally": gettext_lazy("Pinned everywhere."),
    "unpin": gettext_lazy("Unpinned."),
    "close": gettext_lazy("Closed: no new replies."),
    "open": gettext_lazy("Reopened."),
    "archive": gettext_lazy("Archived."),
    "unarchive": gettext_lazy("Unarchived."),
}


@require_POST
@login_required
def topic_moderate(request, pk):
    topic = selectors.topic_get(user=request.user, pk=pk)
    action = request.POST.get("action")
    if action not in MODERATION_ACTIONS:
        messages.error(request, _("Unknown action."))
        return redirect(topic)
    MODERATION_ACTIONS[action](request.user, topic.pk)
    messages.success(request, MODERATION_MESSAGES[action])
    return redirect(topic)


@login_required
def topic_move(request, pk):
    topic = selectors.topic_get(user=request.user, pk=pk)
    check_can_moderate_topic(request.user, topic)
    form = MoveTopicForm(
        request.POST or None, categories=selectors.category_choices(user=request.user),
        initial={"category": topic.category},
    )
    if request.method == "POST" and form.is_valid():
        services.topic_move(actor=request.user, topic_id=topic.pk, category=form.cleaned_data["category"])
        messages.success(request, _("The topic is moved."))
        return redirect(topic)
    return render(request, "forum/topic_move.html", {"form": form, "topic": topic})


@require_POST
@login_required
def notification_level(request, kind, key):
    """Set watch / track / normal / mute on a topic (by id), category or tag (by slug)."""
    if kind == "topic":
        if not key.isdigit():
            raise Http404
        target = selectors.topic_get(user=request.user, pk=int(key))
        back = target.get_absolute_url()
    elif kind == "category":
        target = selectors.category_get(user=request.user, slug=key)
        back = target.get_absolute_url()
    else:
        target = selectors.tag_get(user=request.user, slug=key)
        back = reverse("forum:tag-detail", kwargs={"slug": key})
    form = NotificationLevelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a notification level."))
        return redirect(back)
    level = form.cleaned_data["level"]
    services.notification_level_set(user=request.user, level=level, **{kind: target})
    messages.success(request, _("Notification level saved: %(level)s") % {"level": NotificationLevel(level).label})
    return redirect(back)


@login_required
def topic_unread(request, pk):
    """Jump to the first post `user` has not read yet."""
    topic = selectors.topic_get(user=request.user, pk=pk)
    number = min(selectors.topic_read_number(user=request.user, topic=topic) + 1, topic.last_post_number)
    return redirect(_post_number_url(topic, number))
