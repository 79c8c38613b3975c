"""Attribution text, CITATION.cff and the zip writer for export bundles.

The app that owns an item decides what goes into its bundle; this module only
knows how attribution, citation metadata and license files are written.
"""
import datetime
import json
import re
import secrets
import shutil
import zipfile
from dataclasses import dataclass, field

from django.core.files.storage import Storage, storages

from .registry import license_get, license_text, parse

CHUNK = 1024 * 1024


def bundle_storage() -> Storage:
    """Built bundles hold only public files, so they live beside the published copies."""
    return storages["published"]


def bundle_storage_name() -> str:
    token = secrets.token_hex(20)
    return f"exports/{token[:2]}/{token}.zip"


def attribution(*, title: str, author: str, site: str, date: datetime.date, expression: str) -> str:
    """The line to copy when reusing an item: "<title> by <author>, <site>, <date>, licensed <SPDX>"."""
    return f"{title} by {author}, {site}, {date.isoformat()}, licensed {expression}"


_NOT_PRINTABLE_IN_YAML = re.compile("[\x7f-\x9f\ufffe\uffff]")


def _quoted(value: str) -> str:
    # A JSON string is a valid double-quoted YAML scalar once the characters YAML refuses even
    # inside quotes (DEL, C1 controls, non-characters) are written as escapes such as \u007f.
    quoted = json.dumps(value, ensure_ascii=False)
    return _NOT_PRINTABLE_IN_YAML.sub(lambda match: f"\\u{ord(match.group()):04x}", quoted)


@dataclass
class Author:
    name: str
    orcid: str = ""


def _authors(lines: list[str], authors: list[Author], indent: str) -> None:
    for author in authors:
        words = author.name.split()
        if len(words) >= 2:
            lines.append(f"{indent}- given-names: {_quoted(' '.join(words[:-1]))}")
            lines.append(f"{indent}  family-names: {_quoted(words[-1])}")
        else:
            lines.append(f"{indent}- alias: {_quoted(author.name or 'anonymous')}")
        if author.orcid:
            lines.append(f"{indent}  orcid: {_quoted('https://orcid.org/' + author.orcid)}")


@dataclass
class Reference:
    """A work the bundle builds on, with its own license (e.g. the request's data)."""

    title: str
    authors: list[Author]
    url: str
    license: str = ""


def _single_license(expression: str) -> str:
    # CFF's `license` is one SPDX identifier, or a list meaning "any of these" (an OR): an AND
    # or a WITH cannot be written there, so such a license is left to the README and LICENSES/.
    parsed = parse(expression)
    return parsed.expression if parsed.valid and parsed.expression == (parsed.ids or [None])[0] else ""


def citation_cff(*, title: str, authors: list[Author], date_released: datetime.date, url: str,
                 license: str = "", abstract: str = "", repository: str = "", keywords=(),
                 references: list[Reference] = ()) -> str:
    """A CITATION.cff (Citation File Format 1.2.0) for a bundle: the work under `license`, and the
    works it builds on (`references`) each under its own."""
    lines = [
        "cff-version: 1.2.0",
        f"message: {_quoted('If you use this work, please cite it as below.')}",
        "type: dataset",
        f"title: {_quoted(title)}",
        "authors:",
    ]
    _authors(lines, authors, "  ")
    lines.append(f"date-released: {_quoted(date_released.isoformat())}")
    lines.append(f"url: {_quoted(url)}")
    if repository:
        lines.append(f"repository-code: {_quoted(repository)}")
    if single := _single_license(license):
        lines.append(f"license: {_quoted(single)}")
    if abstract:
        lines.append(f"abstract: {_quoted(abstract[:2000])}")
    if keywords:
        lines.append("keywords:")
        lines += [f"  - {_quoted(keyword)}" for keyword in keywords]
    if references:
        lines.append("references:")
        for reference in references:
            lines += ["  - type: dataset", f"    title: {_quoted(reference.title)}", "    authors:"]
            _authors(lines, reference.authors, "      ")
            lines.append(f"    url: {_quoted(reference.url)}")
            if single := _single_license(reference.license):
                lines.append(f"    license: {_quoted(single)}")
    return "\n".join(lines) + "\n"


def license_ids_of(*expressions: str) -> list[str]:
    """Every license identifier in these expressions, in order of first use."""
    return list(dict.fromkeys(key for expression in expressions if expression for key in parse(expression).ids))


def license_file(spdx_id: str) -> str:
    """The text of LICENSES/<id>.txt: the license's full text, or its name and official address."""
    text = license_text(spdx_id)
    if text:
        return text
    info = license_get(spdx_id)
    name = info.name if info else spdx_id
    url = info.url if info else f"https://spdx.org/licenses/{spdx_id}.html"
    return f"{name} ({spdx_id})\n\nThe full text of this license is at {url}\n"


@dataclass
class Entry:
    """One file of a bundle: its path inside the zip, and its bytes or a callable that opens it."""

    path: str
    content: bytes | None = None
    open: object = None
    size: int = 0
    date: datetime.datetime | None = field(default=None)


def write_zip(target, entries: list[Entry], *, progress=None) -> None:
    """Write `entries` into the zip file object `target`, calling `progress(percent)` as files are copied."""
    total = sum(entry.size or len(entry.content or b"") for entry in entries) or 1
    done = 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for entry in entries:
            stamp = (entry.date or datetime.datetime(2020, 1, 1)).timetuple()[:6]
            info = zipfile.ZipInfo(entry.path, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            if entry.content is not None:
                bundle.writestr(info, entry.content)
                done += len(entry.content)
            else:
                with entry.open() as source, bundle.open(info, "w", force_zip64=True) as sink:
                    shutil.copyfileobj(source, sink, CHUNK)
                done += entry.size
            if progress is not None:
                progress(int(done * 100 / total))
