"""A scan's findings: what kind of identifying content, where (cells, pages, fields), how often,
and a few of the values found (`values`): the report is shown only to the uploader and the
anonymization team, and the values go when the quarantined file does (services.files_expire).
"""
from django.utils.translation import gettext_lazy as _

MAX_CELLS_LISTED = 20
MAX_VALUES_LISTED = 5
MAX_VALUE_LENGTH = 80

SUBJECTS = {
    "name": _("names"),
    "email": _("email addresses"),
    "phone": _("phone numbers"),
    "date_of_birth": _("dates of birth"),
    "address": _("addresses"),
    "postcode": _("postcodes or ZIP codes"),
    "national_id": _("national or insurance ID numbers"),
    "medical_record": _("medical record numbers"),
    "ip_address": _("IP addresses"),
    "id_number": _("ID-like numbers"),
    "person_name": _("a person's name"),
    "date": _("a date"),
}

LABELS = {
    "identifier_column": _("Column “%(detail)s” looks like it holds %(subject)s."),
    "identifier_value": _("Values that look like %(subject)s (column “%(detail)s”)."),
    "identifier_text": _("Text that looks like %(subject)s."),
    "hidden_sheet": _("Sheet “%(detail)s” is hidden; it was read like the others."),
    "private_tag": _("DICOM private tags hold text (%(detail)s); they are removed on publication."),
    "formula": _("Cells that start like a spreadsheet formula (=, +, -, @); they could run when opened."),
    "image_metadata": _("Image metadata: %(detail)s."),
    "gps_position": _("The image records a GPS position."),
    "dicom_field": _("DICOM header field %(detail)s is filled in."),
    "burned_in_annotation": _("The DICOM file says text is burned into the image pixels."),
    "burned_in_unknown": _("The DICOM file does not say whether text is burned into the pixels; look at the image."),
    "document_metadata": _("Document metadata: %(detail)s."),
    "name_in_filename": _("The file name contains %(subject)s."),
    "name_in_member": _("Archive member %(detail)s has a name that contains %(subject)s."),
    "nested_archive": _("Archive member %(detail)s is itself an archive; it was not opened."),
    "unreadable": _("Part of this file could not be read (%(detail)s), so it was not fully checked."),
    "partial_scan": _("Only part of this file was checked (%(detail)s)."),
}


class Report:
    """Collects findings keyed by (code, subject, detail), counting occurrences and a few places."""

    def __init__(self):
        self._findings: dict[tuple, dict] = {}

    def add(self, code: str, *, subject: str = "", detail: str = "", cell: str | None = None, count: int = 1,
            value: str | None = None, confidence: str = "high"):
        """One occurrence; a finding's confidence is the strongest of its occurrences' ("high" unless
        the detector said "medium": weak evidence a reviewer weighs, which never clears a file alone)."""
        key = (code, subject, detail)
        finding = self._findings.setdefault(
            key, {"code": code, "subject": subject, "detail": str(detail)[:200], "count": 0, "cells": [],
                  "values": [], "confidence": confidence}
        )
        if confidence == "high":
            finding["confidence"] = "high"
        finding["count"] += count
        if cell is not None and len(finding["cells"]) < MAX_CELLS_LISTED:
            finding["cells"].append(cell)
        if value and len(finding["values"]) < MAX_VALUES_LISTED:
            value = " ".join(str(value).split())[:MAX_VALUE_LENGTH]
            if value not in finding["values"]:
                finding["values"].append(value)

    def merge(self, other: "Report", *, prefix: str) -> None:
        for finding in other.findings():
            key = (finding["code"], finding["subject"], f"{prefix}{finding['detail']}" if finding["detail"] else prefix)
            self._findings[key] = {**finding, "detail": key[2][:200],
                                   "cells": [f"{prefix}{cell}" for cell in finding["cells"]],
                                   "values": list(finding.get("values", []))}

    def findings(self) -> list[dict]:
        return list(self._findings.values())

    def as_dict(self) -> dict:
        return {"findings": self.findings()}


def add_text_findings(report: Report, text: str, *, cell: str, code: str = "identifier_text") -> None:
    """Run the detector over a piece of document text and add what it finds at `cell`
    (a page, a line, a part). Long texts are read in overlapping windows."""
    from .. import detector

    window, overlap = detector.MAX_TEXT, 200
    for start in range(0, max(len(text), 1), window - overlap):
        for finding in detector.find_identifiers(text[start:start + window]):
            report.add(code, subject=REPORT_SUBJECT.get(finding.kind, finding.kind), cell=cell, value=finding.value,
                       confidence=finding.confidence)
        if start + window >= len(text):
            break


# The detector's kinds under the report's subject names.
REPORT_SUBJECT = {"person_name": "name"}


def describe(finding: dict) -> str:
    """One sentence for a finding, in the reader's language."""
    label = LABELS.get(finding.get("code"), _("Something to check: %(detail)s."))
    return label % {
        "subject": SUBJECTS.get(finding.get("subject", ""), finding.get("subject", "")),
        "detail": finding.get("detail", ""),
    }
