"""PDFs and Office documents read whole: every page's text, the body, headers, footers, notes and
comments of Word and PowerPoint files, cell comments of workbooks, and their metadata (author, last
editor, titles, company). The text goes through the detector, page by page and part by part."""
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
