"""Numbers that identify a person: phone numbers, national IDs (with their check digits), and
medical record, hospital and patient numbers."""
import datetime
import functools
import re

from .base import HIGH, MEDIUM, Finding, _before

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
