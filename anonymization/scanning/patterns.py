"""What the file scan adds to the detector (anonymization/detector/, which knows what an
identifier looks like in a value or a sentence): column headers that name identifiers, dates
in cells, spreadsheet formulas, and person-like file names.

Heuristics, tuned to over-report: a false alarm costs a reviewer a minute, a miss
can expose a patient.
"""
import datetime
import re

from .. import detector

_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")

HEADER_PATTERNS = [
    ("name", re.compile(r"^(patient |full |first |last |given |family |middle |maiden |sur |fore )?names?$"
                        r"|\b(surname|forename|firstname|lastname|fullname|patientname|given name|family name)\b")),
    ("email", re.compile(r"\be ?mail\b")),
    ("phone", re.compile(r"\b(phone|telephone|tel|mobile|cell ?phone|fax)( (number|no|nr))?\b")),
    ("date_of_birth", re.compile(r"\b(dob|d o b|date of birth|birth ?date|birthday|born( on)?)\b")),
    ("address", re.compile(r"\b(address|street|addr|residence|house number)\b")),
    ("postcode", re.compile(r"\b(post ?code|zip|zip ?code|postal ?code|plz)\b")),
    ("national_id", re.compile(
        r"\b(ssn|social security|national (id|identity|insurance|number)|nino|insurance (id|number|no)|passport"
        r"|nhs (number|no)|health ?card|personnummer|bsn|aadhaar|tax id|id card)\b")),
    ("medical_record", re.compile(
        r"\b(mrn|medical record|record (number|no)|patient (id|number|no|nr)|hospital (number|no)"
        r"|chart (number|no))\b")),
    ("ip_address", re.compile(r"\b(ip|ip address|ipv4|ipv6)\b")),
]

_DATE_PATTERNS = (
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})([ T].*)?"), (1, 2, 3)),
    (re.compile(r"(\d{1,2})[/.](\d{1,2})[/.](\d{4})"), (3, 2, 1)),
)
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?%?")


def normalize_header(header: str) -> str:
    text = _CAMEL.sub(" ", str(header))
    return " ".join(re.sub(r"[^0-9a-zA-Z]+", " ", text).lower().split())


def header_category(header) -> str | None:
    """The kind of identifier a column's header suggests, if any."""
    text = normalize_header(header or "")
    if not text:
        return None
    for category, pattern in HEADER_PATTERNS:
        if pattern.search(text):
            return category
    return None


def value_category(value: str) -> str | None:
    """The kind of identifier the detector finds first in a cell's value, if any."""
    text = value.strip()
    if len(text) < 6 or len(text) > 200:
        return None
    findings = detector.find_identifiers(text)
    return findings[0].kind if findings else None


def full_date(value) -> datetime.date | None:
    """A calendar date to the day, from a date object or a text such as 1970-01-31 or 31/01/1970."""
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if not isinstance(value, str) or len(value) > 30:
        return None
    for pattern, (year, month, day) in _DATE_PATTERNS:
        match = pattern.fullmatch(value.strip())
        if match:
            try:
                return datetime.date(int(match.group(year)), int(match.group(month)), int(match.group(day)))
            except ValueError:
                return None
    return None


def looks_like_birth_dates(dates: list) -> bool:
    """Day-precise dates spread over ten years or more are more likely people's births
    than the days of an outbreak; a few old dates are enough to ask."""
    years = [date.year for date in dates]
    return len(years) >= 2 and max(years) - min(years) >= 10


# =, +, -, @, tab, carriage return, and the fullwidth forms of the first four (some locales convert them).
_FORMULA_START = "=+-@\t\r\uff1d\uff0b\uff0d\uff20"


def is_formula(value: str) -> bool:
    """A cell a spreadsheet would run: =, @, tab, carriage return and the fullwidth =, +, -, @ always;
    + or - unless it is a plain number or a phone number."""
    if not value or value[0] not in _FORMULA_START:
        return False
    if value[0] in "+-" and (_NUMBER.fullmatch(value) or value_category(value) == "phone" or len(value) == 1):
        return False
    return True


_SPLIT = re.compile(r"[\s_.\-]+")
NAME_DATE = re.compile(r"(19|20)\d{2}[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])"
                       r"|(0[1-9]|[12]\d|3[01])[-_.](0[1-9]|1[0-2])[-_.](19|20)\d{2}")
NAME_ID = re.compile(r"\d{6,}")


def name_categories(name: str) -> list[str]:
    """What in a file name (each folder of its path too) suggests a person: a given name followed by
    a capitalised word, a full date, an ID, or anything the detector finds (an email, a phone number)."""
    found = []
    for stem in name.replace("\\", "/").split("/"):
        tokens = [t for part in _SPLIT.split(stem) for t in _CAMEL.sub(" ", part).split()]
        for first, second in zip(tokens, tokens[1:], strict=False):
            if first.lower() in detector.GIVEN_NAMES and second[:1].isupper() and second.isalpha():
                found.append("person_name")
                break
        if NAME_DATE.search(stem):
            found.append("date")
        if NAME_ID.search(stem) and "date" not in found:
            found.append("id_number")
        found += [finding.kind for finding in detector.find_identifiers(stem)
                  if finding.kind in ("email", "phone", "national_id", "medical_record")]
    return list(dict.fromkeys(found))
