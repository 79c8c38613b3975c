"""Hooks: how one app takes part in another's pages and rules without the other importing it.

A hook point (`HookPoint`, one per app that offers hooks) declares, in code, every hook it
accepts: its name, its keyword arguments and what it must return. An app that provides hooks
writes them as plain functions in one module (e.g. `requests_board/forum_hooks.py`) and
registers that module in its `AppConfig.ready`:

    from forum.hooks import FORUM
    FORUM.register("requests_board.forum_hooks")

A hook module holds only hooks (and private `_helpers`): a start-up system check
(`forum.E101`…) fails on a public function no hook point declares (a misspelt hook would
otherwise do nothing), on a hook whose keyword arguments differ from the declaration, and on
a privacy hook nobody provides (a gate such as `withheld_posts_query` missing would show held
text). Tests plug a module in, or take one out, for a while with `plugged` and `unplugged`.

To add a hook: declare it on the hook point (`Hook(name, params, doc, privacy=...)`), call it
through `point.providers(name)` in a function of the hook point's module, and write it in the
providers' hook modules.
"""
import difflib
import inspect
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import import_module
from types import ModuleType

from django.core import checks
from django.utils.safestring import mark_safe


@dataclass(frozen=True)
class Hook:
    name: str
    params: tuple[str, ...]  # keyword-only arguments, in any order
    doc: str
    privacy: bool = False  # a gate: the check fails when nobody provides it


POINTS: list["HookPoint"] = []


class HookPoint:
    """The hooks one app accepts and the modules registered to provide them."""

    def __init__(self, label: str, hooks: list[Hook]):
        self.label = label
        self.hooks = {hook.name: hook for hook in hooks}
        self._modules: list[ModuleType | str] = []
        self._providers: dict[str, list] = {}
        POINTS.append(self)

    def register(self, module: ModuleType | str) -> None:
        """Add a provider module (a dotted name, imported when first needed); twice is once."""
        if module not in self._modules:
            self._modules.append(module)
            self._providers.clear()

    def modules(self) -> list[ModuleType]:
        return [import_module(module) if isinstance(module, str) else module for module in self._modules]

    def providers(self, name: str) -> list:
        """The functions called `name` in the registered modules, in registration order."""
        found = self._providers.get(name)
        if found is None:
            if name not in self.hooks:
                raise LookupError(f"{self.label} hook point declares no hook {name!r}")
            found = [getattr(module, name) for module in self.modules() if hasattr(module, name)]
            self._providers[name] = found
        return found

    @contextmanager
    def plugged(self, module: ModuleType | str):
        """For tests: `module` provides hooks inside the block."""
        before = list(self._modules)
        self.register(module)
        try:
            yield
        finally:
            self._modules[:] = before
            self._providers.clear()

    @contextmanager
    def unplugged(self, module_name: str):
        """For tests: the registered module `module_name` provides nothing inside the block."""
        before = list(self._modules)
        self._modules[:] = [m for m in before if (m if isinstance(m, str) else m.__name__) != module_name]
        if len(self._modules) == len(before):
            raise LookupError(f"{module_name} is not registered with the {self.label} hook point")
        self._providers.clear()
        try:
            yield
        finally:
            self._modules[:] = before
            self._providers.clear()

    def problems(self) -> list[checks.CheckMessage]:
        """What the start-up check reports about this hook point's providers."""
        errors = []
        provided: set[str] = set()
        for entry in self._modules:
            name = entry if isinstance(entry, str) else entry.__name__
            try:
                module = import_module(entry) if isinstance(entry, str) else entry
            except ImportError as error:
                errors.append(checks.Error(f"{self.label} hook module {name} cannot be imported: {error}",
                                           id="forum.E101"))
                continue
            for function_name, function in inspect.getmembers(module, inspect.isfunction):
                if function_name.startswith("_") or function.__module__ != module.__name__:
                    continue
                hook = self.hooks.get(function_name)
                if hook is None:
                    close = difflib.get_close_matches(function_name, self.hooks, n=1)
                    errors.append(checks.Error(
                        f"{name}.{function_name} is not a hook of the {self.label} hook point, so nothing "
                        "would call it.", hint=(f"Did you mean {close[0]!r}?" if close else
                                                "Rename it with a leading underscore if it is a helper."),
                        id="forum.E102"))
                    continue
                provided.add(function_name)
                params = inspect.signature(function).parameters.values()
                keywords = {p.name for p in params if p.kind is inspect.Parameter.KEYWORD_ONLY}
                positional = [p.name for p in params if p.kind is not inspect.Parameter.KEYWORD_ONLY]
                if positional or keywords != set(hook.params):
                    errors.append(checks.Error(
                        f"{name}.{function_name} takes ({', '.join(p.name for p in params)}); the hook is "
                        f"{function_name}(*, {', '.join(hook.params)}).", id="forum.E103"))
        for hook in self.hooks.values():
            if hook.privacy and hook.name not in provided:
                errors.append(checks.Error(
                    f"Nobody provides the {self.label} privacy hook {hook.name!r}: {hook.doc}",
                    hint="Register the module that provides it in its app's AppConfig.ready.", id="forum.E104"))
        return errors


def hooks_check(app_configs=None, **kwargs) -> list:
    """Every hook point's problems (registered by the forum app; see the module's docstring)."""
    return [error for point in POINTS for error in point.problems()]


# --- The forum's hook point ------------------------------------------------------------------
# Each hook must run a fixed number of queries whatever the page holds.
FORUM = HookPoint("forum", [
    Hook("topic_panel", ("request", "topic"), "safe HTML shown above a topic's posts (-> str)"),
    Hook("post_marks", ("request", "topic", "posts"),
         "safe HTML per post id, shown at the top of that post, e.g. \"Result\" (-> dict[int, str])"),
    Hook("profile_figures", ("user", "profile_user"), "labelled counts added to a profile (-> list[(str, int)])"),
    Hook("topic_move_refusal", ("topic", "destination"),
         "a reason to refuse a moderator's move, e.g. patient data may leave a private channel only through "
         "review (-> str | None)", privacy=True),
    Hook("withheld_posts", ("request", "topic", "posts"),
         "ids of posts of a page whose text this viewer may not read, e.g. a result held for its license "
         "(-> set[int])", privacy=True),
    Hook("withheld_posts_query", ("user",),
         "ids of posts (a values queryset, or None) whose text `user` may not read anywhere: search, quotes, "
         "likes, flags, bookmarks and revision history leave them out", privacy=True),
    Hook("held_posts_query", (),
         "ids of posts (a values queryset, or None) held from everybody's email and from notifications of "
         "people who may not read them", privacy=True),
    Hook("topic_head", ("request", "topic"), "safe HTML for the page's <head>, e.g. JSON-LD (-> str)"),
    Hook("topic_licenses", ("topic_ids",),
         "per topic id, the SPDX expressions of its content with the addresses of their pages, for feeds"),
    Hook("notification_kinds", (), "the app's kinds of notification (-> list[NotificationKind]); read once"),
    Hook("post_notification_kind", ("post",), "the kind a new post's watchers hear about instead of \"posted\""),
    Hook("digest_sections", ("user", "since", "now"),
         "digest news for one reader (anonymous for the newsletter); nothing they may not see, nothing held"),
    Hook("personal_data", ("user",), "sections of a person's data export: only what they wrote or chose"),
    Hook("personal_data_erase", ("user",), "erase what the app keeps about a person deleting their account"),
    Hook("review_queue_links", ("user",), "(label, count, address) of other queues shown beside the review queue"),
    Hook("screen_text", ("text",),
         "the identifier check of text about to be published: {\"hold\": bool, \"findings\": [{\"kind\", "
         "\"start\", \"end\", \"value\", \"confidence\"}]}; held text waits for the anonymization team",
         privacy=True),
    Hook("identifier_labels", (), "a label, in the reader's language, for each kind of finding screen_text reports"),
])


def topic_panels(*, request, topic) -> list[str]:
    """Panels other apps show above a topic's posts."""
    return [mark_safe(html) for hook in FORUM.providers("topic_panel") if (html := hook(request=request, topic=topic))]


def mark_posts(*, request, topic, posts) -> None:
    """Set `post.marks` (safe HTML, possibly empty) on every post of a page."""
    marks: dict[int, list[str]] = {}
    for hook in FORUM.providers("post_marks"):
        for post_id, html in hook(request=request, topic=topic, posts=posts).items():
            marks.setdefault(post_id, []).append(html)
    withheld = set()
    for hook in FORUM.providers("withheld_posts"):
        withheld |= hook(request=request, topic=topic, posts=posts)
    for post in posts:
        post.marks = mark_safe("".join(marks.get(post.pk, ())))
        if post.pk in withheld:
            post.content_hidden = True
            post.can_like = post.can_edit = False


def without_withheld(*, user, posts):
    """`posts` (a Post queryset) less those other apps withhold from `user` (one subquery each)."""
    for hook in FORUM.providers("withheld_posts_query"):
        withheld = hook(user=user)
        if withheld is not None:
            posts = posts.exclude(pk__in=withheld)
    return posts


def topic_heads(*, request, topic) -> list[str]:
    """HTML other apps add to a topic page's <head>."""
    return [mark_safe(html) for hook in FORUM.providers("topic_head") if (html := hook(request=request, topic=topic))]


def topic_licenses(*, topic_ids) -> dict[int, list[tuple[str, list[str]]]]:
    """(SPDX expression, addresses of its licenses' pages) that apply to each topic's content, by topic id."""
    licenses: dict[int, list] = {}
    for hook in FORUM.providers("topic_licenses"):
        for topic_id, pairs in hook(topic_ids=list(topic_ids)).items():
            licenses.setdefault(topic_id, []).extend(pairs)
    return licenses


def profile_figures(*, user, profile_user) -> list[tuple[str, int]]:
    """Extra labelled counts for a profile."""
    figures = []
    for hook in FORUM.providers("profile_figures"):
        figures.extend(hook(user=user, profile_user=profile_user))
    return figures


def topic_move_refusal(*, topic, destination) -> str | None:
    """The first reason another app gives to refuse moving `topic` to `destination`, if any."""
    for hook in FORUM.providers("topic_move_refusal"):
        reason = hook(topic=topic, destination=destination)
        if reason:
            return reason
    return None


def post_notification_kind(*, post) -> str | None:
    """The first kind another app gives a new post's watchers, if any."""
    for hook in FORUM.providers("post_notification_kind"):
        kind = hook(post=post)
        if kind:
            return kind
    return None


def digest_sections(*, user, since, now) -> list:
    """Digest sections other apps add for `user` (anonymous for the public newsletter)."""
    sections = []
    for hook in FORUM.providers("digest_sections"):
        sections.extend(hook(user=user, since=since, now=now))
    return sections


def without_held(*, posts):
    """`posts` (a Post queryset) less those other apps hold from every email (one subquery each)."""
    for hook in FORUM.providers("held_posts_query"):
        held = hook()
        if held is not None:
            posts = posts.exclude(pk__in=held)
    return posts


def personal_data(*, user) -> dict:
    """Sections other apps add to `user`'s data export."""
    sections = {}
    for hook in FORUM.providers("personal_data"):
        sections.update(hook(user=user))
    return sections


def personal_data_erase(*, user) -> None:
    """Let other apps erase what they keep about `user`, who is deleting their account."""
    for hook in FORUM.providers("personal_data_erase"):
        hook(user=user)


def screen_text(text: str) -> dict:
    """What the apps' identifier checks find in `text` about to be published (no queries):
    `{"hold": bool, "findings": [...]}`, findings in the text's order."""
    hold, findings = False, []
    if text and text.strip():
        for hook in FORUM.providers("screen_text"):
            result = hook(text=text)
            hold = hold or result["hold"]
            findings.extend(result["findings"])
    return {"hold": hold, "findings": sorted(findings, key=lambda finding: finding["start"])}


def identifier_labels() -> dict:
    """Labels of the kinds of identifier the apps' checks find, by kind."""
    labels = {}
    for hook in FORUM.providers("identifier_labels"):
        labels.update(hook())
    return labels


def review_queue_links(*, user) -> list[tuple[str, int, str]]:
    """Other queues (held licenses, pending uploads) `user` works through, with their sizes."""
    links = []
    for hook in FORUM.providers("review_queue_links"):
        links.extend(hook(user=user))
    return links
