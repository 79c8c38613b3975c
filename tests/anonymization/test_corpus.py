"""The acceptance corpus: every identifying file is held for review with the right findings,
the clean file has none, and every bad file is refused with its reason. Through the real
upload path: request_attach → quarantine → scan task → report."""
import pytest
from django.core.exceptions import ValidationError

from anonymization.models import AuditRecord, Upload, UploadVersion

from . import files

pytestmark = pytest.mark.django_db


def _held(attach, data_request, name, content, capture):
    with capture(execute=True):
        upload = attach(data_request, name, content)
    upload.refresh_from_db()
    version = upload.current_version
    version.refresh_from_db()
    return upload, version


def _codes(version) -> set:
    return {(finding["code"], finding["subject"]) for finding in version.findings}


def _finding(version, code, subject=""):
    return next(f for f in version.findings if f["code"] == code and f["subject"] == subject)


IDENTIFYING = [
    ("patients.csv", files.identifying_columns_csv, {
        ("identifier_column", "name"), ("identifier_column", "email"), ("identifier_column", "phone"),
        ("identifier_column", "date_of_birth"), ("identifier_column", "postcode"),
        ("identifier_column", "medical_record"), ("identifier_value", "email"), ("identifier_value", "phone"),
    }),
    ("measurements.csv", files.identifying_values_csv, {
        ("identifier_value", "email"), ("identifier_value", "phone"), ("identifier_value", "date_of_birth"),
        ("identifier_value", "national_id"), ("identifier_value", "ip_address"),
    }),
    ("workbook.xlsx", files.xlsx_with_identifiers_on_second_sheet, {
        ("identifier_column", "name"), ("identifier_value", "email"), ("document_metadata", ""),
    }),
    ("photo.jpg", files.jpeg_with_gps, {("gps_position", ""), ("image_metadata", "")}),
    ("scan.dcm", files.dicom_with_patient, {("dicom_field", ""), ("burned_in_annotation", "")}),
    ("letter.pdf", files.pdf_with_author, {("document_metadata", "")}),
    ("bundle.zip", files.zip_with_named_members, {
        ("name_in_member", "person_name"), ("name_in_member", "date"), ("identifier_value", "email"),
    }),
    ("formulas.csv", files.formula_csv, {("formula", "")}),
]


@pytest.mark.parametrize("name, make, expected", IDENTIFYING, ids=[case[0] for case in IDENTIFYING])
def test_identifying_file_is_held_for_review_with_its_findings(
    attach, public_request, django_capture_on_commit_callbacks, name, make, expected,
):
    upload, version = _held(attach, public_request, name, make(), django_capture_on_commit_callbacks)
    assert version.scan_state == UploadVersion.Scan.DONE
    assert expected <= _codes(version), version.findings
    assert upload.state == Upload.State.REVIEW and upload.published_at is None


def test_report_names_cells_and_keeps_values_apart(attach, public_request, django_capture_on_commit_callbacks):
    """Places and field names in the descriptions; the values found only in `values`, which the
    report page shows to the uploader and the team alone (tests/anonymization/test_permissions.py)."""
    content = files.identifying_values_csv()
    _upload, version = _held(attach, public_request, "measurements.csv", content, django_capture_on_commit_callbacks)
    emails = _finding(version, "identifier_value", "email")
    assert emails["count"] == 2 and emails["cells"] == ["B2", "B3"] and emails["detail"] == "contact"
    births = _finding(version, "identifier_value", "date_of_birth")
    assert births["cells"] == ["D2", "D3", "D4"]
    without_values = str([{key: value for key, value in finding.items() if key != "values"}
                          for finding in version.findings])
    for value in ("jane.testpatient", "7946", "1941", "000-00-0001", "192.0.2.10"):
        assert value not in without_values
    assert "jane.testpatient@example.org" in emails["values"]


def test_second_sheet_is_scanned(attach, public_request, django_capture_on_commit_callbacks):
    _upload, version = _held(attach, public_request, "workbook.xlsx",
                             files.xlsx_with_identifiers_on_second_sheet(), django_capture_on_commit_callbacks)
    assert _finding(version, "identifier_column", "name")["cells"] == ["Patients!B1"]
    assert _finding(version, "identifier_value", "email")["cells"] == ["Patients!C2", "Patients!C3"]
    assert {"creator", "lastModifiedBy"} <= {f["detail"] for f in version.findings if f["code"] == "document_metadata"}


def test_dicom_patient_fields_are_listed(attach, public_request, django_capture_on_commit_callbacks):
    _upload, version = _held(attach, public_request, "scan.dcm", files.dicom_with_patient(),
                             django_capture_on_commit_callbacks)
    fields = {f["detail"] for f in version.findings if f["code"] == "dicom_field"}
    assert {"PatientName", "PatientID", "PatientBirthDate", "InstitutionName"} <= fields


def test_image_metadata_is_listed_by_name(attach, public_request, django_capture_on_commit_callbacks):
    _upload, version = _held(attach, public_request, "photo.jpg", files.jpeg_with_gps(),
                             django_capture_on_commit_callbacks)
    detail = _finding(version, "image_metadata")["detail"]
    assert "Artist" in detail and "DateTime" in detail and "Jane" not in detail


def test_person_like_file_name_is_a_finding(attach, public_request, django_capture_on_commit_callbacks):
    _upload, version = _held(attach, public_request, "Jane_Testpatient_1970-01-01.csv", files.clean_aggregated_csv(),
                             django_capture_on_commit_callbacks)
    assert {("name_in_filename", "person_name"), ("name_in_filename", "date")} <= _codes(version)


def test_clean_aggregated_file_has_no_findings(attach, public_request, django_capture_on_commit_callbacks):
    upload, version = _held(attach, public_request, "weekly_counts.csv", files.clean_aggregated_csv(),
                            django_capture_on_commit_callbacks)
    assert version.findings == [] and version.finding_count == 0
    # Clean, but auto-publishing is off by default: a person still looks at it.
    assert upload.state == Upload.State.REVIEW


def test_any_file_of_a_request_declared_identifying_goes_to_review(
    attach, pending_request, settings, django_capture_on_commit_callbacks,
):
    settings.ANONYMIZATION_AUTO_PUBLISH_CLEAN = True
    upload, version = _held(attach, pending_request, "weekly_counts.csv", files.clean_aggregated_csv(),
                            django_capture_on_commit_callbacks)
    assert version.findings == [] and upload.declared_identifying
    assert upload.state == Upload.State.REVIEW


def test_clean_file_is_published_automatically_only_when_the_site_allows(
    attach, public_request, settings, django_capture_on_commit_callbacks,
):
    settings.ANONYMIZATION_AUTO_PUBLISH_CLEAN = True
    upload, _version = _held(attach, public_request, "weekly_counts.csv", files.clean_aggregated_csv(),
                             django_capture_on_commit_callbacks)
    assert upload.state == Upload.State.PUBLISHED and upload.decided_by is None


REFUSED = [
    ("escape.zip", files.zip_with_traversal, "archive_path_traversal", "leaves its folder"),
    ("bomb.zip", files.zip_bomb, "archive_bomb", "decompression bomb"),
    ("picture.csv", files.plain_png, "type_mismatch", "the content is a PNG image"),
    ("program.csv", files.executable, "executable", "is a program"),
    ("notes.exe", lambda: b"just text", "type_not_allowed", "are not accepted"),
    ("empty.csv", lambda: b"", "empty", "empty"),
]


@pytest.mark.parametrize("name, make, code, reason", REFUSED, ids=[case[0] for case in REFUSED])
def test_bad_file_is_refused_with_its_reason_and_nothing_is_stored(
    attach, public_request, requester, _upload_storage, name, make, code, reason,
):
    with pytest.raises(ValidationError) as refused:
        attach(public_request, name, make())
    assert reason in " ".join(refused.value.messages)
    assert not Upload.objects.exists() and not UploadVersion.objects.exists()
    assert not any((_upload_storage / "quarantine").rglob("*.*"))
    record = AuditRecord.objects.get(action=AuditRecord.Action.REFUSED)
    assert record.actor == requester and record.ip == "192.0.2.1" and reason in record.detail


def test_file_over_the_size_limit_is_refused(attach, public_request, settings):
    settings.ANONYMIZATION_MAX_FILE_BYTES = 1024
    with pytest.raises(ValidationError, match="the limit is 0 MB per file|limit"):
        attach(public_request, "big.csv", b"a,b\n" + b"1,2\n" * 1000)
    assert not Upload.objects.exists()


def test_per_person_daily_limits(attach, public_request, settings):
    settings.ANONYMIZATION_MAX_FILES_PER_DAY = 2
    attach(public_request, "one.csv", files.clean_aggregated_csv())
    attach(public_request, "two.csv", files.clean_aggregated_csv())
    with pytest.raises(ValidationError, match="in the last 24 hours"):
        attach(public_request, "three.csv", files.clean_aggregated_csv())
    assert Upload.objects.count() == 2


def test_giant_image_is_refused_before_it_is_decoded(attach, public_request, settings):
    settings.ANONYMIZATION_MAX_IMAGE_PIXELS = 1000
    with pytest.raises(ValidationError, match="too large"):
        attach(public_request, "photo.jpg", files.jpeg_with_gps())
