"""The public copy of an approved file: metadata stripped, active content removed, a neutral name.

Images are re-encoded from their pixels (EXIF, GPS, text chunks, XMP gone). PDFs are rewritten page
by page without their information dictionary, XMP, JavaScript, actions other than jumps inside the
document, and embedded files. Office files lose their author, editor and company fields; OpenDocument
files their person fields, comments, macros and thumbnails, and their formulas; in tables
(CSV, TSV, XLSX) every cell that a spreadsheet would run as a formula is made inert. DICOM files are
de-identified by the DICOM PS3.15 Annex E Basic Application Level Confidentiality Profile, nested
sequences and private tags included. Plain text is copied as it is.

Every step is bounded (rows and lines read one at a time, object and nesting counts capped) and fails
closed: a file that cannot be cleaned raises, and nothing is published.
"""
import tempfile

from .. import filetypes
from .archives import _clean_archive
from .dicom import _strip_dicom
from .office import _strip_image, _strip_office, _strip_opendocument
from .pdf import _strip_pdf
from .spool import SPOOL_BYTES
from .tables import FORMULA_START, _neutralize_delimited, _neutralize_field, _neutralize_xlsx, neutralize

__all__ = [
    "FORMULA_START", "_neutralize_field", "neutralize", "public_copy", "public_file_name", "public_storage_name",
]

# --- Names -------------------------------------------------------------------------------------


def public_storage_name(*, upload_id: int, version_number: int, original_name: str) -> str:
    """Where the public copy is stored: ids and the extension only, never the uploader's name.
    Stable per version, so a retried publication overwrites its own half-written copy."""
    return f"{upload_id}/v{version_number}{filetypes.extension_of(original_name)}"


def public_file_name(*, upload_id: int, original_name: str, report) -> str:
    """The name readers see and download a published file under: the uploader's (sanitized) name, or
    `file-<upload id>.<ext>` when the scan found something identifying in that name."""
    findings = report.get("findings", []) if isinstance(report, dict) else []
    if any(isinstance(finding, dict) and finding.get("code") == "name_in_filename" for finding in findings):
        return f"file-{upload_id}{filetypes.extension_of(original_name)}"
    return original_name


# --- The copy ----------------------------------------------------------------------------------


def public_copy(source, *, kind: str, depth: int = 0):
    """A temporary file holding the publishable copy of `source` (an open binary file)."""
    target = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    source.seek(0)
    if kind in filetypes.IMAGES:
        _strip_image(source, kind, target)
    elif kind == "pdf":
        _strip_pdf(source, target)
    elif kind in filetypes.TABULAR:
        _neutralize_delimited(source, target, delimiter="\t" if kind == "tsv" else ",")
    elif kind == "xlsx":
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as neutral:
            _neutralize_xlsx(source, neutral)  # then the metadata, in the workbook openpyxl wrote
            neutral.seek(0)
            _strip_office(neutral, target)
    elif kind in filetypes.OFFICE:
        _strip_office(source, target)
    elif kind in filetypes.OPENDOCUMENT:
        _strip_opendocument(source, target)
    elif kind == "dicom":
        _strip_dicom(source, target)
    elif kind == "zip":
        _clean_archive(source, target, depth=depth)
    else:
        while chunk := source.read(2**20):
            target.write(chunk)
    target.seek(0)
    return target
