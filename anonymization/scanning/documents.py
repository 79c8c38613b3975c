"""Metadata of PDFs and Office documents (author, last editor, titles, dates, company)."""
import zipfile
from xml.etree import ElementTree

from .report import Report

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
    found = [key.lstrip("/") for key in PDF_FIELDS if str(metadata.get(key) or "").strip()]
    try:
        if reader.xmp_metadata is not None:
            found.append("XMP")
    except Exception:  # a broken XMP block is still a metadata block
        found.append("XMP (unreadable)")
    for name in found:
        report.add("document_metadata", detail=name)


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
            if local in fields and (element.text or "").strip():
                found.append(local)
    return found


def scan_office(file, report: Report) -> None:
    file.seek(0)
    with zipfile.ZipFile(file) as archive:
        for name in office_fields(archive):
            report.add("document_metadata", detail=name)
        names = archive.namelist()
        if "docProps/custom.xml" in names:
            report.add("document_metadata", detail="custom properties")
        if any("comments" in name.lower() for name in names):
            report.add("document_metadata", detail="comments and their authors")
