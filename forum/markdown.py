"""The one place where user Markdown becomes HTML.

Rendered with `markdown`, then sanitized with `bleach` using the allowlist
below. Called once when text is saved; the result is stored beside the raw
text and shown as is. Input is bounded in size and nesting so a pathological
text is refused with a clear message instead of tying up a worker.

Images are never embedded: an `<img>` would make every reader's browser ask
another host for it (tracking readers, breaking our no third-party requests
rule), and proxying images through our server would add an SSRF surface. So
`![alt](https://…)` becomes an ordinary outbound link to the image, marked
`image-link`; an image with any other scheme keeps only its alt text.

`@username` and `#category-slug` become links to our own pages. This module
does no database access: callers collect candidates with `find_references`,
look them up, and pass what exists to `render_post`. Names inside code spans,
code blocks and links are left alone. Only links this renderer makes may carry
the classes `mention`, `category-link` and `image-link`: a per-render secret
travels with them through the sanitizer, so raw HTML cannot forge a mention.
"""
import re
import secrets
import signal
import threading
import xml.etree.ElementTree as etree
from collections.abc import Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import partial
from types import MappingProxyType

import bleach
import markdown
from bleach.css_sanitizer import CSSSanitizer
from bleach.linkifier import LinkifyFilter, build_url_re
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from markdown.extensions import Extension
from markdown.inlinepatterns import InlineProcessor
from markdown.treeprocessors import Treeprocessor
from markdown.util import AtomicString

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
})
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel", "class"],
    "abbr": ["title"],
    "code": ["class"],
    "div": ["class"],
    "span": ["class"],
    "th": ["align"],
    "td": ["align"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
_EXTENSIONS = ["fenced_code", "tables", "sane_lists", "codehilite", "nl2br"]
_EXTENSION_CONFIGS = {
    "codehilite": {"guess_lang": False, "css_class": "highlight"},
    "tables": {"use_align_attribute": True},  # style= is stripped; align= survives
}
# One quote or list marker at the start of what is left of a line.
_MARKER_RE = re.compile(r"(?:>|[*+-](?=\s)|\d{1,9}[.)](?=\s))[ \t]*")
# Python-Markdown's inline patterns take quadratic time on long runs of these
# characters; real posts use far fewer (measured: 1,000 "[" render in 0.15 s).
_COSTLY_CHARACTERS = {"[": 1000, "<": 2000}


def _nesting_depth(line: str) -> int:
    """How deep a line nests: its indentation in 4-space steps, or its run of markers."""
    stripped = line.lstrip(" \t")
    indent = len(line[: len(line) - len(stripped)].expandtabs(4)) // 4
    markers = 0
    position = 0
    while match := _MARKER_RE.match(stripped, position):
        markers += 1
        position = match.end()
    return max(indent, markers)


def check_markdown(text: str) -> None:
    """Refuse text that is too long or too deeply nested to render safely."""
    max_length = settings.MARKDOWN_MAX_LENGTH
    if len(text) > max_length:
        raise ValidationError(
            _("This text is %(length)d characters long; the limit is %(limit)d.")
            % {"length": len(text), "limit": max_length},
            code="markdown_too_long",
        )
    for character, limit in _COSTLY_CHARACTERS.items():
        count = text.count(character)
        if count > limit:
            raise ValidationError(
                _("This text contains %(count)d “%(character)s” characters; at most %(limit)d can be formatted.")
                % {"count": count, "character": character, "limit": limit},
                code="markdown_too_complex",
            )
    max_nesting = settings.MARKDOWN_MAX_NESTING
    if any(_nesting_depth(line) > max_nesting for line in text.splitlines()):
        raise ValidationError(
            _("Quotes or lists are nested more than %(limit)d levels deep. Please flatten them.")
            % {"limit": max_nesting},
            code="markdown_too_deep",
        )


# Links this renderer makes; only they may carry these classes (see _allow_class).
_LINK_CLASSES = frozenset({"mention", "category-link", "image-link"})
_INTERNAL_CLASSES = frozenset({"mention", "category-link"})
# The secret of the render in progress; raw HTML cannot know it.
_link_secret: ContextVar[str | None] = ContextVar("_link_secret", default=None)


def _is_internal(href: str) -> bool:
    # "//host" and "/\\host" are other hosts to a browser.
    return href.startswith("/") and href[1:2] not in ("/", "\\")


def _add_link_rel(attrs, new=False):
    href = attrs.get((None, "href"))
    if href is None:
        return attrs
    kind = attrs.get((None, "class"), "").split(" ")[0]
    if kind in _INTERNAL_CLASSES and _is_internal(href):
        attrs.pop((None, "rel"), None)  # our own pages: nothing to disown
    else:
        attrs[(None, "rel")] = "nofollow ugc noopener"
    return attrs


# Only the classes code highlighting needs, so nobody can dress text up as a site message.
_ALLOWED_CLASS_RE = re.compile(r"^(?:highlight|codehilite|language-[\w+-]{1,30}|[a-z]{1,2}[a-z0-9]?)$")


def _allow_class(tag, name, value):
    if name != "class":
        return name in ALLOWED_ATTRIBUTES.get(tag, ())
    if tag == "a":
        kind, _space, secret = value.partition(" ")
        return kind in _LINK_CLASSES and secret != "" and secret == _link_secret.get()
    return all(_ALLOWED_CLASS_RE.match(part) for part in value.split())


_ATTRIBUTE_FILTER = {tag: _allow_class for tag in ALLOWED_ATTRIBUTES}
_URL_RE = build_url_re(protocols=ALLOWED_PROTOCOLS)
_cleaners = threading.local()  # bleach's Cleaner is not thread-safe; build one per thread


def _cleaner() -> bleach.Cleaner:
    cleaner = getattr(_cleaners, "cleaner", None)
    if cleaner is None:
        cleaner = _cleaners.cleaner = bleach.Cleaner(
            tags=ALLOWED_TAGS,
            attributes=_ATTRIBUTE_FILTER,
            protocols=ALLOWED_PROTOCOLS,
            strip=True,
            css_sanitizer=CSSSanitizer(allowed_css_properties=[]),
            # Linkify inside the cleaner, so bare URLs obey the same protocol allowlist.
            filters=[partial(LinkifyFilter, callbacks=[_add_link_rel], skip_tags={"pre", "code"}, url_re=_URL_RE)],
        )
    return cleaner


class _RenderTimeout(Exception):
    pass


@contextmanager
def _time_limit(seconds: float):
    """Interrupt rendering after `seconds`.

    Uses SIGALRM, so it applies on a process's main thread: where gunicorn's sync
    workers and Celery's prefork children run. Elsewhere (the dev server's
    threads) the size bounds alone apply.
    """
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def _interrupt(signum, frame):
        raise _RenderTimeout

    previous = signal.signal(signal.SIGALRM, _interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# Not after a word character or "/", so e-mail addresses and URL paths stay text;
# not before one, so "@jane@example.org" and "#data_set" are not cut short.
_MENTION = r"(?<![\w/{extra}])@([A-Za-z0-9_]{{1,150}})(?![\w@])"
_CATEGORY = r"(?<![\w&/{extra}])#([a-z0-9-]{{1,80}})(?!\w)"
_MENTION_RE = re.compile(_MENTION.format(extra=""))
_CATEGORY_RE = re.compile(_CATEGORY.format(extra=""))
_SAFE_IMAGE_URL_RE = re.compile(r"https?://[^\s\x00-\x1f]+\Z", re.IGNORECASE)
_NOTHING: Mapping[str, tuple[str, str]] = MappingProxyType({})


@dataclass(frozen=True)
class RenderedPost:
    """Sanitized HTML, and whom it mentions (to notify)."""

    html: str
    mentions: frozenset[str]  # canonical usernames that were linked


def find_references(text: str) -> tuple[set[str], set[str]]:
    """Candidate usernames (lower-cased) and category slugs in raw `text`, for the caller to look up.

    Over-inclusive: it also finds names inside code, which `render_post` leaves unlinked.
    """
    users = {match.group(1).lower() for match in _MENTION_RE.finditer(text)}
    categories = {match.group(1) for match in _CATEGORY_RE.finditer(text)}
    return users, categories


def _inside_bare_url(data: str, index: int) -> bool:
    # "https://x.org/?by=@jane" is one URL for the linkifier to make; don't split it.
    before = data[max(0, index - 300):index]
    word = before.rsplit(None, 1)[-1] if before and not before[-1].isspace() else ""
    return "://" in word or "www." in word


class _ReferenceProcessor(InlineProcessor):
    """Turns a matched name into a link built by `make_link`, or leaves it as text."""

    ANCESTOR_EXCLUDES = ("a",)  # never a link inside a link

    def __init__(self, pattern: str, make_link):
        super().__init__(pattern)
        self.make_link = make_link

    def handleMatch(self, m, data):
        link = None if _inside_bare_url(data, m.start(0)) else self.make_link(m.group(1))
        if link is None:
            return None, None, None
        return link, m.start(0), m.end(0)


class _ImagesAsLinks(Treeprocessor):
    """Replaces every <img> with a link to the image, or with its alt text if its URL is unsafe."""

    def __init__(self, md, secret: str):
        super().__init__(md)
        self.secret = secret

    def run(self, root):
        in_links = {image for link in root.iter("a") for image in link.iter("img")}
        for image in list(root.iter("img")):
            src, alt, title = image.get("src", "").strip(), image.get("alt", ""), image.get("title")
            image.attrib.clear()
            if image in in_links or not _SAFE_IMAGE_URL_RE.match(src):
                image.tag, image.text = "span", alt
                continue
            image.tag = "a"
            image.set("href", src)
            image.set("class", f"image-link {self.secret}")
            if title:
                image.set("title", title)
            image.text = _("Image: %(description)s") % {"description": alt or src}


class _ForumExtension(Extension):
    def __init__(self, *, users, categories, secret: str):
        super().__init__()
        self.users, self.categories, self.secret = users, categories, secret
        self.mentions: set[str] = set()

    def _mention(self, name: str):
        found = self.users.get(name.lower())
        if found is None:
            return None
        username, url = found
        self.mentions.add(username)
        return self._link(f"@{username}", url, "mention")

    def _category(self, slug: str):
        found = self.categories.get(slug)
        if found is None:
            return None
        name, url = found
        link = self._link(f"#{slug}", url, "category-link")
        link.set("title", name)
        return link

    def _link(self, text: str, url: str, kind: str):
        link = etree.Element("a", {"href": url, "class": f"{kind} {self.secret}"})
        link.text = AtomicString(text)
        return link

    def extendMarkdown(self, md):
        # Below links, autolinks and raw HTML (so none of them is split), above emphasis
        # (so "@jane_doe" keeps its underscores); code spans are taken before all of these.
        escaped = "\\\\"  # "\@jane" and "\#data" stay text
        md.inlinePatterns.register(
            _ReferenceProcessor(_MENTION.format(extra=escaped), self._mention), "forum_mention", 76
        )
        md.inlinePatterns.register(
            _ReferenceProcessor(_CATEGORY.format(extra=escaped), self._category), "forum_category", 75
        )
        # After every other tree step, so alt text and URL are final.
        md.treeprocessors.register(_ImagesAsLinks(md, self.secret), "forum_images_as_links", -10)


def render_post(
    text: str,
    *,
    users: Mapping[str, tuple[str, str]] = _NOTHING,
    categories: Mapping[str, tuple[str, str]] = _NOTHING,
) -> RenderedPost:
    """Render `text` to sanitized HTML, linking the mentions and categories given.

    `users` maps a lower-cased username to (username, profile URL); `categories` maps
    a slug to (name, URL). Raises ValidationError if `text` is out of bounds.
    """
    check_markdown(text)
    secret = secrets.token_hex(16)
    extension = _ForumExtension(users=users, categories=categories, secret=secret)
    try:
        with _time_limit(settings.MARKDOWN_RENDER_SECONDS):
            html = markdown.markdown(
                text, extensions=[*_EXTENSIONS, extension], extension_configs=_EXTENSION_CONFIGS,
                output_format="html",
            )
    except _RenderTimeout:
        raise ValidationError(
            _("This text took too long to format. Please simplify it, for example by closing its brackets."),
            code="markdown_too_slow",
        ) from None
    except RecursionError:
        raise ValidationError(
            _("This text is structured too deeply to format. Please simplify its lists or quotes."),
            code="markdown_too_deep",
        ) from None
    token = _link_secret.set(secret)
    try:
        html = _cleaner().clean(html)
    finally:
        _link_secret.reset(token)
    # The secret has done its job in the sanitizer; it must not reach the page.
    return RenderedPost(html=html.replace(f" {secret}", ""), mentions=frozenset(extension.mentions))


def render_markdown(text: str) -> str:
    """Return sanitized HTML for `text`. Raises ValidationError if `text` is out of bounds."""
    return render_post(text).html
