"""Patterns for identifying content: column headers, cell values, file names.

Heuristics, tuned to over-report: a false alarm costs a reviewer a minute, a miss
can expose a patient. The bundled given names are a small, common, multinational list.
"""
import datetime
import re

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

# The lookbehind starts a match only at the beginning of a run, keeping a search linear.
EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_PHONE_PATTERNS = (
    re.compile(r"(\+|00)\d{1,3}[\s.-]?(\(0?\d{1,4}\)[\s.-]?)?\d{1,4}([\s.-]?\d{2,4}){1,5}"),
    re.compile(r"\(?\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}"),
    re.compile(r"0\d{2,4}[\s-]\d{3,4}[\s-]?\d{3,4}"),
)
_ID_PATTERNS = (
    ("national_id", re.compile(r"\d{3}-\d{2}-\d{4}")),  # US social security number
    ("national_id", re.compile(r"[A-CEGHJ-PR-TW-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]")),  # UK NI number
    ("medical_record", re.compile(r"(MRN|PID|PAT|ID)[-: #]?\d{4,}", re.IGNORECASE)),
    ("id_number", re.compile(r"\d{3}[ -]\d{3}[ -]\d{4}|\d{9,13}")),
)
IPV4 = re.compile(r"(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}")
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


def _digits(text: str) -> int:
    return sum(ch.isdigit() for ch in text)


def value_category(value: str) -> str | None:
    """The kind of identifier a whole cell value looks like (dates are handled per column)."""
    text = value.strip()
    if len(text) < 6 or len(text) > 200:
        return None
    if EMAIL.fullmatch(text):
        return "email"
    if IPV4.fullmatch(text):
        return "ip_address"
    for category, pattern in _ID_PATTERNS:
        if pattern.fullmatch(text):
            return category
    if any(pattern.fullmatch(text) for pattern in _PHONE_PATTERNS) and 8 <= _digits(text) <= 15:
        return "phone"
    return None


def text_categories(line: str):
    """Identifier kinds found anywhere in a line of free text."""
    if EMAIL.search(line):
        yield "email"
    for category, pattern in _ID_PATTERNS[:3]:
        if pattern.search(line):
            yield category
            break
    match = _PHONE_PATTERNS[0].search(line)
    if match and 8 <= _digits(match.group()) <= 15:
        yield "phone"


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


GIVEN_NAMES = frozenset("""
aaliyah abdul adam ahmed aisha alex alexander ali alice amelia amir ana andrea andrew angela anna anne antonio
arjun ava barbara ben benjamin carlos carmen charles charlotte chen chloe christopher daniel david deborah diego
elena elizabeth ella emily emma eric eva fatima felix francesca francisco gabriel george grace hana hannah harry
hassan henry hugo ibrahim isabella jack jacob james jane janet jennifer jessica joan john jose joseph juan julia
karen kevin laura leo li liam linda lucas lucia luis maria mark marta mary matteo mei mia michael mohamed
mohammed muhammad nadia nina noah olivia omar oscar patricia paul pedro peter priya rachel rahul raj richard
robert rosa ryan sara sarah sofia sophie susan thomas tom wei william yuki zoe
""".split())
_SPLIT = re.compile(r"[\s_.\-]+")
NAME_DATE = re.compile(r"(19|20)\d{2}[-_.]?(0[1-9]|1[0-2])[-_.]?(0[1-9]|[12]\d|3[01])"
                       r"|(0[1-9]|[12]\d|3[01])[-_.](0[1-9]|1[0-2])[-_.](19|20)\d{2}")
NAME_ID = re.compile(r"\d{6,}")


def name_categories(name: str) -> list[str]:
    """What in a file name suggests a person: a given name followed by a capitalised word, a full date, an ID."""
    found = []
    stem = name.rsplit("/", 1)[-1]
    tokens = [t for part in _SPLIT.split(stem) for t in _CAMEL.sub(" ", part).split()]
    for first, second in zip(tokens, tokens[1:], strict=False):
        if first.lower() in GIVEN_NAMES and second[:1].isupper() and second.isalpha():
            found.append("person_name")
            break
    if NAME_DATE.search(stem):
        found.append("date")
    if NAME_ID.search(stem) and "date" not in found:
        found.append("id_number")
    return found
