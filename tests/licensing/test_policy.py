"""The licensing policy: which SPDX expressions each kind of item may use, what a refusal says,
the defaults and choices forms offer, problems from attached files and repositories, and sites
changing the lists through settings."""
import pytest

from licensing import policy
from licensing.policy import Kind
from licensing.registry import license_get

DATA, RESULT, CODE = Kind.DATA, Kind.RESULT, Kind.CODE
DATA_ADVICE = "Use CC-BY-SA-4.0 (suggested), CC-BY-4.0 or CC0-1.0."
RESULT_ADVICE = "Use BSD-3-Clause (suggested) or BSD-2-Clause."
CODE_ADVICE = "Code needs an OSI-approved open-source license, such as MIT or Apache-2.0."
ADVICE = {DATA: DATA_ADVICE, RESULT: RESULT_ADVICE, CODE: CODE_ADVICE}


# --- The matrix: kind × expression → allowed, normalized, what the message names -----------------

ALLOWED = [
    # The default lists, one identifier at a time.
    (DATA, "CC-BY-SA-4.0", "CC-BY-SA-4.0"),
    (DATA, "CC-BY-4.0", "CC-BY-4.0"),
    (DATA, "CC0-1.0", "CC0-1.0"),
    (RESULT, "BSD-3-Clause", "BSD-3-Clause"),
    (RESULT, "BSD-2-Clause", "BSD-2-Clause"),
    (CODE, "MIT", "MIT"),
    (CODE, "Apache-2.0", "Apache-2.0"),
    (CODE, "BSD-3-Clause", "BSD-3-Clause"),
    (CODE, "GPL-3.0-only", "GPL-3.0-only"),
    (CODE, "MPL-2.0", "MPL-2.0"),
    # Deprecated identifiers are normalized to their current form.
    (CODE, "GPL-3.0", "GPL-3.0-only"),
    (CODE, "GPL-2.0+", "GPL-2.0-or-later"),
    # Case does not matter; spacing is tidied; redundant parentheses go.
    (DATA, "cc-by-sa-4.0", "CC-BY-SA-4.0"),
    (DATA, "  cc0-1.0\n", "CC0-1.0"),
    (CODE, "mit", "MIT"),
    (CODE, "(MIT)", "MIT"),
    (RESULT, "bsd-3-clause", "BSD-3-Clause"),
    # OR: one allowed choice is enough (the reuser may pick it).
    (CODE, "MIT OR Apache-2.0", "MIT OR Apache-2.0"),
    (CODE, "mit or apache-2.0", "MIT OR Apache-2.0"),
    (DATA, "CC0-1.0 OR GPL-3.0-only", "CC0-1.0 OR GPL-3.0-only"),
    (CODE, "CC0-1.0 OR GPL-3.0-only", "CC0-1.0 OR GPL-3.0-only"),
    (RESULT, "CC-BY-SA-4.0 OR BSD-3-Clause", "CC-BY-SA-4.0 OR BSD-3-Clause"),
    (DATA, "CC-BY-SA-4.0 OR BSD-3-Clause", "CC-BY-SA-4.0 OR BSD-3-Clause"),
    # AND: every part must be allowed.
    (CODE, "BSD-3-Clause AND MIT", "BSD-3-Clause AND MIT"),
    (DATA, "CC-BY-4.0 AND CC0-1.0", "CC-BY-4.0 AND CC0-1.0"),
    (CODE, "MIT AND (Apache-2.0 OR CC0-1.0)", "MIT AND (Apache-2.0 OR CC0-1.0)"),
    # WITH: an exception only adds permissions, the license decides.
    (CODE, "GPL-2.0-or-later WITH Classpath-exception-2.0", "GPL-2.0-or-later WITH Classpath-exception-2.0"),
]


@pytest.mark.parametrize(("kind", "expression", "normalized"), ALLOWED)
def test_allowed_expressions_pass_normalized_and_without_messages(kind, expression, normalized):
    decision = policy.evaluate(kind, expression)
    assert decision.allowed is True
    assert decision.expression == normalized
    assert decision.messages == []


REFUSED_BY_POLICY = [
    # (kind, expression, normalized, the identifiers the message must name as refused)
    (RESULT, "BSD-4-Clause", "BSD-4-Clause", ["BSD-4-Clause"]),
    (RESULT, "CC-BY-SA-4.0", "CC-BY-SA-4.0", ["CC-BY-SA-4.0"]),
    (RESULT, "cc-by-sa-4.0", "CC-BY-SA-4.0", ["CC-BY-SA-4.0"]),
    (RESULT, "MIT", "MIT", ["MIT"]),
    (RESULT, "GPL-3.0-only", "GPL-3.0-only", ["GPL-3.0-only"]),
    (DATA, "GPL-3.0", "GPL-3.0-only", ["GPL-3.0-only"]),
    (DATA, "MIT", "MIT", ["MIT"]),
    (DATA, "BSD-3-Clause", "BSD-3-Clause", ["BSD-3-Clause"]),
    (DATA, "BSD-4-Clause", "BSD-4-Clause", ["BSD-4-Clause"]),
    (CODE, "BSD-4-Clause", "BSD-4-Clause", ["BSD-4-Clause"]),  # not OSI-approved
    (CODE, "CC-BY-SA-4.0", "CC-BY-SA-4.0", ["CC-BY-SA-4.0"]),
    (CODE, "cc-by-sa-4.0", "CC-BY-SA-4.0", ["CC-BY-SA-4.0"]),
    (CODE, "CC0-1.0", "CC0-1.0", ["CC0-1.0"]),
    # OR with no allowed choice names every choice.
    (DATA, "MIT OR Apache-2.0", "MIT OR Apache-2.0", ["MIT", "Apache-2.0"]),
    (RESULT, "MIT OR Apache-2.0", "MIT OR Apache-2.0", ["MIT", "Apache-2.0"]),
    (RESULT, "CC0-1.0 OR GPL-3.0-only", "CC0-1.0 OR GPL-3.0-only", ["CC0-1.0", "GPL-3.0-only"]),
    # AND names the parts that are not allowed, and only those.
    (DATA, "MIT AND CC0-1.0", "MIT AND CC0-1.0", ["MIT"]),
    (CODE, "MIT AND CC0-1.0", "MIT AND CC0-1.0", ["CC0-1.0"]),
    (RESULT, "MIT AND CC0-1.0", "MIT AND CC0-1.0", ["MIT", "CC0-1.0"]),
    (RESULT, "BSD-3-Clause AND MIT", "BSD-3-Clause AND MIT", ["MIT"]),
    # WITH: the exception does not make a refused license allowed.
    (DATA, "GPL-2.0-or-later WITH Classpath-exception-2.0", "GPL-2.0-or-later WITH Classpath-exception-2.0",
     ["GPL-2.0-or-later"]),
    (RESULT, "GPL-2.0-or-later WITH Classpath-exception-2.0", "GPL-2.0-or-later WITH Classpath-exception-2.0",
     ["GPL-2.0-or-later"]),
]


@pytest.mark.parametrize(("kind", "expression", "normalized", "refused"), REFUSED_BY_POLICY)
def test_valid_expressions_outside_the_policy_are_refused_naming_the_license_and_the_fix(
        kind, expression, normalized, refused):
    decision = policy.evaluate(kind, expression)
    assert decision.allowed is False
    assert decision.expression == normalized
    [message] = decision.messages
    assert message.startswith(f"Not allowed for {Kind(kind).label}: ")
    for key in refused:
        assert f"“{key}”" in message
    allowed_here = [key for key in ("BSD-3-Clause", "MIT", "CC0-1.0") if key not in refused]
    for key in allowed_here:
        assert f"“{key}”" not in message
    assert ADVICE[kind] in message


INVALID = [
    # (expression, words the message must contain)
    ("Proprietary", ["“Proprietary” is not an SPDX license identifier", "CC-BY-SA-4.0, BSD-3-Clause or MIT"]),
    ("Foo-1.0", ["“Foo-1.0” is not an SPDX license identifier"]),
    ("LicenseRef-internal", ["“LicenseRef-internal” is not an SPDX license identifier"]),
    ("MIT OR", ["“MIT OR” is not a valid license expression", "AND, OR and WITH", "“MIT OR Apache-2.0”"]),
    ("MIT AND (", ["“MIT AND (” is not a valid license expression"]),
    ("MIT AND AND Apache-2.0", ["is not a valid license expression"]),
    ("MIT/Apache-2.0", ["“MIT/Apache-2.0” is not a valid license expression"]),
    ("MIT WITH", ["is not a valid license expression"]),
    ("Classpath-exception-2.0", ["is not a valid license expression"]),  # an exception alone is no license
    ("", ["Choose a license."]),
    ("   \n", ["Choose a license."]),
    ("MIT OR " * 20 + "MIT", ["Keep the license expression under 100 characters."]),
]


@pytest.mark.parametrize("kind", [DATA, RESULT, CODE])
@pytest.mark.parametrize(("expression", "words"), INVALID)
def test_invalid_expressions_are_refused_for_every_kind_with_a_clear_message(kind, expression, words):
    decision = policy.evaluate(kind, expression)
    assert decision.allowed is False
    assert decision.expression == ""
    [message] = decision.messages
    for word in words:
        assert word in message


@pytest.mark.parametrize("kind", [DATA, RESULT, CODE])
def test_an_expression_too_long_is_refused_before_parsing(kind):
    decision = policy.evaluate(kind, "MIT OR " + "(" * 60 + "Apache-2.0" + ")" * 60)
    assert decision.allowed is False and decision.messages == ["Keep the license expression under 100 characters."]


def test_unknown_identifiers_are_named_even_inside_a_compound_expression():
    decision = policy.evaluate(CODE, "MIT OR Foo-1.0")
    assert decision.allowed is False
    assert "“Foo-1.0” is not an SPDX license identifier" in decision.messages[0]
    assert "MIT," not in decision.messages[0]


# --- Defaults and choices ----------------------------------------------------------------------

def test_defaults_are_the_suggested_licenses():
    assert policy.default_license(DATA) == "CC-BY-SA-4.0"
    assert policy.default_license(RESULT) == "BSD-3-Clause"
    assert policy.default_license(CODE) == "MIT"


@pytest.mark.parametrize("kind", [DATA, RESULT, CODE])
def test_the_default_is_offered_first_and_is_allowed(kind):
    choices = policy.choices(kind)
    assert choices[0][0] == policy.default_license(kind)
    assert policy.evaluate(kind, choices[0][0]).allowed


def test_data_and_result_choices_are_exactly_the_configured_lists_with_full_names():
    assert policy.choices(DATA) == [
        ("CC-BY-SA-4.0", "CC-BY-SA-4.0: Creative Commons Attribution Share Alike 4.0 International"),
        ("CC-BY-4.0", "CC-BY-4.0: Creative Commons Attribution 4.0 International"),
        ("CC0-1.0", "CC0-1.0: Creative Commons Zero v1.0 Universal"),
    ]
    assert [key for key, _label in policy.choices(RESULT)] == ["BSD-3-Clause", "BSD-2-Clause"]
    assert policy.choices(RESULT)[0][1] == 'BSD-3-Clause: BSD 3-Clause "New" or "Revised" License'


def test_code_choices_are_osi_approved_only_with_the_common_ones_near_the_top():
    ids = [key for key, _label in policy.choices(CODE)]
    assert ids[:4] == ["MIT", "Apache-2.0", "BSD-3-Clause", "BSD-2-Clause"]
    assert len(ids) == len(set(ids)) > 100
    for key in ids:
        info = license_get(key)
        assert info is not None and info.osi_approved, key
    for refused in ("CC-BY-SA-4.0", "CC-BY-4.0", "CC0-1.0", "BSD-4-Clause", "WTFPL"):
        assert refused not in ids
    assert dict(policy.choices(CODE))["Apache-2.0"] == "Apache-2.0: Apache License 2.0"


def test_every_offered_code_license_is_accepted_by_the_check():
    refused = [key for key, _label in policy.choices(CODE) if not policy.evaluate(CODE, key).allowed]
    assert refused == []


@pytest.mark.parametrize("kind", [DATA, RESULT])
def test_every_offered_data_and_result_license_is_accepted_as_offered(kind):
    for key, _label in policy.choices(kind):
        decision = policy.evaluate(kind, key)
        assert decision.allowed and decision.expression == key


def test_explanations_exist_for_every_kind():
    assert "CC-BY-SA-4.0" in str(policy.explanation(DATA))
    assert "BSD-3-Clause" in str(policy.explanation(RESULT))
    assert "OSI" in str(policy.explanation(CODE))


# --- Items: files and repositories -------------------------------------------------------------

def test_a_result_under_cc_by_sa_attaching_a_figure_is_refused_with_a_figure_message():
    problems = policy.item_problems(kind=RESULT, expression="CC-BY-SA-4.0", file_kinds=["png"])
    assert len(problems) == 2
    assert "“CC-BY-SA-4.0”" in problems[0]
    assert problems[1] == f"It attaches a figure, which is a pictorial result. {RESULT_ADVICE}"


@pytest.mark.parametrize("figure", ["png", "jpeg", "tiff"])
def test_every_figure_kind_needs_a_results_license(figure):
    problems = policy.item_problems(kind=RESULT, expression="CC-BY-4.0", file_kinds=[figure, "csv"])
    assert any(problem.startswith("It attaches a figure") for problem in problems)
    assert not any(problem.startswith("It attaches a table") for problem in problems)


def test_a_result_under_a_results_license_may_attach_figures_and_tables():
    assert policy.item_problems(kind=RESULT, expression="BSD-3-Clause", file_kinds=["png", "csv", "xlsx"]) == []


def test_a_table_under_neither_a_results_nor_a_data_license_is_refused_with_a_table_message():
    problems = policy.item_problems(kind=RESULT, expression="MIT", file_kinds=["csv"])
    assert problems[-1] == f"It attaches a table, which is a numerical result or data. {RESULT_ADVICE}"
    # A table under a data license is data: only the result's own license is the problem.
    problems = policy.item_problems(kind=RESULT, expression="CC-BY-4.0", file_kinds=["tsv"])
    assert len(problems) == 1 and "“CC-BY-4.0”" in problems[0]


def test_files_of_other_kinds_add_no_problem():
    assert policy.item_problems(kind=RESULT, expression="CC-BY-4.0", file_kinds=["pdf", "zip"]) == [
        policy.evaluate(RESULT, "CC-BY-4.0").messages[0]]


def test_a_repository_under_a_non_osi_license_is_refused_with_a_repository_message():
    problems = policy.item_problems(kind=RESULT, expression="BSD-3-Clause", code_expression="CC-BY-4.0")
    assert problems == [f"Repository: Not allowed for code: “CC-BY-4.0”. {CODE_ADVICE}"]


def test_an_invalid_repository_license_is_refused_with_a_repository_message():
    [problem] = policy.item_problems(kind=RESULT, expression="BSD-3-Clause", code_expression="Proprietary")
    assert problem.startswith("Repository: “Proprietary” is not an SPDX license identifier")


def test_an_item_following_the_policy_has_no_problems():
    assert policy.item_problems(kind=RESULT, expression="BSD-2-Clause", code_expression="MIT OR Apache-2.0",
                                file_kinds=["png"]) == []
    assert policy.item_problems(kind=DATA, expression="CC0-1.0") == []


def test_an_invalid_own_license_reports_no_file_problems():
    assert policy.item_problems(kind=RESULT, expression="MIT OR", file_kinds=["png"]) == [
        policy.evaluate(RESULT, "MIT OR").messages[0]]


# --- Sites change the policy -------------------------------------------------------------------

def test_a_site_may_allow_only_mit_for_code(settings):
    settings.LICENSING_CODE_LICENSES = ["MIT"]
    assert policy.choices(CODE) == [("MIT", "MIT: MIT License")]
    assert policy.evaluate(CODE, "MIT").allowed
    decision = policy.evaluate(CODE, "Apache-2.0")
    assert not decision.allowed
    assert decision.messages == ["Not allowed for code: “Apache-2.0”. Code needs an OSI-approved open-source "
                                 "license, such as MIT."]
    assert policy.evaluate(CODE, "Apache-2.0 OR MIT").allowed


def test_a_code_default_outside_the_list_falls_back_to_the_first_listed(settings):
    settings.LICENSING_CODE_LICENSES = ["Apache-2.0", "BSD-3-Clause"]
    assert policy.default_license(CODE) == "Apache-2.0"
    assert [key for key, _label in policy.choices(CODE)] == ["Apache-2.0", "BSD-3-Clause"]
    assert "such as Apache-2.0." in policy.evaluate(CODE, "MIT").messages[0]


def test_a_site_may_choose_another_code_default(settings):
    settings.LICENSING_CODE_DEFAULT = "Apache-2.0"
    ids = [key for key, _label in policy.choices(CODE)]
    assert ids[:3] == ["Apache-2.0", "MIT", "BSD-3-Clause"]
    assert ids.count("Apache-2.0") == 1


def test_a_site_may_add_licenses_beside_the_osi_list(settings):
    settings.LICENSING_CODE_LICENSES = ["osi", "CC0-1.0"]
    assert policy.evaluate(CODE, "CC0-1.0").allowed
    assert policy.evaluate(CODE, "MIT").allowed
    assert "CC0-1.0" in dict(policy.choices(CODE))


def test_a_site_may_narrow_data_to_one_license(settings):
    settings.LICENSING_DATA_LICENSES = ["CC0-1.0"]
    assert policy.default_license(DATA) == "CC0-1.0"
    decision = policy.evaluate(DATA, "CC-BY-SA-4.0")
    assert not decision.allowed
    assert decision.messages == ["Not allowed for data: “CC-BY-SA-4.0”. Use CC0-1.0."]


def test_a_site_may_add_open_database_licenses_for_data(settings):
    settings.LICENSING_DATA_LICENSES = ["ODbL-1.0", "PDDL-1.0"]
    assert policy.evaluate(DATA, "odbl-1.0").allowed
    assert policy.choices(DATA)[0] == ("ODbL-1.0", "ODbL-1.0: Open Data Commons Open Database License v1.0")
    assert policy.evaluate(DATA, "CC0-1.0").messages == [
        "Not allowed for data: “CC0-1.0”. Use ODbL-1.0 (suggested) or PDDL-1.0."]


def test_a_site_may_change_the_results_licenses_and_figures_follow(settings):
    settings.LICENSING_RESULT_LICENSES = ["CC-BY-4.0"]
    assert policy.item_problems(kind=RESULT, expression="CC-BY-4.0", file_kinds=["png"]) == []
    problems = policy.item_problems(kind=RESULT, expression="BSD-3-Clause", file_kinds=["png"])
    assert problems[-1] == "It attaches a figure, which is a pictorial result. Use CC-BY-4.0."


def test_configured_identifiers_match_however_they_are_written(settings):
    settings.LICENSING_DATA_LICENSES = ["cc0-1.0"]
    settings.LICENSING_CODE_LICENSES = ["GPL-3.0"]
    assert policy.evaluate(DATA, "CC0-1.0").allowed
    assert policy.evaluate(CODE, "GPL-3.0").allowed
