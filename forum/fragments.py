"""HTML fragments rendered once and kept in the cache under a key made of everything they show.

A list row or a post shows every reader the same HTML, so it is kept under a digest of what it
shows (title, counts, names, "5 minutes ago"...): a change is a new key and nothing needs
invalidating. Keys also carry the template's fingerprint (its source and our translations), the
language and the time zone, so a deploy or a reader's language never serves another's HTML.
"""
import hashlib
from functools import cache as memoize
from pathlib import Path

from django.conf import settings
from django.core.cache import cache
from django.template.loader import get_template
from django.utils.translation import get_language

FRAGMENT_SECONDS = 24 * 3600


@memoize
def template_fingerprint(name: str) -> str:
    """A digest of a template's source and of our translations: a deploy that changes either
    changes every key, so no fragment rendered by the code before it is served after."""
    digest = hashlib.sha256()
    with open(get_template(name).origin.name, "rb") as source:
        digest.update(source.read())
    for locale_path in settings.LOCALE_PATHS:
        for catalog in sorted(Path(locale_path).glob("*/LC_MESSAGES/*.mo")):
            digest.update(str(catalog.relative_to(locale_path)).encode())
            digest.update(catalog.read_bytes())
    return digest.hexdigest()[:16]


def fragment_key(prefix: str, templates: tuple[str, ...], shown: tuple) -> str:
    """The cache key of a fragment rendered by `templates` (the template and those it includes) with
    what `shown` lists, in this language."""
    fingerprints = tuple(template_fingerprint(name) for name in templates)
    whole = (fingerprints, get_language(), settings.TIME_ZONE, shown)
    return f"{prefix}:" + hashlib.sha256(repr(whole).encode()).hexdigest()


def kept_fragments(items, keys, render) -> list[str]:
    """`render(item)` for each of `items`, read from the cache in one round trip where kept; the
    ones rendered now are kept for the next reader in a second."""
    found = cache.get_many(keys)
    made = {}
    fragments = []
    for item, key in zip(items, keys, strict=True):
        html = found.get(key)
        if html is None:
            html = made[key] = render(item)
        fragments.append(html)
    if made:
        cache.set_many(made, FRAGMENT_SECONDS)
    return fragments
