"""PDFs, Office and OpenDocument documents read whole: every page's text, the body, headers, footers,
notes and comments of Word, PowerPoint and OpenDocument files, cell comments of workbooks, and their
metadata (author, last editor, titles, company). The text goes through the detector, page by page and
part by part."""
import functools
import re
import zipfile
from xml.etree import ElementTree

from django.conf import settings

from .report import Report, add_text_findings

MAX_PDF_PAGES = 2000
MAX_TEXT_PER_PAGE = 200_000
# An author field naming an organisation says nothing about a patient; a person's name may.
_ORGANISATION = re.compile(
    r"\b(universit|institut|hospital|clinic|centre|center|ministry|department|agency|organi[sz]ation|foundation"
    r"|council|office|laborator|school|college|trust|inc\b|ltd\b|llc\b|gmbh\b|s\.a\.|corporation|company"
    r"|group|team|consortium|network|project|society|association|nhs\b|who\b|cdc\b|ecdc\b)",
    re.IGNORECASE,
)

# Fields that can name or describe a person; software names and timestamps are stripped on
# publication but not reported, or every document would look identifying.
PDF_FIELDS = ("/Author", "/Title", "/Subject", "/Keywords")
OFFICE_PARTS = {
    "docProps/core.xml": ("creator", "lastModifiedBy", "title", "subject", "keywords", "description", "category"),
    "docProps/app.xml": ("Company", "Manager", "HyperlinkBase"),
}
OFFICE_STRIPPED = {
    "docProps/core.xml": (*OFFICE_PARTS["docProps/core.xml"], "created", "modified", "lastPrinted", "revision"),
    "docProps/app.xml": (*OFFICE_PARTS["docProps/app.xml"], "Application", "AppVersion", "TotalTime", "Template"),
}
MAX_PART_BYTES = 1024 * 1024


def scan_pdf(file, report: Report) -> None:
    from pypdf import PdfReader

    file.seek(0)
    reader = PdfReader(file, strict=False)
    metadata = reader.metadata or {}
    found = [key.lstrip("/") for key in PDF_FIELDS if _personal_field(key, str(metadata.get(key) or ""))]
    try:
        if reader.xmp_metadata is not None:
            found.append("XMP")
    except Exception:  # a broken XMP block is still a metadata block
        found.append("XMP (unreadable)")
    for name in found:
        report.add("document_metadata", detail=name)
    for number, page in enumerate(reader.pages, start=1):
        if number > MAX_PDF_PAGES:
            report.add("partial_scan", detail=f"first {MAX_PDF_PAGES} pages")
            break
        try:
            text = page.extract_text() or ""
        except Exception as error:  # one unreadable page must not hide the others
            from celery.exceptions import SoftTimeLimitExceeded

            if isinstance(error, SoftTimeLimitExceeded):
                raise
            report.add("unreadable", detail=f"page {number}: {type(error).__name__}")
            continue
        add_text_findings(report, text[:MAX_TEXT_PER_PAGE], cell=f"page {number}")


def _personal_field(key: str, value: str) -> bool:
    """Whether a filled-in metadata field may name a person: an organisation as the author does not."""
    value = value.strip()
    if not value:
        return False
    if key.lstrip("/").lower() in ("author", "creator", "lastmodifiedby", "company", "manager"):
        return not _ORGANISATION.search(value)
    return True


def office_fields(archive: zipfile.ZipFile) -> list[str]:
    """Names of the filled-in metadata fields of an Office Open XML package."""
    found = []
    for part, fields in OFFICE_PARTS.items():
        try:
            info = archive.getinfo(part)
        except KeyError:
            continue
        if info.file_size > MAX_PART_BYTES:
            found.append(part)
            continue
        root = ElementTree.fromstring(archive.read(part))
        for element in root.iter():
            local = element.tag.rsplit("}", 1)[-1]
            if local in fields and _personal_field(local, element.text or ""):
                found.append(local)
    return found


# The parts of an Office file that hold text a reader sees, with a label for the report.
_TEXT_PARTS = (
    (re.compile(r"word/document\.xml"), "body"),
    (re.compile(r"word/(header|footer)\d*\.xml"), "header or footer"),
    (re.compile(r"word/(footnotes|endnotes)\.xml"), "notes"),
    (re.compile(r"word/comments\w*\.xml"), "comments"),
    (re.compile(r"ppt/slides/slide(\d+)\.xml"), "slide"),
    (re.compile(r"ppt/notesSlides/notesSlide(\d+)\.xml"), "speaker notes"),
    (re.compile(r"ppt/(comments/)?\w*comment\w*\.xml", re.IGNORECASE), "comments"),
    (re.compile(r"xl/comments/?\w*\.xml|xl/threadedComments/.*\.xml"), "cell comments"),
    (re.compile(r"xl/sharedStrings\.xml"), None),  # read by the sheet scan, cell by cell
    (re.compile(r"content\.xml"), "body"),  # OpenDocument
    (re.compile(r"styles\.xml"), "header or footer"),
)
_PARAGRAPHS = ("p", "h", "comment", "si")  # Word/PowerPoint/OpenDocument paragraphs, Excel comments
MAX_PART_TEXT_BYTES = 32 * 2**20


def part_text(data: bytes) -> str:
    """The text of an XML part, one line a paragraph (Word, PowerPoint, Excel and OpenDocument alike)."""
    root = ElementTree.fromstring(data)
    lines = []
    for element in root.iter():
        if element.tag.rsplit("}", 1)[-1] in _PARAGRAPHS:
            text = "".join(element.itertext()).strip()
            if text:
                lines.append(text)
    return "\n".join(lines)


def scan_office_text(archive: zipfile.ZipFile, report: Report) -> None:
    """Every text part's words through the detector, named by part (and slide number)."""
    limit = settings.ANONYMIZATION_MAX_UNCOMPRESSED_BYTES
    for info in archive.infolist():
        for pattern, label in _TEXT_PARTS:
            match = pattern.fullmatch(info.filename)
            if not match:
                continue
            if label is None:
                break
            if info.file_size > min(limit, MAX_PART_TEXT_BYTES):
                report.add("partial_scan", detail=f"{label}: too large to read")
                break
            place = f"{label} {match.group(1)}" if label in ("slide", "speaker notes") and match.groups() else label
            add_text_findings(report, part_text(archive.read(info)), cell=place)
            break


def scan_office(file, report: Report) -> None:
    file.seek(0)
    with zipfile.ZipFile(file) as archive:
        for name in office_fields(archive):
            report.add("document_metadata", detail=name)
        scan_office_text(archive, report)
        names = archive.namelist()
        if "docProps/custom.xml" in names:
            report.add("document_metadata", detail="custom properties")
        if any("comments" in name.lower() for name in names):
            report.add("document_metadata", detail="comments and their authors")


# --- OpenDocument (ODF 1.3: .odt, .ods, .odp) ---------------------------------------------------------

ODF_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
    "dc": "http://purl.org/dc/elements/1.1/",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "presentation": "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0",
    "svg": "urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "script": "urn:oasis:names:tc:opendocument:xmlns:script:1.0",
    "manifest": "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0",
}


@functools.cache
def odf(name: str) -> str:
    """"text:p" as ElementTree spells it: "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}p"."""
    prefix, local = name.split(":")
    return f"{{{ODF_NS[prefix]}}}{local}"


# meta.xml fields that can name or describe a person, reported and removed; the rest of what the
# publication removes (dates, software, the template's path, a page that reloads itself from a URL).
OPENDOCUMENT_FIELDS = ("meta:initial-creator", "dc:creator", "meta:printed-by", "dc:title", "dc:subject",
                       "dc:description", "meta:keyword", "meta:user-defined")
OPENDOCUMENT_STRIPPED = (*OPENDOCUMENT_FIELDS, "meta:creation-date", "dc:date", "meta:print-date",
                         "meta:editing-cycles", "meta:editing-duration", "meta:generator", "meta:template",
                         "meta:auto-reload", "meta:hyperlink-behaviour")
_ODF_META = re.compile(r"(?:(.+)/)?meta\.xml")
# Where text a reader sees lives: paragraphs and headings, slide header and footer texts, alt texts.
ODF_PARAGRAPHS = frozenset(odf(name) for name in (
    "text:p", "text:h", "presentation:header-decl", "presentation:footer-decl", "presentation:date-time-decl",
    "svg:title", "svg:desc"))
ODF_CELLS = frozenset((odf("table:table-cell"), odf("table:covered-table-cell")))
ODF_SPACING = {odf("text:s"): " ", odf("text:tab"): "\t", odf("text:line-break"): "\n"}
# Attributes holding text shown in place of a field (hidden and conditional text, string values).
_ODF_TEXT_ATTRIBUTES = tuple(odf(name) for name in (
    "text:string-value", "text:string-value-if-true", "text:string-value-if-false", "office:string-value"))
_ODF_TEXT_PARTS = re.compile(r"(?:(.+)/)?(content|styles)\.xml")
ODF_FLUSH_CHARACTERS = 200_000


def opendocument_fields(archive: zipfile.ZipFile) -> list[str]:
    """Names of the filled-in person fields of an OpenDocument package's meta.xml (and its embedded objects')."""
    wanted = {odf(name): name.split(":")[1] for name in OPENDOCUMENT_FIELDS}
    found = []
    for info in archive.infolist():
        match = _ODF_META.fullmatch(info.filename)
        if not match:
            continue
        prefix = f"{match.group(1)[:40]}: " if match.group(1) else ""
        if info.file_size > MAX_PART_BYTES:
            found.append(f"{prefix}meta.xml")
            continue
        for element in ElementTree.fromstring(archive.read(info)).iter():
            local = wanted.get(element.tag)
            # An organisation as the creator or printer says nothing about a patient.
            key = "creator" if local in ("initial-creator", "printed-by") else local
            if local and _personal_field(key, "".join(element.itertext())) and f"{prefix}{local}" not in found:
                found.append(f"{prefix}{local}")
    return found


def odf_events(stream):
    """(event, element, ancestors) for an OpenDocument XML part, streamed: "start" when the element's
    attributes are known, "end" when its content is. Ended elements leave the tree at once, except inside
    a paragraph (whose text is read at its end), so memory follows the largest paragraph, not the part."""
    ancestors = []
    in_paragraph = 0
    for event, element in ElementTree.iterparse(stream, events=("start", "end")):
        if event == "start":
            yield "start", element, ancestors
            ancestors.append(element)
            in_paragraph += element.tag in ODF_PARAGRAPHS
            continue
        ancestors.pop()
        yield "end", element, ancestors
        in_paragraph -= element.tag in ODF_PARAGRAPHS
        if not in_paragraph:
            if ancestors:
                ancestors[-1].remove(element)  # its only child: earlier ones were removed at their end
        elif element.tag in ODF_PARAGRAPHS:  # a paragraph inside one (a text box, a note), already read
            tail = element.tail
            element.clear()
            element.tail = tail


def odf_text(element) -> str:
    """The text a reader sees in an OpenDocument paragraph: spaces, tabs and line breaks as written,
    comments left out (they are read on their own)."""
    parts = []
    stack = [(element, None)]
    while stack:
        node, text = stack.pop()
        if node is None:
            parts.append(text)
            continue
        if node.tag == odf("office:annotation"):
            continue
        spacing = ODF_SPACING.get(node.tag)
        if spacing:
            count = node.get(odf("text:c"), "1")
            parts.append(spacing * min(int(count) if count.isdigit() else 1, 100))
        parts.append(node.text or "")
        for child in reversed(node):
            if child.tail:
                stack.append((None, child.tail))
            stack.append((child, None))
    return "".join(parts)


def _odf_nearest_table_is_a_sheet(ancestors) -> bool:
    """Whether the innermost table around the end of `ancestors` is a sheet of a spreadsheet (whose cells
    the sheet scan reads), not a table in a text, a slide or a cell."""
    for index in range(len(ancestors) - 1, 0, -1):
        if ancestors[index].tag == odf("table:table"):
            return ancestors[index - 1].tag == odf("office:spreadsheet")
    return False


def _odf_place(label: str, ancestors, pages: int) -> str:
    tags = {element.tag for element in ancestors}
    if odf("office:annotation") in tags:
        return "comments"
    if odf("text:tracked-changes") in tags:
        return "tracked changes"
    if odf("text:note") in tags:
        return "notes"
    if odf("presentation:notes") in tags:
        return f"speaker notes {pages}"
    if odf("draw:page") in tags:
        return f"slide {pages}"
    return label


class _OdfText:
    """One XML part's text through the detector, place by place, fed by odf_events; counts what names
    people (comments, tracked changes with their authors)."""

    def __init__(self, report: Report, *, label: str, skip_sheet_cells: bool):
        self.report, self.label, self.skip_sheet_cells = report, label, skip_sheet_cells
        self.held = {"comments": 0, "tracked changes": 0}
        self.pages = 0
        self.buffers: dict[str, list[str]] = {}
        self.size = 0

    def handle(self, event: str, element, ancestors) -> None:
        tag = element.tag
        if event == "start":
            if tag == odf("draw:page"):
                self.pages += 1
            elif tag == odf("office:annotation"):
                self.held["comments"] += 1
            if self.skip_sheet_cells and tag in ODF_CELLS and _odf_nearest_table_is_a_sheet(ancestors):
                return
            texts = [element.get(name) for name in _ODF_TEXT_ATTRIBUTES if element.get(name)]
            if texts:
                self._add(texts, [*ancestors, element])
        elif tag == odf("dc:creator") and ancestors and ancestors[-1].tag == odf("office:change-info"):
            self.held["tracked changes"] += bool((element.text or "").strip())
        elif tag in ODF_PARAGRAPHS:
            if self.skip_sheet_cells and ancestors and ancestors[-1].tag in ODF_CELLS \
                    and _odf_nearest_table_is_a_sheet(ancestors[:-1]):
                return  # a cell's own text: read cell by cell by the sheet scan
            self._add([odf_text(element)], ancestors)

    def _add(self, texts: list[str], ancestors) -> None:
        for text in texts:
            text = text.strip()
            if text:
                self.buffers.setdefault(_odf_place(self.label, ancestors, self.pages), []).append(text)
                self.size += len(text)
        if self.size > ODF_FLUSH_CHARACTERS:
            self.flush()

    def flush(self) -> dict:
        for place, lines in self.buffers.items():
            add_text_findings(self.report, "\n".join(lines), cell=place)
        self.buffers.clear()
        self.size = 0
        return self.held


def scan_opendocument_text(archive: zipfile.ZipFile, report: Report, *, sheets=None) -> dict:
    """The text of content.xml ("body", "slide N", "speaker notes N", "comments", "notes", "tracked
    changes"), styles.xml (headers and footers) and embedded objects, streamed. With `sheets` (a
    spreadsheet's cell scan, `handle(event, element, ancestors) -> bool`, False when it is done) content.xml
    is read once for both, and the cells' own text is left to it. Returns how many comments and tracked
    changes there are."""
    held = {"comments": 0, "tracked changes": 0}
    for info in archive.infolist():
        match = _ODF_TEXT_PARTS.fullmatch(info.filename)
        if not match:
            continue
        if match.group(1):
            label = "embedded object"
        else:
            label = "body" if match.group(2) == "content" else "header or footer"
        cells = sheets if info.filename == "content.xml" else None
        text = _OdfText(report, label=label, skip_sheet_cells=cells is not None)
        with archive.open(info) as stream:
            for event, element, ancestors in odf_events(stream):
                text.handle(event, element, ancestors)
                if cells is not None and not cells(event, element, ancestors):
                    cells = None  # the cell budget is spent; the text is still read
        for key, count in text.flush().items():
            held[key] += count
    return held


def scan_opendocument(file, report: Report, *, sheets=None) -> None:
    """An OpenDocument text, spreadsheet or presentation: metadata, text, comments and their authors;
    for a spreadsheet, `sheets` reads the cells (see scan_opendocument_text)."""
    file.seek(0)
    with zipfile.ZipFile(file) as archive:
        try:
            manifest = archive.getinfo("META-INF/manifest.xml")
        except KeyError:
            manifest = None
        if manifest is not None and manifest.file_size <= MAX_PART_BYTES \
                and b"encryption-data" in archive.read(manifest):
            report.add("unreadable", detail="the document is protected by a password")
            return
        for name in opendocument_fields(archive):
            report.add("document_metadata", detail=name)
        held = scan_opendocument_text(archive, report, sheets=sheets)
        if held["comments"]:
            report.add("document_metadata", detail="comments and their authors")
        if held["tracked changes"]:
            report.add("document_metadata", detail="tracked changes and their authors")
