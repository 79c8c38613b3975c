"""ORCID iD parsing and validation (format and ISO 7064 MOD 11-2 check digit)."""
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_ORCID_RE = re.compile(r"^(\d{4})-?(\d{4})-?(\d{4})-?(\d{3}[\dX])$")
_URL_PREFIXES = ("https://orcid.org/", "http://orcid.org/", "orcid.org/")


def orcid_check_digit(base_digits: str) -> str:
    """The ISO 7064 MOD 11-2 check character for the first 15 digits of an iD."""
    total = 0
    for digit in base_digits:
        total = (total + int(digit)) * 2
    result = (12 - total % 11) % 11
    return "X" if result == 10 else str(result)


def normalize_orcid(value: str) -> str:
    """Return the iD as 0000-0000-0000-000X, accepting a URL or missing dashes.

    Raises ValidationError with a message that says what is wrong.
    """
    value = (value or "").strip()
    for prefix in _URL_PREFIXES:
        if value.lower().startswith(prefix):
            value = value[len(prefix):]
            break
    match = _ORCID_RE.match(value.upper())
    if not match:
        raise ValidationError(
            _("An ORCID iD has 16 characters in four groups, like 0000-0002-1825-0097."),
            code="orcid_format",
        )
    digits = "".join(match.groups())
    if orcid_check_digit(digits[:15]) != digits[15]:
        raise ValidationError(
            _("This ORCID iD has a typo: its last character does not match the others. "
              "Please copy it from your ORCID record."),
            code="orcid_checksum",
        )
    return "-".join(match.groups())


def validate_orcid(value: str) -> None:
    """Model validator: an empty value is allowed, anything else must be a valid iD."""
    if value:
        normalize_orcid(value)
