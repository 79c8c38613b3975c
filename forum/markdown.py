"""The one place where user Markdown becomes HTML.

Rendered with `markdown`, then sanitized with `bleach` using the allowlist
below. Called once when text is saved; the result is stored beside the raw
text and shown as is. Input is bounded in size and nesting so a pathological
text is refused with a clear message instead of tying up a worker.
Images are not embedded: a page must never make a request to another host,
so an image written in Markdown keeps only its alt text until we proxy images.
"""
import re
import signal
import threading
from contextlib import contextmanager
from functools import partial

import bleach
import markdown
from bleach.css_sanitizer import CSSSanitizer
from bleach.linkifier import LinkifyFilter, build_url_re
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

ALLOWED_TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "code", "del", "div", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "li", "ol", "p", "pre", "s", "span", "strong",
    "sub", "sup", "table", "tbody", "td", "th", "thead", "tr", "ul",
})
ALLOWED_ATTRIBUTES = {
    "a": ["href", "title", "rel"],
    "abbr": ["title"],
    "code": ["class"],
    "div": ["class"],
    "span": ["class"],
    "th": ["align"],
    "td": ["align"],
}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
_EXTENSIONS = ["fenced_code", "tables", "sane_lists", "codehilite", "nl2br"]
_EXTENSION_CONFIGS = {"codehilite": {"guess_lang": False, "css_class": "highlight"}}
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


def _add_link_rel(attrs, new=False):
    href_key = (None, "href")
    if href_key in attrs:
        attrs[(None, "rel")] = "nofollow ugc noopener"
    return attrs


# Only the classes code highlighting needs, so nobody can dress text up as a site message.
_ALLOWED_CLASS_RE = re.compile(r"^(?:highlight|codehilite|language-[\w+-]{1,30}|[a-z]{1,2}[a-z0-9]?)$")


def _allow_class(tag, name, value):
    if name != "class":
        return name in ALLOWED_ATTRIBUTES.get(tag, ())
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


def render_markdown(text: str) -> str:
    """Return sanitized HTML for `text`. Raises ValidationError if `text` is out of bounds."""
    check_markdown(text)
    try:
        with _time_limit(settings.MARKDOWN_RENDER_SECONDS):
            html = markdown.markdown(
                text, extensions=_EXTENSIONS, extension_configs=_EXTENSION_CONFIGS, output_format="html"
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
    return _cleaner().clean(html)
