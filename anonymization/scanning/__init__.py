"""The automated scan for personal data: one entry point, `scan_file`, per file kind.

Each reader is bounded (cells, pixels, archive sizes; the Celery task adds a time
limit). A part that cannot be read becomes a finding, so an unreadable file always
goes to a person instead of passing as clean.
"""
import logging
import tempfile
import zipfile

from django.conf import settings

from .. import filetypes
from . import documents, media, patterns, tabular
from .report import Report, describe

__all__ = ["Report", "describe", "scan_file"]

logger = logging.getLogger(__name__)


def _scan_content(file, kind: str, report: Report, *, depth: int, name: str = "") -> None:
    if kind == "csv":
        tabular.scan_delimited(file, report, delimiter=",")
    elif kind == "tsv":
        tabular.scan_delimited(file, report, delimiter="\t")
    elif kind == "text":
        tabular.scan_text(file, report, name=name)
    elif kind == "xlsx":
        documents.scan_office(file, report)  # first: it still reports if the sheets cannot be read
        tabular.scan_xlsx(file, report)
    elif kind in ("docx", "pptx"):
        documents.scan_office(file, report)
    elif kind == "ods":
        tabular.scan_ods(file, report)  # the cells, and the text, comments and metadata as for odt and odp
    elif kind in filetypes.OPENDOCUMENT:
        documents.scan_opendocument(file, report)
    elif kind in filetypes.IMAGES:
        media.scan_image(file, report)
    elif kind == "dicom":
        media.scan_dicom(file, report)
    elif kind == "pdf":
        documents.scan_pdf(file, report)
    elif kind == "zip":
        _scan_archive(file, report, depth=depth)


MAX_ARCHIVE_DEPTH = 3


def _scan_archive(file, report: Report, *, depth: int) -> None:
    """Member names, then each member's content as its own file; archives inside archives too,
    MAX_ARCHIVE_DEPTH levels deep (deeper ones are reported unopened)."""
    file.seek(0)
    with zipfile.ZipFile(file) as archive:
        for number, member in enumerate(archive.infolist(), start=1):
            if member.is_dir():
                continue
            label = f"#{number}"
            for category in patterns.name_categories(member.filename):
                report.add("name_in_member", subject=category, detail=label)
            with tempfile.SpooledTemporaryFile(max_size=8 * 2**20) as copy:
                with archive.open(member) as source:
                    filetypes.copy_bounded(source, copy, limit=settings.ANONYMIZATION_MAX_UNCOMPRESSED_BYTES)
                found = filetypes.member_kind(copy, name=member.filename)
                if found == "zip" and depth >= MAX_ARCHIVE_DEPTH:
                    report.add("nested_archive", detail=label)
                    continue
                if found.startswith(("executable:", "other:")):
                    report.add("unreadable", detail=f"member {label}: {found.split(':', 1)[1]}")
                    continue
                member_report = Report()
                _scan_safely(copy, found, member_report, depth=depth + 1, name=member.filename)
                report.merge(member_report, prefix=f"member {label}: ")


def _scan_safely(file, kind: str, report: Report, *, depth: int, name: str = "") -> None:
    try:
        _scan_content(file, kind, report, depth=depth, name=name)
    except Exception as error:  # any parser failure makes the file need a person, never "clean"
        from celery.exceptions import SoftTimeLimitExceeded

        if isinstance(error, SoftTimeLimitExceeded):
            raise
        logger.info("scan could not read a %s file: %r", kind, error)
        report.add("unreadable", detail=f"{filetypes.KINDS[kind].label}: {type(error).__name__}")


def scan_file(file, *, kind: str, name: str) -> dict:
    """Scan an open binary file of `kind` (from filetypes.inspect_upload) named `name`; the report dict."""
    report = Report()
    for category in patterns.name_categories(name):
        report.add("name_in_filename", subject=category)
    _scan_safely(file, kind, report, depth=0, name=name)
    return report.as_dict()
