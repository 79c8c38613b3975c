"""The community's licensing rules, in one place.

Data is shared under CC-BY-SA-4.0 (suggested), CC-BY-4.0 or CC0-1.0; numerical and
pictorial results under BSD-3-Clause (suggested) or BSD-2-Clause; code under any
OSI-approved license. Sites change the lists with the LICENSING_* settings.

An expression is allowed when the licenses it grants are: every part of an AND,
at least one choice of an OR (the reuser may pick it), and the license of
"X WITH exception" (an exception only adds permissions).
"""
from dataclasses import dataclass, field

from django.conf import settings
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from license_expression import AND, OR

from .registry import license_get, osi_approved_ids, parse, symbol_key

# Shown first among the many OSI-approved licenses a form offers for code.
COMMON_CODE_LICENSES = ("MIT", "Apache-2.0", "BSD-3-Clause", "BSD-2-Clause", "GPL-3.0-or-later",
                        "GPL-2.0-or-later", "LGPL-3.0-or-later", "MPL-2.0", "AGPL-3.0-or-later", "ISC",
                        "EUPL-1.2", "Unlicense")
FIGURE_KINDS = frozenset({"png", "jpeg", "tiff"})
TABLE_KINDS = frozenset({"csv", "tsv", "xlsx", "ods"})


class Kind(models.TextChoices):
    DATA = "data", gettext_lazy("data")
    RESULT = "result", gettext_lazy("numerical or pictorial results")
    CODE = "code", gettext_lazy("code")


EXPLANATIONS = {
    Kind.DATA: gettext_lazy("Data is shared as openly as privacy allows: CC-BY-SA-4.0 is suggested; CC-BY-4.0 "
                            "and CC0-1.0 are also allowed."),
    Kind.RESULT: gettext_lazy("Numbers and figures computed here are shared under BSD-3-Clause (suggested) or "
                              "BSD-2-Clause, so anyone may reuse them with credit."),
    Kind.CODE: gettext_lazy("Code needs an open-source license approved by the OSI, so others can build on it."),
}


@dataclass
class Decision:
    """Whether an expression is allowed for a kind of item; `messages` say what to fix."""

    allowed: bool
    expression: str = ""
    messages: list[str] = field(default_factory=list)


def _normalized(keys) -> list[str]:
    """Configured identifiers as license-expression writes them (e.g. "cc0-1.0" → "CC0-1.0")."""
    normalized = []
    for key in keys:
        parsed = parse(key)
        normalized.append(parsed.expression if parsed.valid and len(parsed.ids) == 1 else key)
    return list(dict.fromkeys(normalized))


def allowed_ids(kind: str) -> list[str]:
    """The SPDX identifiers allowed for `kind`, the default first."""
    if kind == Kind.DATA:
        return _normalized(settings.LICENSING_DATA_LICENSES)
    if kind == Kind.RESULT:
        return _normalized(settings.LICENSING_RESULT_LICENSES)
    configured = list(settings.LICENSING_CODE_LICENSES)
    if "osi" in configured:
        configured = [key for key in configured if key != "osi"] + list(osi_approved_ids())
    configured = _normalized(configured)
    default = _normalized([settings.LICENSING_CODE_DEFAULT])[0]
    return [default] + [key for key in dict.fromkeys(configured) if key != default] if default in configured \
        else list(dict.fromkeys(configured))


def default_license(kind: str) -> str:
    """The license a form preselects for `kind`."""
    return allowed_ids(kind)[0]


def choices(kind: str) -> list[tuple[str, str]]:
    """(identifier, "identifier: full name") pairs a form offers for `kind`, the default first."""
    ids = allowed_ids(kind)
    if kind == Kind.CODE:
        common = [key for key in COMMON_CODE_LICENSES if key in ids]
        ids = [ids[0]] + [key for key in common if key != ids[0]] + [key for key in ids[1:] if key not in common]
    labelled = []
    for key in ids:
        info = license_get(key)
        labelled.append((key, f"{key}: {info.name}" if info else key))
    return labelled


def explanation(kind: str):
    return EXPLANATIONS[Kind(kind)]


def _advice(kind: str) -> str:
    ids = allowed_ids(kind)
    if kind == Kind.CODE:
        examples = [key for key in COMMON_CODE_LICENSES[:2] if key in ids] or ids[:1]
        if len(examples) == 2:
            return _("Code needs an OSI-approved open-source license, such as %(first)s or %(second)s.") % {
                "first": examples[0], "second": examples[1]}
        return _("Code needs an OSI-approved open-source license, such as %(first)s.") % {"first": examples[0]}
    suggested, others = ids[0], ids[1:]
    if not others:
        return _("Use %(suggested)s.") % {"suggested": suggested}
    if len(others) == 1:
        return _("Use %(suggested)s (suggested) or %(last)s.") % {"suggested": suggested, "last": others[0]}
    return _("Use %(suggested)s (suggested), %(others)s or %(last)s.") % {
        "suggested": suggested, "others": ", ".join(others[:-1]), "last": others[-1]}


def _allowed(node, allowed: set[str]) -> bool:
    if isinstance(node, AND):
        return all(_allowed(arg, allowed) for arg in node.args)
    if isinstance(node, OR):
        return any(_allowed(arg, allowed) for arg in node.args)
    return symbol_key(node) in allowed


def evaluate(kind: str, expression: str) -> Decision:
    """Whether `expression` (an SPDX expression) is allowed for `kind`, and if not, what to fix."""
    parsed = parse(expression)
    if not parsed.valid:
        return Decision(False, "", [parsed.error])
    allowed = set(allowed_ids(kind))
    if _allowed(parsed.tree, allowed):
        return Decision(True, parsed.expression)
    refused = [key for key in parsed.ids if key not in allowed]
    return Decision(False, parsed.expression, [
        _("Not allowed for %(kind)s: %(refused)s. %(advice)s") % {
            "refused": ", ".join(f"“{key}”" for key in refused) or f"“{parsed.expression}”",
            "kind": Kind(kind).label, "advice": _advice(kind)}
    ])


def item_problems(*, kind: str, expression: str, code_expression: str = "", file_kinds=()) -> list[str]:
    """Everything wrong with an item's licenses: its own for `kind`, the code license of its repository
    (when given), and its attached files (a result with a figure needs a results license)."""
    decision = evaluate(kind, expression)
    problems = list(decision.messages)
    if code_expression:
        code = evaluate(Kind.CODE, code_expression)
        problems += [_("Repository: %(message)s") % {"message": message} for message in code.messages]
    if decision.expression:
        kinds = set(file_kinds)
        if kinds & FIGURE_KINDS and not evaluate(Kind.RESULT, decision.expression).allowed:
            problems.append(_("It attaches a figure, which is a pictorial result. %(advice)s") % {
                "advice": _advice(Kind.RESULT)})
        elif (kinds & TABLE_KINDS and not evaluate(Kind.RESULT, decision.expression).allowed
              and not evaluate(Kind.DATA, decision.expression).allowed):
            problems.append(_("It attaches a table, which is a numerical result or data. %(advice)s") % {
                "advice": _advice(Kind.RESULT)})
    return problems

