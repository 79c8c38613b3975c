"""Hooks through which other apps add to forum pages without the forum importing them.

`settings.FORUM_EXTENSIONS` names modules; each may define any of:

- `topic_panel(*, request, topic) -> str`: safe HTML shown above a topic's posts;
- `post_marks(*, request, topic, posts) -> dict[int, str]`: safe HTML per post id,
  shown at the top of that post (e.g. "Result" with its repository and license);
- `profile_figures(*, user, profile_user) -> list[tuple[str, int]]`: labelled
  counts added to a profile's activity;
- `topic_move_refusal(*, topic, destination) -> str | None`: a reason to refuse a
  moderator's move (e.g. patient data may leave a private channel only through review);
- `withheld_posts(*, request, topic, posts) -> set[int]`: ids of posts whose body this
  viewer may not read (e.g. a result held for its license); their marks say why;
- `withheld_posts_query(*, user) -> QuerySet | None`: ids of posts (a `values("post_id")`
  queryset) whose text `user` may not read anywhere: search and revision history leave them out;
- `held_posts_query() -> QuerySet | None`: ids of posts (a `values` queryset) held from
  everybody's email, their authors' too (e.g. held for their license): digests leave them out;
- `topic_head(*, request, topic) -> str`: safe HTML for the page's <head> (e.g. JSON-LD);
- `topic_licenses(*, topic_ids) -> dict[int, list[tuple[str, list[str]]]]`: the SPDX
  expressions that apply to each topic's content, each with the absolute addresses of
  its licenses' pages, for feeds;
- `notification_kinds() -> list[forum.notifications.NotificationKind]`: the kinds of
  notification the app sends (read once, see forum/notifications.py);
- `post_notification_kind(*, post) -> str | None`: the kind a new post's watchers hear
  about instead of "posted" (e.g. "a progress update on a request you watch");
- `digest_sections(*, user, since, now) -> list[forum.selectors.digests.DigestSection]`:
  news for one digest reader (an anonymous user for newsletter subscribers); nothing the
  reader may not see, nothing held.

- `personal_data(*, user) -> dict[str, object]`: sections (JSON-serializable) of a person's
  data export, e.g. {"data_requests": [...]}; only what they wrote or chose, nobody else's;
- `personal_data_erase(*, user)`: erase the personal fields the app keeps about a person
  deleting their account (their posts and other work stay, attributed to "deleted user");
- `review_queue_links(*, user) -> list[tuple[str, int, str]]`: (label, count, address) of
  other queues moderators work through, shown beside the review queue.
- `screen_text(*, text) -> dict`: the identifier check of text about to be published:
  `{"hold": bool, "findings": [{"kind", "start", "end", "value", "confidence"}]}`. A privacy
  gate: posts, edits and bios that it holds wait for the anonymization team;
- `api_urlpatterns() -> list`: URL patterns of the app's REST endpoints, served under /api/v1/
  with the forum's (namespace "api");
- `api_examples(*, example)`: attach the app's examples to its API serializers by calling
  `example(serializer, name, value, request=..., response=...)` (forum/api/examples.py);
- `identifier_labels() -> dict[str, str]`: a label, in the reader's language, for each kind
  of finding `screen_text` reports.

Each hook must run a fixed number of queries whatever the page holds.
"""
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_module
from django.utils.safestring import mark_safe


@cache
def _modules(names: tuple) -> list:
    return [import_module(name) for name in names]


def hooks_named(module_names, name: str) -> list:
    """The functions called `name` in the modules `module_names` (imported once); other apps'
    hook points (e.g. anonymization/extensions.py) load theirs with this too."""
    return [getattr(module, name) for module in _modules(tuple(module_names)) if hasattr(module, name)]


def _hooks(name: str) -> list:
    return hooks_named(settings.FORUM_EXTENSIONS, name)


def topic_panels(*, request, topic) -> list[str]:
    """Panels other apps show above a topic's posts."""
    return [mark_safe(html) for hook in _hooks("topic_panel") if (html := hook(request=request, topic=topic))]


def mark_posts(*, request, topic, posts) -> None:
    """Set `post.marks` (safe HTML, possibly empty) on every post of a page."""
    marks: dict[int, list[str]] = {}
    for hook in _hooks("post_marks"):
        for post_id, html in hook(request=request, topic=topic, posts=posts).items():
            marks.setdefault(post_id, []).append(html)
    withheld = set()
    for hook in _hooks("withheld_posts"):
        withheld |= hook(request=request, topic=topic, posts=posts)
    for post in posts:
        post.marks = mark_safe("".join(marks.get(post.pk, ())))
        if post.pk in withheld:
            post.content_hidden = True
            post.can_like = post.can_edit = False


def without_withheld(*, user, posts):
    """`posts` (a Post queryset) less those other apps withhold from `user` (one subquery each)."""
    for hook in _hooks("withheld_posts_query"):
        withheld = hook(user=user)
        if withheld is not None:
            posts = posts.exclude(pk__in=withheld)
    return posts


def topic_heads(*, request, topic) -> list[str]:
    """HTML other apps add to a topic page's <head>."""
    return [mark_safe(html) for hook in _hooks("topic_head") if (html := hook(request=request, topic=topic))]


def topic_licenses(*, topic_ids) -> dict[int, list[tuple[str, list[str]]]]:
    """(SPDX expression, addresses of its licenses' pages) that apply to each topic's content, by topic id."""
    licenses: dict[int, list] = {}
    for hook in _hooks("topic_licenses"):
        for topic_id, pairs in hook(topic_ids=list(topic_ids)).items():
            licenses.setdefault(topic_id, []).extend(pairs)
    return licenses


def profile_figures(*, user, profile_user) -> list[tuple[str, int]]:
    """Extra labelled counts for a profile."""
    figures = []
    for hook in _hooks("profile_figures"):
        figures.extend(hook(user=user, profile_user=profile_user))
    return figures


def topic_move_refusal(*, topic, destination) -> str | None:
    """The first reason another app gives to refuse moving `topic` to `destination`, if any."""
    for hook in _hooks("topic_move_refusal"):
        reason = hook(topic=topic, destination=destination)
        if reason:
            return reason
    return None


def post_notification_kind(*, post) -> str | None:
    """The first kind another app gives a new post's watchers, if any."""
    for hook in _hooks("post_notification_kind"):
        kind = hook(post=post)
        if kind:
            return kind
    return None


def digest_sections(*, user, since, now) -> list:
    """Digest sections other apps add for `user` (anonymous for the public newsletter)."""
    sections = []
    for hook in _hooks("digest_sections"):
        sections.extend(hook(user=user, since=since, now=now))
    return sections


def without_held(*, posts):
    """`posts` (a Post queryset) less those other apps hold from every email (one subquery each)."""
    for hook in _hooks("held_posts_query"):
        held = hook()
        if held is not None:
            posts = posts.exclude(pk__in=held)
    return posts


def personal_data(*, user) -> dict:
    """Sections other apps add to `user`'s data export."""
    sections = {}
    for hook in _hooks("personal_data"):
        sections.update(hook(user=user))
    return sections


def personal_data_erase(*, user) -> None:
    """Let other apps erase what they keep about `user`, who is deleting their account."""
    for hook in _hooks("personal_data_erase"):
        hook(user=user)


def screen_text(text: str) -> dict:
    """What the apps' identifier checks find in `text` about to be published (no queries):
    `{"hold": bool, "findings": [...]}`, findings in the text's order."""
    hold, findings = False, []
    if text and text.strip():
        for hook in _hooks("screen_text"):
            result = hook(text=text)
            hold = hold or result["hold"]
            findings.extend(result["findings"])
    return {"hold": hold, "findings": sorted(findings, key=lambda finding: finding["start"])}


def api_urlpatterns() -> list:
    """Other apps' REST endpoints, served beside the forum's under /api/v1/."""
    patterns = []
    for hook in _hooks("api_urlpatterns"):
        patterns.extend(hook())
    return patterns


def api_examples(*, example) -> None:
    """Let other apps attach the examples of their API serializers with `example`."""
    for hook in _hooks("api_examples"):
        hook(example=example)


def identifier_labels() -> dict:
    """Labels of the kinds of identifier the apps' checks find, by kind."""
    labels = {}
    for hook in _hooks("identifier_labels"):
        labels.update(hook())
    return labels


def review_queue_links(*, user) -> list[tuple[str, int, str]]:
    """Other queues (held licenses, pending uploads) `user` works through, with their sizes."""
    links = []
    for hook in _hooks("review_queue_links"):
        links.extend(hook(user=user))
    return links
