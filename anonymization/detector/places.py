"""Street addresses (English, European and Chinese forms) and postcodes."""
import re

from .base import Finding, _before

_UK_POSTCODE = re.compile(
    r"(?<![A-Za-z0-9])(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})(?![A-Za-z0-9])"
)
_US_STATES = (
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND OH "
    "OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY"
).split()
_US_ZIP = re.compile(r"\b(?:" + "|".join(_US_STATES) + r")\s+\d{5}(?:-\d{4})?\b")
_ZIP_WORDS = r"(\bzip(\s*code)?|\bpost\s*code|postal\s*code|\bplz|邮编|邮政编码)\s*[:：#]?\s*"
_ZIP_CONTEXT = re.compile(_ZIP_WORDS + "$", re.IGNORECASE)
_ZIP_TRIGGER = re.compile(_ZIP_WORDS, re.IGNORECASE)
_BARE_ZIP = re.compile(r"\b[A-Z0-9]{2,5}[ -]?[A-Z0-9]{2,4}\b|\b\d{4,6}\b")
_STREET_WORDS = (
    r"Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Place|Pl|Way|Terrace|Close|Crescent"
    r"|Square|Sq|Gardens|Grove|Row|Mews|Parkway|Pkwy|Highway|Hwy|Circle|Walk"
)
_STREET_FIRST = re.compile(
    r"(?<![\w/.-])\d{1,5}[A-Za-z]?,?\s+(?:[A-Z][A-Za-z'-]+\s+){1,3}(?:" + _STREET_WORDS + r")\b\.?"
)
_STREET_EUROPE = re.compile(
    r"\b[A-ZÄÖÜ][a-zäöüß-]+(?:straße|strasse|str\.|weg|gasse|platz|allee|laan|straat|gracht|vägen|gatan|gade)"
    r"\s+\d{1,4}[a-z]?\b"
    r"|(?<!\d)\d{1,4}(?:\s?bis)?,?\s+(?:rue|avenue|boulevard|allée|chemin|place|via|viale|piazza|calle|avenida|plaza)"
    r"\s+(?:(?:de|del|della|di|du|des|la|le|l')\s*)*[A-Z][\w'-]+"
    r"|\b(?:rue|via|viale|piazza|calle|avenida|plaza|carrer|rua)\s+(?:(?:de|del|della|di|du|des|la|le|l')\s*)*[A-Z][\w'-]+"
    r"(?:\s+[A-Z][\w'-]+)*,?\s+\d{1,4}\b",
    re.UNICODE,
)
_STREET_CHINA = re.compile(
    r"[\u4e00-\u9fff]{1,12}(?:路|街|道|巷|胡同|大道|弄)\s*\d{1,5}\s*(?:号|號)(?:\s*\d+\s*(?:栋|楼|室|单元))*"
)


def _address_findings(text: str):
    for pattern in (_STREET_FIRST, _STREET_EUROPE, _STREET_CHINA):
        for match in pattern.finditer(text):
            yield Finding("address", match.start(), match.end(), match.group().strip())
    for match in _UK_POSTCODE.finditer(text):
        value = match.group()
        if " " not in value and not _ZIP_CONTEXT.search(_before(text, match.start(), 20)) and len(value) < 6:
            continue  # "B12" or "CO2" alone is an outward code or a formula, not an address
        yield Finding("postcode", match.start(), match.end(), value)
    for match in _US_ZIP.finditer(text):
        yield Finding("postcode", match.start(), match.end(), match.group())
    for trigger in _ZIP_TRIGGER.finditer(text):
        match = _BARE_ZIP.match(text, trigger.end())
        if match:
            yield Finding("postcode", match.start(), match.end(), match.group())
