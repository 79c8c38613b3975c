"""Email addresses and IP addresses."""
import ipaddress
import re

from .base import _VERSION_CONTEXT, Finding, _before

# The lookbehind starts a match only at the beginning of a run, keeping the search linear.
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_IPV4 = re.compile(r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?!\w|\.\d)")
_IPV6 = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}[0-9A-Fa-f]{0,4}(?:%\w+)?(?![\w:])")


def _ip_findings(text: str):
    for match in _IPV4.finditer(text):
        if _VERSION_CONTEXT.search(_before(text, match.start(), 24)):
            continue
        yield Finding("ip_address", match.start(), match.end(), match.group())
    for match in _IPV6.finditer(text):
        value = match.group()
        if value.count(":") < 2 or not any(c.isalpha() or c == ":" for c in value.replace(":", "", 1)):
            continue
        if re.fullmatch(r"[\d:]+", value) and "::" not in value:
            continue  # a time such as 12:30:45, or a ratio
        try:
            ipaddress.IPv6Address(value.split("%", 1)[0])
        except ValueError:
            continue
        yield Finding("ip_address", match.start(), match.end(), value)
