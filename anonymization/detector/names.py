"""Person names: titled, labelled, a known given name and a surname, and Chinese names."""
import re

from .base import _PATIENT_CONTEXT, HIGH, MEDIUM, Finding, _before

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
