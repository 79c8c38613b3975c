"""The labelled corpus (tests/anonymization/corpus.py): every identifier it holds is found, in text
and in every kind of file, and no clean look-alike is flagged. bench/identifiers.py reports the same
as per-kind recall and precision."""
import io

import pytest

from anonymization import detector
from anonymization.filetypes import inspect_upload
from anonymization.scanning import scan_file

from . import corpus
from .files import uploaded


def file_kinds(name: str, content: bytes) -> tuple[set, list]:
    """The kinds a file's scan report names, and its findings."""
    kind = inspect_upload(uploaded(name, content), name=name).kind
    report = scan_file(io.BytesIO(content), kind=kind, name=name)
    found = set()
    for finding in report["findings"]:
        if finding["code"].startswith("identifier_"):
            found.add(finding["subject"])
        elif finding["code"] in ("dicom_field", "private_tag"):
            found.add("dicom")
    return found, report["findings"]


@pytest.mark.parametrize("text, expected", corpus.TEXTS, ids=[text[:30] for text, _ in corpus.TEXTS])
def test_every_identifier_in_the_texts_is_found(text, expected):
    findings = detector.find_identifiers(text)
    assert expected <= {finding.kind for finding in findings}, findings
    assert detector.holds(findings)


@pytest.mark.parametrize("text", corpus.CLEAN_TEXTS, ids=[text[:30] for text in corpus.CLEAN_TEXTS])
def test_no_clean_text_is_held(text):
    assert not detector.holds(detector.find_identifiers(text)), detector.find_identifiers(text)


@pytest.mark.parametrize("name, make, expected", corpus.FILES, ids=[name for name, _make, _kinds in corpus.FILES])
def test_every_identifier_in_the_files_is_found(name, make, expected):
    found, findings = file_kinds(name, make())
    assert expected <= found, findings


@pytest.mark.parametrize("name, make", corpus.CLEAN_FILES, ids=[name for name, _make in corpus.CLEAN_FILES])
def test_no_clean_file_is_flagged(name, make):
    _found, findings = file_kinds(name, make())
    assert findings == []


def test_the_report_shows_the_values_found_and_where():
    _found, findings = file_kinds("notes.csv", corpus.notes_csv())
    phone = next(f for f in findings if f["subject"] == "phone")
    assert phone["cells"] == ["B2"] and phone["values"] == ["07700 900456"]
    _found, findings = file_kinds("letter.pdf", corpus.pdf_with_text(["Nothing", "MRN: 12345678"]))
    record = next(f for f in findings if f["subject"] == "medical_record")
    assert record["cells"] == ["page 2"]


def test_findings_carry_the_detectors_confidence():
    content = corpus._csv([["id", "notes"], ["1", "Reviewed with Maria Garcia"], ["2", "Call 07700 900123"]])
    _found, findings = file_kinds("notes.csv", content)
    by_subject = {finding["subject"]: finding for finding in findings}
    assert by_subject["name"]["confidence"] == "medium"  # a bare name: weak evidence for the reviewer
    assert by_subject["phone"]["confidence"] == "high"
