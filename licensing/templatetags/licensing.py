"""{% license_badge expression %}: an SPDX expression with each license linked to its page here."""
import re

from django import template

from ..registry import license_get, parse

register = template.Library()
_TOKENS = re.compile(r"(\s+|\(|\))")


@register.inclusion_tag("licensing/_badge.html")
def license_badge(expression: str, label: str = ""):
    parsed = parse(expression or "")
    ids = set(parsed.ids)
    parts = []
    for token in _TOKENS.split(parsed.expression or expression or ""):
        if token:
            info = license_get(token) if token in ids else None
            parts.append({"text": token, "id": token if token in ids else "",
                          "name": info.name if info else ""})
    return {"parts": parts, "label": label, "expression": parsed.expression or expression}
