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
import datetime
import functools
import ipaddress
import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

HIGH, MEDIUM = "high", "medium"
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


@dataclass(frozen=True)
class Finding:
    kind: str
    start: int
    end: int
    value: str
    confidence: str = HIGH

    def as_dict(self) -> dict:
        return {"kind": self.kind, "start": self.start, "end": self.end, "value": self.value,
                "confidence": self.confidence}


# --- Context -------------------------------------------------------------------------------

_PATIENT_CONTEXT = re.compile(
    r"\b(patients?|pt|admitted|discharged|deceased|inpatient|outpatient|index case"
    r"|his name|her name|name|named|called|mr|mrs|ms|miss|mx)\b|患者|病人|病例|姓名|住院|就诊",
    re.IGNORECASE,
)
_VERSION_CONTEXT = re.compile(
    r"(\bversion|\bver\b\.?|\bv\.?|\brelease|\brev(ision)?\b|\bbuild|\bassay|\bkit|\bfirmware|\bsoftware"
    r"|\bpackage|\blibrary|\bdatabase|\bgenome|\bGRCh|\bhg|\bensembl|\bpipeline|版本)\s*[:#]?\s*$",
    re.IGNORECASE,
)


def _before(text: str, start: int, width: int = 40) -> str:
    return text[max(0, start - width):start]


# --- Email, IP ------------------------------------------------------------------------------

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


# --- Dates of birth ---------------------------------------------------------------------------

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


# --- Phone numbers ----------------------------------------------------------------------------

_PHONE_CANDIDATE = re.compile(r"(?<![A-Za-z0-9+/.:-])(?:\+|00)?\(?\d[\d\s().-]{5,20}\d(?![\w/]|[.:-]\d)")
_PHONE_CONTEXT = re.compile(r"(\btel\b|phone|mobile|\bcell\b|\bcall\b|\bfax\b|whats\s?app|contact|电话|手机|联系)",
                            re.IGNORECASE)
_PHONE_REGIONS = ("GB", "US", "CN", "DE", "FR", "IT", "ES", "NL", "IN")


def _phone_regions(value: str, digits: int) -> tuple:
    """The regions whose national format `value` could be written in, most likely first."""
    if value.startswith(("+", "00")):
        return (None,)
    plain = re.sub(r"\D", "", value)
    if digits == 11 and re.match(r"1[3-9]", plain):
        return ("CN",)
    if plain.startswith("0"):
        return ("GB", "FR", "DE", "IT", "NL", "CN", "IN")
    return ("US",) if digits == 10 else ("US", "CN", "IN")


@functools.lru_cache(maxsize=4096)
def _phone_number_ok(value: str, context: bool) -> bool:
    import phonenumbers

    digits = sum(c.isdigit() for c in value)
    for region in _phone_regions(value, digits):
        try:
            number = phonenumbers.parse(value, region)
        except phonenumbers.NumberParseException:
            continue
        # "+" and a country code, or a context word, are evidence enough; a bare national number must be valid.
        if phonenumbers.is_possible_number(number) and (
                context or region is None or phonenumbers.is_valid_number(number)):
            return True
    return False


def _phone_findings(text: str):
    for match in _PHONE_CANDIDATE.finditer(text):
        value = match.group().strip().rstrip(".-")
        digits = sum(c.isdigit() for c in value)
        if not 7 <= digits <= 15:
            continue
        if re.fullmatch(r"\d+[.,]\d+", value) or re.fullmatch(r"[\d.]+", value) and value.count(".") >= 2:
            continue  # a decimal, or a dotted version or IP address
        if re.fullmatch(r"(?:19|20)\d{2}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.](?:19|20)?\d{2}", value):
            continue  # a date
        context = bool(_PHONE_CONTEXT.search(_before(text, match.start(), 30)))
        international = value.startswith(("+", "00"))
        bare = re.fullmatch(r"\d+", value) is not None
        if bare and not international and not context and not re.match(r"0|1[3-9]\d{9}$", value):
            continue  # a bare count such as 12345678 is data, not a phone number
        if not _phone_number_ok(value, context):
            continue
        start = match.start() + match.group().index(value[0])
        chinese_mobile = digits == 11 and re.match(r"1[3-9]", value) is not None
        confidence = HIGH if international or context or not bare or chinese_mobile else MEDIUM
        yield Finding("phone", start, start + len(value), value, confidence)


# --- Addresses and postcodes -------------------------------------------------------------------

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


# --- National identifiers (with their check digits) --------------------------------------------

def nhs_number_valid(digits: str) -> bool:
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def china_id_valid(value: str) -> bool:
    value = value.upper()
    if not re.fullmatch(r"\d{17}[\dX]", value):
        return False
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(value[:17], weights, strict=True)) % 11]
    try:
        datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return check == value[17]


def luhn_valid(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        number = int(char)
        if index % 2:
            number *= 2
            number -= 9 if number > 9 else 0
        total += number
    return total % 10 == 0


def bsn_valid(digits: str) -> bool:
    if len(digits) != 9 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:8], range(9, 1, -1), strict=True)) - int(digits[8])
    return total % 11 == 0 and total > 0


def nir_valid(value: str) -> bool:
    digits = re.sub(r"\s", "", value)
    if not re.fullmatch(r"[12]\d{2}(0[1-9]|1[0-2]|[2-9]\d)(\d{2}|2[AB])\d{6}\d{2}", digits):
        return False
    body = digits[:13].replace("2A", "19").replace("2B", "18")
    return 97 - int(body) % 97 == int(digits[13:])


def dni_valid(value: str) -> bool:
    value = value.upper().replace("-", "").replace(" ", "")
    if value[0] in "XYZ":
        value = str("XYZ".index(value[0])) + value[1:]
    if not re.fullmatch(r"\d{8}[A-Z]", value):
        return False
    return "TRWAGMYFPDXBNJZSQVHLCKE"[int(value[:8]) % 23] == value[8]


def hetu_valid(value: str) -> bool:
    match = re.fullmatch(r"(\d{6})[-+A-FU-Y](\d{3})([0-9A-Y])", value.upper())
    return bool(match) and "0123456789ABCDEFHJKLMNPRSTUVWXY"[int(match[1] + match[2]) % 31] == match[3]


_NATIONAL = (
    # (pattern, validator or None, needs context)
    # US SSN: the shape alone (invalid areas such as 000 are what fiction and tests use, so flag those too).
    (re.compile(r"(?<![\d-])\d{3}-\d{2}-\d{4}(?![\d-])"), None, False),
    (re.compile(r"(?<![A-Za-z0-9])(?:QQ|[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z])\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D](?![A-Za-z0-9])"),
     None, False),  # UK National Insurance number (QQ is the prefix reserved for examples)
    (re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)"),
     lambda v: nhs_number_valid(re.sub(r"\D", "", v)), False),  # NHS number
    (re.compile(r"(?<![\dA-Za-z])\d{17}[\dXx](?![\dA-Za-z])"), china_id_valid, False),  # Chinese resident ID
    (re.compile(r"(?<!\d)[12]\s?\d{2}\s?\d{2}\s?(?:\d{2}|2[AB])\s?\d{3}\s?\d{3}\s?\d{2}(?!\d)"),
     nir_valid, False),  # FR NIR
    (re.compile(r"(?<![\dA-Za-z])[XYZ]?\d{7,8}-?[A-Z](?![\dA-Za-z])"), dni_valid, False),  # ES DNI/NIE
    (re.compile(r"(?<![A-Za-z0-9])[A-Z]{6}\d{2}[A-EHLMPR-T]\d{2}[A-Z]\d{3}[A-Z](?![A-Za-z0-9])"), None, False),  # IT
    (re.compile(r"(?<![\d-])(?:19|20)?\d{6}[-+]\d{4}(?![\d-])"),
     lambda v: luhn_valid(re.sub(r"\D", "", v)[-10:]), False),  # SE personnummer
    (re.compile(r"(?<![\dA-Za-z])\d{6}[-+A-FU-Y]\d{3}[0-9A-Y](?![\dA-Za-z])"), hetu_valid, False),  # FI HETU
    (re.compile(r"(?<!\d)\d{9}(?!\d)"), bsn_valid, True),  # NL BSN: nine digits are common, so only by context
)
_NATIONAL_CONTEXT = re.compile(
    r"(\bssn\b|social\s+security|\bnino?\b|national\s+(?:insurance|id(?:entity)?|number)|\bnhs\b|\bbsn\b"
    r"|burgerservicenummer|\bnir\b|s[ée]curit[ée]\s+sociale|\bdni\b|\bnie\b|codice\s+fiscale|personnummer"
    r"|henkilötunnus|\bcpr\b|passport|身份证|证件号)\s*(?:number|no\.?|nr\.?|#)?\s*[:：=]?\s*$",
    re.IGNORECASE,
)


def _national_findings(text: str):
    for pattern, valid, needs_context in _NATIONAL:
        for match in pattern.finditer(text):
            value = match.group()
            context = bool(_NATIONAL_CONTEXT.search(_before(text, match.start(), 30)))
            if needs_context and not context:
                continue
            if valid is not None and not valid(value) and not context:
                continue
            yield Finding("national_id", match.start(), match.end(), value)


# --- Medical record, hospital and patient numbers (by context) ----------------------------------

_RECORD = re.compile(
    r"(\bmrn\b|\bm\.r\.n\.?|medical\s+record(?:\s+(?:number|no\.?|nr\.?|#))?|\brecord\s+(?:number|no\.?|#)"
    r"|hospital\s+(?:number|no\.?|id|#)|patient\s+(?:id|number|no\.?|nr\.?|#)|case\s+(?:number|no\.?|#)"
    r"|chart\s+(?:number|no\.?|#)|\bhosp\.?\s*no\.?|\bpid\b|\bumrn\b|\bcrn\b|\bunit\s+(?:number|no\.?)"
    r"|病历号|住院号|门诊号|病案号|患者编号|登记号)"
    r"\s*(?:is|was|=)?\s*[:：#=]?\s*(?P<value>[A-Za-z]{0,4}[-/ ]?\d[\d -]{2,14}\d[A-Za-z]?)",
    re.IGNORECASE,
)


def _record_findings(text: str):
    for match in _RECORD.finditer(text):
        value = match.group("value").strip()
        if sum(c.isdigit() for c in value) >= 4:
            yield Finding("medical_record", match.start("value"), match.start("value") + len(value), value)


# --- Person names -----------------------------------------------------------------------------

GIVEN_NAMES = frozenset("""
aaliyah abdul adam adrian ahmed aisha alan albert alex alexander alexandra ali alice alicia amanda amelia amir amy
ana andrea andreas andrew angela anita ann anna anne annie anthony antonio arjun arthur ava barbara ben benjamin
bernard beth betty bill brian bruce carl carla carlos carmen carol caroline catherine charles charlie charlotte
chen chloe chris christian christina christine christopher claire clara daniel david deborah dennis diana diego
donald dorothy edward elena eleanor elizabeth ella ellen emily emma eric erik eva evelyn fatima felix fiona
frances francesca francisco frank fred gabriel gary george gerald giulia grace greg hana hannah harold harry
hassan helen henry hugo ian ibrahim irene isabel isabella jack jacob james jan jane janet jason jean jennifer
jessica jim joan joanna joe john jonathan jorge jose joseph joshua joyce juan julia julie karen karl kate
katherine kathleen kenneth kevin kim klaus larry laura lauren leo li liam linda lisa louis lucas lucia luis
luke margaret maria marie mario mark marta martha martin mary matteo matthew mei mia michael michelle mohamed
mohammed muhammad nadia nancy natalie nicholas nicole nina noah olivia omar oscar pablo pamela patricia patrick
paul pedro peter philip pierre priya rachel rahul raj ralph raymond rebecca richard robert roger ronald rosa
ruth ryan sam samuel sandra sara sarah scott sean sharon sofia sophia sophie stephen steven susan thomas timothy tom
victoria vincent walter wei william yuki zoe
""".split())
_NAME_WORD = r"[A-Z][a-z]+(?:[-'][A-Z][a-z]+)?"
_FULL_NAME = re.compile(r"\b(?P<first>[A-Z][a-z]+)\s+(?:[A-Z]\.\s+)?(?P<last>" + _NAME_WORD + r")\b")
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+")
_TITLED_NAME = re.compile(r"\b(?:Mr|Mrs|Ms|Miss|Mx|Mister|Madame|Mme|Herr|Frau|Sr|Sra)\.?\s+(?:" + _NAME_WORD +
                          r"\s+)?" + _NAME_WORD + r"\b")
_LABELLED_NAME = re.compile(
    r"(?i:\b(?P<label>patient(?:'s)?\s+name|full\s+name|name\s+of\s+(?:the\s+)?patient|surname|first\s+name"
    r"|last\s+name|given\s+name|family\s+name|name|patient|pt\.?)\s*(?:is|was|:|=|-)\s*)"
    r"(?P<name>" + _NAME_WORD + r"(?:\s+" + _NAME_WORD + r"){0,2})"
)
_NOT_SURNAMES = frozenset("""
and or the of in at on for with from to by data study trial group team lab hospital university institute
centre center school college foundation clinic health medical research analysis model cohort dataset project
male female man woman unknown none not yes no was is recovered stable deceased admitted discharged
""".split())
# The hundred commonest Chinese surnames (single characters), and words that say "a patient".
CHINESE_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
_CN_NAME = "[" + CHINESE_SURNAMES + r"][\u4e00-\u9fff]{1,2}"
_CHINESE_NAME = re.compile(
    r"(?:患者|病人|病例|姓名|名字|死者|家属|先生|女士|小姐)\s*[:：]?\s*(?P<name>" + _CN_NAME + ")"
    r"|(?P<name2>" + _CN_NAME + r")\s*[,，、]\s*[男女]"
    r"|(?P<name3>" + _CN_NAME + r"?)(?:先生|女士|小姐|患者)"
)


def _name_findings(text: str):
    for match in _TITLED_NAME.finditer(text):
        yield Finding("person_name", match.start(), match.end(), match.group())
    for match in _LABELLED_NAME.finditer(text):
        name, label = match.group("name"), match.group("label").lower()
        words = name.split()
        if words[0].lower() in _NOT_SURNAMES:
            continue
        # "Name: X" says it outright; "patient is X" only when X reads as a person's name.
        if label.startswith(("patient", "pt")) and label != "patient's name" and "name" not in label and not (
            words[0].lower() in GIVEN_NAMES or len(words) >= 2
        ):
            continue
        yield Finding("person_name", match.start("name"), match.end("name"), name)
    for word in _CAPITALISED.finditer(text):  # every start, so "Patient Jane Testpatient" finds its name
        match = _FULL_NAME.match(text, word.start())
        if match is None:
            continue
        first, last = match.group("first"), match.group("last")
        if first.lower() in GIVEN_NAMES and last.lower() not in _NOT_SURNAMES and last.lower() not in GIVEN_NAMES:
            context = _PATIENT_CONTEXT.search(_before(text, match.start(), 60))
            yield Finding("person_name", match.start(), match.end(), match.group(), HIGH if context else MEDIUM)
    for match in _CHINESE_NAME.finditer(text):
        group = next(name for name in ("name", "name2", "name3") if match.group(name))
        yield Finding("person_name", match.start(group), match.end(group), match.group(group))


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


def holds(findings: list[Finding], text: str = "") -> bool:
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


def highlight(text: str, findings: list[Finding]) -> list[tuple[str, str | None]]:
    """`text` cut into (piece, kind or None) runs, for showing the author what was found."""
    pieces, position = [], 0
    for finding in findings:
        if finding.start < position:
            continue
        if finding.start > position:
            pieces.append((text[position:finding.start], None))
        pieces.append((text[finding.start:finding.end], finding.kind))
        position = finding.end
    if position < len(text):
        pieces.append((text[position:], None))
    return pieces
