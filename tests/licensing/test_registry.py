"""The SPDX registry: parsing never raises, names and addresses, the shipped license texts, and
the vendored data agreeing with known facts."""
import pytest

from licensing import policy, registry
from licensing.policy import Kind

NASTY = [
    None, "", " ", "\t\r\n", "(", ")", "()", "((()))", ")(", "(" * 50, ")" * 50,
    "(" * 45 + "MIT" + ")" * 45,  # deeply nested, under the length limit
    "(" * 5000 + "MIT" + ")" * 5000,  # deeply nested, far over it
    "M" * 10_000, "MIT OR " * 1500 + "MIT", "x" * 101,
    "AND", "OR", "WITH", "and or with", "OR OR OR", "MIT AND", "AND MIT", "MIT WITH", "WITH MIT",
    "MIT WITH MIT", "MIT WITH Classpath-exception-2.0 WITH Classpath-exception-2.0", "MIT AND AND Apache-2.0",
    "MIT ( Apache-2.0 )", "MIT OR (Apache-2.0", "MIT OR Apache-2.0)", "MIT,Apache-2.0", "MIT/Apache-2.0",
    "MIT | Apache-2.0", "MIT & Apache-2.0", "MIT+", "+", "++", "-", "--MIT", "NOASSERTION", "NONE",
    "LicenseRef-x", "DocumentRef-a:LicenseRef-b", "DocumentRef-:", ":", "::::",
    "MIT\x00", "\x00", "\x00" * 50, "MIT\x00OR\x00Apache-2.0", "\x1b[31mMIT\x1b[0m", "MIT\x7f", "MIT\x85",
    "MIT\u200b", "\u200b", "\ufeffMIT", "МІТ", "ＭＩＴ", "İ", "ß" * 60, "ﬃ" * 40, "😀", "MIT OR 😀",
    "\ud800", "MIT\udfff", "Ω" * 100, "\u202eTIM",
    '"MIT"', "'MIT'", "`MIT`", "MIT; rm -rf /", "<script>alert(1)</script>", "%s %(ids)s %(expression)s",
    "{0} {ids}", "\\", "MIT\\", "MIT\nOR\nApache-2.0", "mit with classpath-exception-2.0",
]


@pytest.mark.parametrize("junk", NASTY, ids=range(len(NASTY)))
def test_parse_never_raises_and_gives_either_an_expression_or_an_error(junk):
    parsed = registry.parse(junk)
    assert isinstance(parsed, registry.Parsed)
    assert parsed.valid == (not parsed.error)
    if parsed.valid:
        assert parsed.expression and parsed.ids
    else:
        assert parsed.error and parsed.expression == "" and parsed.ids == []


@pytest.mark.parametrize("junk", NASTY, ids=range(len(NASTY)))
@pytest.mark.parametrize("kind", [Kind.DATA, Kind.RESULT, Kind.CODE])
def test_evaluate_never_raises_on_junk(kind, junk):
    decision = policy.evaluate(kind, junk)
    assert decision.allowed == (not decision.messages)


def test_parse_keeps_nested_parentheses_under_the_limit():
    parsed = registry.parse("(" * 45 + "MIT" + ")" * 45)
    assert parsed.valid and parsed.expression == "MIT" and parsed.ids == ["MIT"]


def test_parse_gives_identifiers_in_order_without_exceptions_or_duplicates():
    parsed = registry.parse("mit AND (apache-2.0 OR MIT) AND GPL-2.0-or-later WITH Classpath-exception-2.0")
    assert parsed.valid
    assert parsed.ids == ["MIT", "Apache-2.0", "GPL-2.0-or-later"]
    assert parsed.expression == "MIT AND (Apache-2.0 OR MIT) AND GPL-2.0-or-later WITH Classpath-exception-2.0"


def test_parse_tidies_whitespace_and_case():
    assert registry.parse("  mit\n  or\tAPACHE-2.0 ").expression == "MIT OR Apache-2.0"


def test_symbol_key_names_the_license_of_a_with_expression():
    tree = registry.parse("GPL-2.0-or-later WITH Classpath-exception-2.0").tree
    assert registry.symbol_key(tree) == "GPL-2.0-or-later"
    assert registry.symbol_key(registry.parse("MIT").tree) == "MIT"
    assert registry.symbol_key(registry.parse("MIT OR Apache-2.0").tree) is None


def test_a_normalized_expression_fits_the_license_fields():
    expression = "GPL-2.0+ OR LGPL-2.1+ OR GPL-3.0+ OR LGPL-3.0+ OR LGPL-2.0+ OR GPL-3.0 OR GPL-2.0"
    assert len(expression) <= registry.MAX_EXPRESSION_LENGTH
    parsed = registry.parse(expression)
    assert not parsed.valid or len(parsed.expression) <= registry.MAX_EXPRESSION_LENGTH


# --- Names, addresses, summaries ---------------------------------------------------------------

@pytest.mark.parametrize(("spdx_id", "name", "url"), [
    ("MIT", "MIT License", "https://opensource.org/license/mit/"),
    ("Apache-2.0", "Apache License 2.0", "https://www.apache.org/licenses/LICENSE-2.0"),
    ("CC-BY-SA-4.0", "Creative Commons Attribution Share Alike 4.0 International",
     "https://creativecommons.org/licenses/by-sa/4.0/legalcode"),
    ("CC0-1.0", "Creative Commons Zero v1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/legalcode"),
    ("BSD-3-Clause", 'BSD 3-Clause "New" or "Revised" License', "https://opensource.org/licenses/BSD-3-Clause"),
])
def test_license_get_gives_the_name_and_official_address(spdx_id, name, url):
    info = registry.license_get(spdx_id)
    assert (info.id, info.name, info.url) == (spdx_id, name, url)
    assert info.spdx_url == f"https://spdx.org/licenses/{spdx_id}.html"


@pytest.mark.parametrize("unknown", ["Foo-1.0", "mit", "", "../MIT", "MIT OR Apache-2.0", "NOASSERTION"])
def test_license_get_knows_exact_identifiers_only(unknown):
    assert registry.license_get(unknown) is None


def test_summaries_are_plain_language_and_never_missing():
    assert "share their adaptations under the same license" in str(registry.license_get("CC-BY-SA-4.0").summary)
    assert "patent" in str(registry.license_get("Apache-2.0").summary)
    zlib = registry.license_get("Zlib")
    assert zlib.category == "Permissive" and str(zlib.summary).startswith("A permissive license")
    for key in ("BSD-4-Clause", "WTFPL", "OFL-1.1", "EPL-2.0"):
        assert str(registry.license_get(key).summary)


# --- Texts ---------------------------------------------------------------------------------------

def _allowed_by_default():
    return list(dict.fromkeys(
        policy.allowed_ids(Kind.DATA) + policy.allowed_ids(Kind.RESULT) + ["MIT", "Apache-2.0"]))


@pytest.mark.parametrize("spdx_id", _allowed_by_default())
def test_every_license_allowed_by_default_ships_its_full_text(spdx_id):
    text = registry.license_text(spdx_id)
    assert text and len(text) > 500
    assert registry.license_get(spdx_id).has_text


def test_every_osi_approved_license_ships_its_text():
    missing = [key for key in registry.osi_approved_ids() if not registry.license_get(key).has_text]
    assert missing == []


@pytest.mark.parametrize(("spdx_id", "words"), [
    ("MIT", "Permission is hereby granted, free of charge"),
    ("Apache-2.0", "Apache License"),
    ("BSD-3-Clause", "Redistribution and use in source and binary forms"),
    ("BSD-2-Clause", "Redistribution and use in source and binary forms"),
    ("CC-BY-SA-4.0", "Attribution-ShareAlike 4.0"),
    ("CC-BY-4.0", "Attribution 4.0 International"),
    ("CC0-1.0", "CC0 1.0 Universal"),
])
def test_license_texts_are_the_real_texts(spdx_id, words):
    assert words in registry.license_text(spdx_id)


@pytest.mark.parametrize("name", ["Foo-1.0", "../README.md", "texts/MIT", "/etc/passwd", "../../settings", ""])
def test_license_text_refuses_unknown_names_and_paths(name):
    assert registry.license_text(name) is None


# --- The vendored data ---------------------------------------------------------------------------

@pytest.mark.parametrize(("spdx_id", "osi"), [
    ("MIT", True), ("Apache-2.0", True), ("BSD-3-Clause", True), ("BSD-2-Clause", True), ("GPL-3.0-only", True),
    ("GPL-2.0-or-later", True), ("MPL-2.0", True), ("AGPL-3.0-or-later", True), ("Unlicense", True), ("0BSD", True),
    ("BSD-4-Clause", False), ("CC-BY-SA-4.0", False), ("CC-BY-4.0", False), ("CC0-1.0", False), ("WTFPL", False),
    ("JSON", False), ("ODbL-1.0", False),
])
def test_vendored_osi_flags_match_known_facts(spdx_id, osi):
    assert registry.license_get(spdx_id).osi_approved is osi
    assert (spdx_id in registry.osi_approved_ids()) is osi


def test_osi_approved_ids_are_sorted_and_many():
    ids = list(registry.osi_approved_ids())
    assert ids == sorted(ids) and len(ids) > 100
