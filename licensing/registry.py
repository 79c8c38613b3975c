"""SPDX licenses: parsing expressions (with the `license-expression` library), names, official
texts and plain-language summaries (from the SPDX license list shipped in licensing/data)."""
import json
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.utils.translation import gettext_lazy as _
from license_expression import LicenseSymbol, LicenseWithExceptionSymbol, get_spdx_licensing

DATA = Path(__file__).resolve().parent / "data"
MAX_EXPRESSION_LENGTH = 100

# What others may do, in one or two plain sentences, for the licenses people here meet most.
SUMMARIES = {
    "CC-BY-SA-4.0": _("Anyone may share and adapt it, also commercially, if they credit the authors and share "
                      "their adaptations under the same license."),
    "CC-BY-4.0": _("Anyone may share and adapt it for any purpose, also commercially, if they credit the authors."),
    "CC0-1.0": _("The authors give up their rights: anyone may use it for anything, without asking or crediting."),
    "ODbL-1.0": _("Anyone may share and adapt the database if they credit it, keep it open and share adapted "
                  "databases under the same license."),
    "PDDL-1.0": _("The database is in the public domain: anyone may use it for anything."),
    "ODC-By-1.0": _("Anyone may share and adapt the database for any purpose if they credit the authors."),
    "BSD-3-Clause": _("Anyone may use, change and redistribute it, also commercially, if they keep the copyright "
                      "notice and do not use the authors' names to promote their own work."),
    "BSD-2-Clause": _("Anyone may use, change and redistribute it, also commercially, if they keep the copyright "
                      "notice."),
    "MIT": _("Anyone may use, change and redistribute it for any purpose if they keep the copyright notice."),
    "Apache-2.0": _("Anyone may use, change and redistribute it if they keep the notices and state their "
                    "changes; it also grants a patent license."),
    "ISC": _("Anyone may use, change and redistribute it for any purpose if they keep the copyright notice."),
    "0BSD": _("Anyone may use it for any purpose, without conditions."),
    "Unlicense": _("The authors dedicate it to the public domain: anyone may use it for anything."),
    "MPL-2.0": _("Anyone may use and change it; changed files must stay under the same license, the rest of a "
                 "larger work need not."),
    "LGPL-3.0-or-later": _("Anyone may use and change it; changes to the library itself must be shared under the "
                           "same license, programs that only use it need not."),
    "GPL-2.0-or-later": _("Anyone may use and change it; whoever distributes it or a derived program must share "
                          "the source under the same license."),
    "GPL-3.0-only": _("Anyone may use and change it; whoever distributes it or a derived program must share the "
                      "source under the same license."),
    "GPL-3.0-or-later": _("Anyone may use and change it; whoever distributes it or a derived program must share "
                          "the source under the same license."),
    "AGPL-3.0-or-later": _("Like the GPL, and whoever offers a changed version as a network service must share "
                           "its source too."),
    "EUPL-1.2": _("Anyone may use and change it; whoever distributes it or offers it as a service must share the "
                  "source under this or a compatible license."),
}
# For the others, a summary by the kind of license (the categories of the ScanCode license database
# that license-expression ships).
CATEGORY_SUMMARIES = {
    "Permissive": _("A permissive license: anyone may use, change and redistribute it, usually if they keep "
                    "the copyright notice. Read the official text for the exact conditions."),
    "Public Domain": _("Close to the public domain: anyone may use it for almost anything. Read the official text "
                       "for the exact conditions."),
    "Copyleft": _("A copyleft license: anyone may use and change it, and whoever distributes it or derived work "
                  "must share it under the same license. Read the official text for the exact conditions."),
    "Copyleft Limited": _("A weak copyleft license: changes to the work itself must be shared under the same "
                          "license, larger works that use it need not. Read the official text for the exact "
                          "conditions."),
}
UNKNOWN_SUMMARY = _("Read the official text to learn what others may do.")


@dataclass(frozen=True)
class License:
    id: str
    name: str
    url: str
    osi_approved: bool
    category: str = ""

    @property
    def spdx_url(self) -> str:
        return f"https://spdx.org/licenses/{self.id}.html"

    @property
    def summary(self):
        return SUMMARIES.get(self.id) or CATEGORY_SUMMARIES.get(self.category) or UNKNOWN_SUMMARY

    @property
    def has_text(self) -> bool:
        return (DATA / "texts" / f"{self.id}.txt").is_file()


@dataclass
class Parsed:
    """An expression as parsed: its normalized form and the identifiers in it, or why it is not valid."""

    expression: str = ""
    tree: object = None
    ids: list[str] = field(default_factory=list)
    error: str = ""

    @property
    def valid(self) -> bool:
        return not self.error


@cache
def _catalog() -> dict[str, dict]:
    with open(DATA / "spdx-licenses.json", encoding="utf-8") as handle:
        return json.load(handle)


@cache
def _categories() -> dict[str, str]:
    import license_expression

    index = Path(license_expression.__file__).resolve().parent / "data" / "scancode-licensedb-index.json"
    with open(index, encoding="utf-8") as handle:
        return {entry["spdx_license_key"]: entry.get("category", "") for entry in json.load(handle)
                if entry.get("spdx_license_key")}


@cache
def _licensing():
    return get_spdx_licensing()


def license_get(spdx_id: str) -> License | None:
    """The SPDX license called `spdx_id` (exact identifier), or None if the list has no such license."""
    entry = _catalog().get(spdx_id)
    if entry is None:
        return None
    return License(id=spdx_id, name=entry["name"], url=entry["url"], osi_approved=entry["osi"],
                   category=_categories().get(spdx_id, ""))


def license_text(spdx_id: str) -> str | None:
    """The full text of a license, when it is shipped (OSI-approved and open data licenses)."""
    path = DATA / "texts" / f"{spdx_id}.txt"
    if "/" in spdx_id or not path.is_file():
        return None
    return path.read_text(encoding="utf-8")


@cache
def osi_approved_ids() -> tuple[str, ...]:
    """Every OSI-approved SPDX identifier that is current and that license-expression accepts as
    written (deprecated ids such as "GPL-3.0", and exceptions listed as licenses, are left out), sorted."""
    return tuple(sorted(
        key for key, entry in _catalog().items()
        if entry["osi"] and (parsed := parse(key)).valid and parsed.expression == key
    ))


def parse(expression: str) -> Parsed:
    """Parse an SPDX license expression such as "MIT OR Apache-2.0"; never raises."""
    expression = " ".join((expression or "").split())
    if not expression:
        return Parsed(error=str(_("Choose a license.")))
    if len(expression) > MAX_EXPRESSION_LENGTH:
        return Parsed(error=str(_("Keep the license expression under %(limit)d characters.")
                                % {"limit": MAX_EXPRESSION_LENGTH}))
    licensing = _licensing()
    try:
        info = licensing.validate(expression, strict=True)
        unknown = list(info.invalid_symbols)
        errors = list(info.errors)
    except Exception:  # the library raises on some syntax errors instead of reporting them
        unknown, errors = [], ["syntax"]
    if errors or not info.normalized_expression:
        unknown = [symbol for symbol in unknown if symbol and "Unknown" in " ".join(errors)]
        if unknown:
            return Parsed(error=str(_(
                "“%(ids)s” is not an SPDX license identifier. Use one from the SPDX list, such as "
                "CC-BY-SA-4.0, BSD-3-Clause or MIT."
            ) % {"ids": ", ".join(unknown)}))
        return Parsed(error=str(_(
            "“%(expression)s” is not a valid license expression. Give one SPDX identifier such as "
            "BSD-3-Clause, or combine them with AND, OR and WITH, e.g. “MIT OR Apache-2.0”."
        ) % {"expression": expression}))
    if len(info.normalized_expression) > MAX_EXPRESSION_LENGTH:
        return Parsed(error=str(_("Keep the license expression under %(limit)d characters.")
                                % {"limit": MAX_EXPRESSION_LENGTH}))
    tree = licensing.parse(info.normalized_expression, strict=True)
    ids = []
    for symbol in licensing.license_symbols(tree, unique=True, decompose=True):
        if not symbol.is_exception and symbol.key not in ids:
            ids.append(symbol.key)
    return Parsed(expression=info.normalized_expression, tree=tree, ids=ids)


def symbol_key(node) -> str | None:
    """The license identifier of a leaf of a parsed tree (the license of "X WITH exception")."""
    if isinstance(node, LicenseWithExceptionSymbol):
        return node.license_symbol.key
    if isinstance(node, LicenseSymbol):
        return node.key
    return None
