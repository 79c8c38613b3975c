"""The one place where user Markdown becomes HTML.

Rendered with `markdown`, then sanitized with `bleach` using the allowlist
below. Called once when text is saved; the result is stored beside the raw
text and shown as is. Input is bounded in size and nesting so a pathological
text is refused with a clear message instead of tying up a worker.
Images are not embedded: a page must never make a request to another host,
so an image written in Markdown keeps only its alt text until we proxy images.
"""
import re

import bleach
import markdown
from bleach.css_sanitizer import CSSSanitizer
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
# Leading run of quote markers or list/indent markers on a line.
_NESTING_RE = re.compile(r"^((?:\s*>)+|(?:\s{2,}|\t)+)")


def _nesting_depth(line: str) -> int:
    match = _NESTING_RE.match(line)
    if not match:
        return 0
    prefix = match.group(0)
    return max(prefix.count(">"), len(prefix.expandtabs(4)) // 4)


def check_markdown(text: str) -> None:
    """Refuse text that is too long or too deeply nested to render safely."""
    max_length = settings.MARKDOWN_MAX_LENGTH
    if len(text) > max_length:
        raise ValidationError(
            _("This text is %(length)d characters long; the limit is %(limit)d.")
            % {"length": len(text), "limit": max_length},
            code="markdown_too_long",
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


def render_markdown(text: str) -> str:
    """Return sanitized HTML for `text`. Raises ValidationError if `text` is out of bounds."""
    check_markdown(text)
    html = markdown.markdown(
        text, extensions=_EXTENSIONS, extension_configs=_EXTENSION_CONFIGS, output_format="html"
    )
    cleaner = bleach.Cleaner(
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        css_sanitizer=CSSSanitizer(allowed_css_properties=[]),
        filters=[],
    )
    cleaned = cleaner.clean(html)
    return bleach.linkify(cleaned, callbacks=[_add_link_rel], skip_tags={"pre", "code"})
