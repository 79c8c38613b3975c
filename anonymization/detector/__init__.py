"""The one place that knows what a patient identifier looks like.

Used for post text, request fields, profile bios, file names, table cells and document
text alike: `find_identifiers(text)` returns every likely identifier with its kind, its
place and a confidence. Heuristics tuned to over-report what is strong evidence
(check digits, context words, well-formed addresses) and to leave alone the clean
look-alikes that would train reviewers to click through (version numbers, aggregate
counts, pseudonymous study ids, organisations).

Confidence: "high" findings hold a text for the anonymization team; "medium" ones (a bare
given name and surname, a number that only might be a phone number) are shown to the
author before posting and hold the text only beside other evidence or patient context.
Nothing here downloads anything: phone numbers use libphonenumber's bundled metadata,
names a list shipped in this module.
"""
import re

from django.utils.translation import gettext_lazy as _

from .base import HIGH, MEDIUM, Finding
from .dates import _birth_findings, parse_date
from .internet import EMAIL, _ip_findings
from .names import CHINESE_SURNAMES, GIVEN_NAMES, _name_findings
from .numbers import (
    _national_findings,
    _phone_findings,
    _record_findings,
    bsn_valid,
    china_id_valid,
    dni_valid,
    hetu_valid,
    luhn_valid,
    nhs_number_valid,
    nir_valid,
)
from .places import _address_findings

__all__ = [
    "CHINESE_SURNAMES", "EMAIL", "GIVEN_NAMES", "HIGH", "KINDS", "LABELS", "MAX_TEXT", "MEDIUM", "Finding",
    "bsn_valid", "china_id_valid", "dni_valid", "find_identifiers", "hetu_valid", "highlight", "holds", "luhn_valid",
    "nhs_number_valid", "nir_valid", "parse_date", "value_identifiers",
]

MAX_TEXT = 200_000  # characters looked at per call; callers split larger documents

LABELS = {
    "person_name": _("a person's name"),
    "date_of_birth": _("a date of birth"),
    "phone": _("a phone number"),
    "email": _("an email address"),
    "address": _("a street address"),
    "postcode": _("a postcode"),
    "national_id": _("a national ID number"),
    "medical_record": _("a medical record or patient number"),
    "ip_address": _("an IP address"),
}
KINDS = tuple(LABELS)


# --- Entry points -----------------------------------------------------------------------------

_FINDERS = (
    lambda text: (Finding("email", m.start(), m.end(), m.group()) for m in EMAIL.finditer(text)),
    _record_findings, _national_findings, _birth_findings, _ip_findings, _address_findings, _name_findings,
    _phone_findings,
)


def find_identifiers(text: str) -> list[Finding]:
    """Every likely identifier in `text` (its first MAX_TEXT characters), in order, without overlaps:
    where two findings cover the same characters, the one found by the stronger rule stays."""
    if not text:
        return []
    text = text[:MAX_TEXT]
    taken: list[Finding] = []
    for finder in _FINDERS:  # strongest evidence first
        for finding in finder(text):
            if any(finding.start < other.end and other.start < finding.end for other in taken):
                continue
            taken.append(finding)
    return sorted(taken, key=lambda finding: finding.start)


def holds(findings: list[Finding]) -> bool:
    """Whether findings are enough to hold a text for the anonymization team: any high-confidence
    finding, or weak ones of two kinds (a name next to a phone-like number says more than either)."""
    if any(finding.confidence == HIGH for finding in findings):
        return True
    return len({finding.kind for finding in findings}) >= 2


def value_identifiers(value: str, *, column_kind: str | None = None, header: str = "") -> list[Finding]:
    """Identifiers in one table cell. In a column whose header names an identifier (name, date of
    birth, record number, address, ...) any non-empty, non-numeric value is one; in a column whose
    header says "version", dotted numbers are versions, never addresses."""
    text = value.strip()
    if not text:
        return []
    if column_kind in ("name", "address", "medical_record", "national_id", "postcode", "email", "phone") and (
        any(c.isalpha() for c in text) or column_kind != "name" and sum(c.isdigit() for c in text) >= 4
    ):
        kind = {"name": "person_name"}.get(column_kind, column_kind)
        return [Finding(kind, 0, len(text), text)]
    findings = find_identifiers(text)
    if re.search(r"version|release|build|\bver\b|\bv\b", header, re.IGNORECASE):
        findings = [finding for finding in findings if finding.kind != "ip_address"]
    return findings
