"""Dates of birth: a full date after a birth word, a birth year near patient context."""
import datetime
import re

from .base import _PATIENT_CONTEXT, MEDIUM, Finding, _before

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4, "may": 5,
    "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9, "september": 9,
    "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}
_MONTH = r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sept?(?:ember)?" \
         r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?"
_DATE_FORMS = (
    re.compile(r"(?<!\d)(?P<y>(?:19|20)\d{2})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(?P<a>\d{1,2})[-/.](?P<b>\d{1,2})[-/.](?P<y>(?:19|20)?\d{2})(?![\d.])"),
    re.compile(r"(?<!\d)(?P<d>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH + r",?\s+(?P<y>(?:19|20)\d{2})(?!\d)",
               re.IGNORECASE),
    re.compile(_MONTH + r"\s+(?P<d>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y>(?:19|20)\d{2})(?!\d)", re.IGNORECASE),
    re.compile(r"(?P<y>(?:19|20)\d{2})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"),
)
_BIRTH_YEAR = re.compile(r"(\bborn\s+(?:in\s+)?|出生于\s*)((?:19|20)\d{2})(?!\d)", re.IGNORECASE)


def parse_date(match: re.Match) -> datetime.date | None:
    """The calendar date a `_DATE_FORMS` match names (day/month order guessed: either works)."""
    parts = match.groupdict()
    year = int(parts["y"])
    if year < 100:
        year += 1900 if year > 30 else 2000
    if parts.get("mon"):
        month = _MONTHS[parts["mon"].lower().rstrip(".")]
        day = int(parts["d"])
        candidates = [(month, day)]
    elif parts.get("a"):
        a, b = int(parts["a"]), int(parts["b"])
        candidates = [(b, a), (a, b)]  # day/month first (most of the world), then month/day
    else:
        candidates = [(int(parts["m"]), int(parts["d"]))]
    for month, day in candidates:
        try:
            return datetime.date(year, month, day)
        except ValueError:
            continue
    return None


def _date_matches(text: str):
    seen = set()
    for form in _DATE_FORMS:
        for match in form.finditer(text):
            if match.start() in seen:
                continue
            date = parse_date(match)
            if date is not None:
                seen.add(match.start())
                yield match, date


_BIRTH_TRIGGER = re.compile(
    r"(\bborn\b(?:\s+on)?|\bd\.?\s?o\.?\s?b\b\.?|date\s+of\s+birth|birth\s*date|birthday|\bb\.|\bnée?\b"
    r"|出生(?:日期|于|在)?|生日|出生年月日?)\s*[:：=]?\s*(?:on\s+)?",
    re.IGNORECASE,
)


def _birth_findings(text: str):
    for trigger in _BIRTH_TRIGGER.finditer(text):
        window = text[trigger.end():trigger.end() + 40]
        for match, _date in _date_matches(window):
            if not window[:match.start()].strip(" ,:(\t"):
                start = trigger.end() + match.start()
                yield Finding("date_of_birth", start, start + len(match.group()), match.group())
                break
    for match in _BIRTH_YEAR.finditer(text):  # "born in 1970" next to a name or place narrows a person down
        if _PATIENT_CONTEXT.search(_before(text, match.start(), 80)):
            yield Finding("date_of_birth", match.start(2), match.end(2), match.group(2), MEDIUM)
