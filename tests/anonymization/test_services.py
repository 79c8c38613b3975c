"""The review life cycle through the services: versions, decisions, publishing with metadata
stripped, idempotent tasks, failed scans, retention, the append-only audit log and emails."""
import datetime
import io
import zipfile

import pytest
import time_machine
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from anonymization import services
from anonymization.models import AuditRecord, Upload, UploadVersion
from anonymization.notifications import ReviewKind
from anonymization.storage import published_storage, quarantine_storage
from forum.models import Category, Notification
from requests_board import services as request_services
from tests.helpers import sign_in
from tests.requests_board.factories import make_claimed

from . import files

pytestmark = pytest.mark.django_db
Action = AuditRecord.Action


@pytest.fixture
def held(attach, django_capture_on_commit_callbacks):
    """Attach a file and run its scan; returns the upload, refreshed."""
    def _held(data_request, name, content, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            upload = attach(data_request, name, content, **kwargs)
        upload.refresh_from_db()
        return upload
    return _held


@pytest.fixture
def decide(django_capture_on_commit_callbacks):
    def _decide(actor, upload, decision, reason=""):
        with django_capture_on_commit_callbacks(execute=True):
            services.upload_decide(actor=actor, upload_id=upload.pk, decision=decision, reason=reason, ip="192.0.2.9")
        upload.refresh_from_db()
        return upload
    return _decide


def _published_bytes(upload) -> bytes:
    with published_storage().open(upload.published_name, "rb") as file:
        return file.read()


def test_new_version_supersedes_and_keeps_the_old_one(held, decide, requester, anonymizer, pending_request,
                                                      django_capture_on_commit_callbacks):
    upload = held(pending_request, "patients.csv", files.identifying_columns_csv())
    decide(anonymizer, upload, "changes", "Please remove the name, email and phone columns.")
    assert upload.state == Upload.State.CHANGES
    with django_capture_on_commit_callbacks(execute=True):
        services.upload_add_version(actor=requester, upload_id=upload.pk, file=files.uploaded(
            "counts.csv", files.clean_aggregated_csv()))
    upload.refresh_from_db()
    first, second = upload.versions.order_by("number")
    assert upload.current_version == second and upload.state == Upload.State.REVIEW
    assert first.superseded_at is not None and first.finding_count > 0
    assert second.scan_state == UploadVersion.Scan.DONE and second.findings == []
    assert quarantine_storage().exists(first.storage_name)


def test_changes_and_rejection_need_a_reason(held, anonymizer, public_request):
    upload = held(public_request, "patients.csv", files.identifying_columns_csv())
    for decision in ("changes", "reject"):
        with pytest.raises(ValidationError, match="Please say what"):
            services.upload_decide(actor=anonymizer, upload_id=upload.pk, decision=decision, reason="  ")
    upload.refresh_from_db()
    assert upload.state == Upload.State.REVIEW


def test_nobody_approves_their_own_upload(held, moderator, public_request):
    upload = held(public_request, "weekly.csv", files.clean_aggregated_csv(), actor=moderator)
    with pytest.raises(PermissionDenied, match="your own upload"):
        services.upload_decide(actor=moderator, upload_id=upload.pk, decision="approve")
    upload.refresh_from_db()
    assert upload.state == Upload.State.REVIEW and not upload.audit.filter(action=Action.APPROVED).exists()


def test_only_the_team_and_moderators_decide(held, requester, volunteer, public_request):
    upload = held(public_request, "weekly.csv", files.clean_aggregated_csv())
    for person in (requester, volunteer):
        with pytest.raises(Exception) as refused:
            services.upload_decide(actor=person, upload_id=upload.pk, decision="reject", reason="no")
        assert type(refused.value).__name__ in ("Http404", "PermissionDenied")
    upload.refresh_from_db()
    assert upload.state == Upload.State.REVIEW


def test_approval_publishes_and_makes_a_private_request_public(held, decide, anonymizer, pending_request):
    upload = held(pending_request, "counts.xlsx", files.clean_xlsx(author="Dr Synthetic Author"))
    assert pending_request.topic.category.security == Category.Security.PRIVATE
    decide(anonymizer, upload, "approve")
    pending_request.refresh_from_db()
    assert upload.state == Upload.State.PUBLISHED and upload.decided_by == anonymizer
    assert pending_request.cleared_at is not None and pending_request.topic.category.is_public
    published = zipfile.ZipFile(io.BytesIO(_published_bytes(upload)))
    assert "Dr Synthetic Author" not in published.read("docProps/core.xml").decode()
    assert published.read("xl/worksheets/sheet1.xml")  # the data itself is intact
    actions = list(upload.audit.values_list("action", flat=True))
    assert actions == [Action.UPLOADED, Action.SCANNED, Action.APPROVED, Action.PUBLISHED]


def test_published_image_has_no_metadata(held, decide, anonymizer, public_request):
    from PIL import Image

    upload = decide(anonymizer, held(public_request, "photo.jpg", files.jpeg_with_gps()), "approve")
    with Image.open(io.BytesIO(_published_bytes(upload))) as image:
        exif = image.getexif()
        assert not exif.get_ifd(0x8825) and 0x013B not in exif and 0x0132 not in exif
        assert image.size == (64, 48)


def test_published_dicom_and_pdf_lose_identifying_fields(held, decide, anonymizer, public_request):
    import pydicom
    from pypdf import PdfReader

    dicom = decide(anonymizer, held(public_request, "scan.dcm", files.dicom_with_patient()), "approve")
    dataset = pydicom.dcmread(io.BytesIO(_published_bytes(dicom)))
    assert "PatientName" not in dataset and "PatientID" not in dataset and "PatientBirthDate" not in dataset
    assert dataset.Rows == 2
    pdf = decide(anonymizer, held(public_request, "letter.pdf", files.pdf_with_author()), "approve")
    metadata = PdfReader(io.BytesIO(_published_bytes(pdf))).metadata or {}
    assert not metadata.get("/Author") and not metadata.get("/Title")


def test_nothing_approved_changes_afterwards(held, decide, requester, anonymizer, public_request):
    upload = decide(anonymizer, held(public_request, "weekly.csv", files.clean_aggregated_csv()), "approve")
    with pytest.raises(PermissionDenied):
        services.upload_add_version(actor=requester, upload_id=upload.pk,
                                    file=files.uploaded("other.csv", files.identifying_columns_csv()))
    upload.refresh_from_db()
    assert upload.versions.count() == 1 and upload.published_version.number == 1


def test_publishing_and_scanning_twice_change_nothing(held, decide, anonymizer, public_request):
    upload = decide(anonymizer, held(public_request, "weekly.csv", files.clean_aggregated_csv()), "approve")
    assert services.upload_publish(upload_id=upload.pk) is False
    assert services.version_scan(version_id=upload.current_version_id) is False
    assert upload.audit.filter(action=Action.PUBLISHED).count() == 1
    assert upload.audit.filter(action=Action.SCANNED).count() == 1


def test_a_failed_scan_can_never_be_approved(attach, anonymizer, public_request):
    upload = attach(public_request, "weekly.csv", files.clean_aggregated_csv())  # scan task not run
    services.version_scan_failed(version_id=upload.current_version_id, reason="the scan took too long")
    upload.refresh_from_db()
    assert upload.state == Upload.State.REVIEW
    assert upload.current_version.scan_state == UploadVersion.Scan.FAILED
    with pytest.raises(PermissionDenied, match="scan has not completed"):
        services.upload_decide(actor=anonymizer, upload_id=upload.pk, decision="approve")
    upload.refresh_from_db()
    assert upload.state == Upload.State.REVIEW and upload.published_at is None


def test_a_file_that_crashes_every_worker_goes_to_a_person(attach, public_request):
    upload = attach(public_request, "weekly.csv", files.clean_aggregated_csv())
    UploadVersion.objects.filter(pk=upload.current_version_id).update(scan_attempts=3)
    services.version_scan(version_id=upload.current_version_id)
    upload.refresh_from_db()
    assert upload.state == Upload.State.REVIEW and upload.current_version.scan_state == UploadVersion.Scan.FAILED


def test_a_damaged_file_is_held_as_unreadable(held, public_request):
    upload = held(public_request, "broken.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 50)
    codes = {finding["code"] for finding in upload.current_version.findings}
    assert "unreadable" in codes and upload.state == Upload.State.REVIEW


def test_scan_stops_at_its_cell_bound_and_says_so(held, public_request, settings):
    settings.ANONYMIZATION_SCAN_MAX_CELLS = 50
    upload = held(public_request, "weekly.csv", files.clean_aggregated_csv())
    assert [f["code"] for f in upload.current_version.findings] == ["partial_scan"]


def test_stalled_scans_are_found(attach, public_request):
    upload = attach(public_request, "weekly.csv", files.clean_aggregated_csv())
    assert services.scans_stalled(older_than_seconds=900) == []
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=20)):
        assert services.scans_stalled(older_than_seconds=900) == [upload.current_version_id]


def test_retention_deletes_rejected_and_superseded_files_but_keeps_the_record(
    held, decide, requester, anonymizer, public_request, settings, django_capture_on_commit_callbacks,
):
    settings.ANONYMIZATION_RETENTION_DAYS = 30
    rejected = decide(anonymizer, held(public_request, "patients.csv", files.identifying_columns_csv()),
                      "reject", "This cannot be anonymised here.")
    changed = decide(anonymizer, held(public_request, "contacts.csv", files.identifying_values_csv()),
                     "changes", "Remove the contact columns.")
    with django_capture_on_commit_callbacks(execute=True):
        services.upload_add_version(actor=requester, upload_id=changed.pk,
                                    file=files.uploaded("clean.csv", files.clean_aggregated_csv()))
    changed.refresh_from_db()
    kept = changed.current_version
    assert services.files_expire() == 0
    assert any(finding["values"] for finding in changed.versions.get(number=1).findings)
    later = timezone.now() + datetime.timedelta(days=31)
    assert services.files_expire(now=later) == 2
    for version in (rejected.current_version, changed.versions.get(number=1)):
        version.refresh_from_db()
        assert version.file_deleted_at is not None and not quarantine_storage().exists(version.storage_name)
        # The report stays for the record, without the values found: they leave with the file.
        assert version.findings and all(finding["values"] == [] for finding in version.findings)
        assert "example.org" not in str(version.report)
    assert quarantine_storage().exists(kept.storage_name)
    assert AuditRecord.objects.filter(action=Action.FILE_DELETED).count() == 2
    assert services.files_expire(now=later) == 0


def test_audit_log_is_append_only(held, public_request):
    upload = held(public_request, "weekly.csv", files.clean_aggregated_csv())
    record = upload.audit.first()
    record.detail = "rewritten"
    with pytest.raises(ValidationError):
        record.save()
    with pytest.raises(ValidationError):
        record.delete()
    with pytest.raises(ValidationError):
        AuditRecord.objects.filter(pk=record.pk).update(detail="rewritten")
    with pytest.raises(ValidationError):
        AuditRecord.objects.all().delete()
    assert AuditRecord.objects.get(pk=record.pk).detail != "rewritten"


SECRETS = ("patients", "SECRETWORD", "incubation", "cohort", "names", "column")


@pytest.mark.django_db(transaction=True)
def test_emails_say_only_that_there_is_something_to_read(client, requester, anonymizer, pending_request):
    mail.outbox.clear()
    upload = request_services.request_attach(actor=requester, data_request_id=pending_request.pk,
                                             file=files.uploaded("patients.csv", files.identifying_columns_csv()))
    services.message_post(actor=anonymizer, upload_id=upload.pk, raw="Please drop the column of SECRETWORD.")
    services.upload_decide(actor=anonymizer, upload_id=upload.pk, decision="changes", reason="Remove SECRETWORD.")
    # Each is told once, on the site and by email; the notification keeps no title, topic or post.
    notifications = list(Notification.objects.filter(key__startswith="review:"))
    assert sorted((n.user_id, n.kind) for n in notifications) == sorted([
        (anonymizer.pk, ReviewKind.WAITING), (requester.pk, ReviewKind.MESSAGE), (requester.pk, ReviewKind.DECIDED),
    ])
    for notification in notifications:
        assert (notification.title, notification.topic_id, notification.post_id) == ("", None, None)
        assert notification.url == upload.get_absolute_url()
    recipients = sorted(tuple(message.to) for message in mail.outbox)
    assert recipients == sorted([(anonymizer.email,), (requester.email,), (requester.email,)])
    for message in mail.outbox:
        [(html, _mimetype)] = message.alternatives
        text = message.subject + message.body + html
        for secret in SECRETS:
            assert secret not in text
        assert f"/anonymization/files/{upload.pk}/" in message.body
        assert f"/anonymization/files/{upload.pk}/" in html
    # Nor does the list under the bell.
    sign_in(client, requester)
    page = client.get(reverse("forum:notification-list")).content.decode()
    assert "A decision was made about your file" in page
    for secret in SECRETS:
        assert secret not in page


def test_private_thread_stays_off_the_topic_and_feeds(client, held, anonymizer, requester, public_request):
    upload = held(public_request, "weekly.csv", files.clean_aggregated_csv())
    services.message_post(actor=anonymizer, upload_id=upload.pk, raw="The word PRIVATEMARKER stays private.")
    for url in (public_request.get_absolute_url(), "/latest.atom", "/latest.rss"):
        assert b"PRIVATEMARKER" not in client.get(url, follow=True).content


def test_pathological_message_is_refused_clearly(held, anonymizer, public_request):
    upload = held(public_request, "weekly.csv", files.clean_aggregated_csv())
    with pytest.raises(ValidationError) as refused:
        services.message_post(actor=anonymizer, upload_id=upload.pk, raw="> " * 500 + "deep")
    assert "raw" in refused.value.message_dict


def test_update_attachment_goes_to_quarantine_and_a_refused_one_posts_nothing(
    requester, volunteer, public_category, anonymization_category,
):
    data_request, _claim = make_claimed(requester, volunteer, public_category)
    post = request_services.update_post(
        actor=volunteer, data_request_id=data_request.pk, raw="Cleaned the synthetic rows.",
        attachment=files.uploaded("progress.png", files.plain_png()), ip="192.0.2.7",
    )
    upload = Upload.objects.get()
    assert upload.post == post and upload.uploader == volunteer and upload.topic_id == data_request.topic_id
    posts_before = data_request.topic.posts.count()
    with pytest.raises(ValidationError) as refused:
        request_services.update_post(actor=volunteer, data_request_id=data_request.pk, raw="Second update.",
                                     attachment=files.uploaded("tool.csv", files.executable()), ip="192.0.2.7")
    assert "attachment" in refused.value.message_dict
    assert data_request.topic.posts.count() == posts_before and Upload.objects.count() == 1
    assert AuditRecord.objects.filter(action=Action.REFUSED, actor=volunteer).exists()


@pytest.mark.parametrize("raw, expected", [
    ("../../etc/passwd.csv", "passwd.csv"),
    ("C:\\Users\\Jane\\data.csv", "data.csv"),
    ("bad\x00name\x1b[31m.csv", "badname[31m.csv"),
    ("  .hidden.csv", "hidden.csv"),
    ("", "file"),
    ("x" * 400 + ".csv", "x" * 146 + ".csv"),
    ("right\u202eto-left.csv", "rightto-left.csv"),
])
def test_file_names_are_sanitized(raw, expected):
    from anonymization.filetypes import sanitize_filename

    assert sanitize_filename(raw) == expected


def test_a_waiting_request_leaves_the_channel_only_by_clearance(moderator, pending_request, public_category):
    from forum import services as forum_services

    with pytest.raises(PermissionDenied, match="waits for the anonymization team"):
        forum_services.topic_move(actor=moderator, topic_id=pending_request.topic_id, category=public_category)
    pending_request.topic.refresh_from_db()
    assert not pending_request.topic.category.is_public
    request_services.request_clear(actor=moderator, data_request_id=pending_request.pk)
    pending_request.refresh_from_db()
    assert pending_request.cleared_at is not None and pending_request.topic.category == public_category


def test_a_decision_is_about_the_version_the_reviewer_saw(held, requester, anonymizer, pending_request,
                                                          django_capture_on_commit_callbacks):
    upload = held(pending_request, "weekly.csv", files.clean_aggregated_csv())
    seen = upload.current_version_id
    with django_capture_on_commit_callbacks(execute=True):
        services.upload_add_version(actor=requester, upload_id=upload.pk,
                                    file=files.uploaded("other.csv", files.identifying_columns_csv()))
    with pytest.raises(PermissionDenied, match="A new version arrived"):
        services.upload_decide(actor=anonymizer, upload_id=upload.pk, decision="approve", version_id=seen)
    upload.refresh_from_db()
    assert upload.state == Upload.State.REVIEW and upload.published_version is None


def test_published_palette_image_keeps_its_colours(held, decide, anonymizer, public_request):
    from PIL import Image

    palette = Image.new("P", (4, 4))
    palette.putpalette([255, 0, 0] + [0, 0, 0] * 255)
    out = io.BytesIO()
    palette.save(out, format="PNG")
    upload = decide(anonymizer, held(public_request, "red.png", out.getvalue()), "approve")
    with Image.open(io.BytesIO(_published_bytes(upload))) as image:
        assert image.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


def test_published_office_file_loses_comment_authors_and_custom_properties(held, decide, anonymizer, public_request):
    source = io.BytesIO(files.clean_xlsx())
    out = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(out, "w") as copy:
        for member in original.infolist():
            copy.writestr(member, original.read(member))
        copy.writestr("xl/comments1.xml", '<comments><authors><author>Jane Testpatient</author></authors></comments>')
        copy.writestr("docProps/custom.xml", (
            '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/custom-properties" '
            'xmlns:vt="http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes">'
            '<property fmtid="{D5CDD505-2E9C-101B-9397-08002B2CF9AE}" pid="2" name="Ward">'
            '<vt:lpwstr>Jane Testpatient</vt:lpwstr></property></Properties>'))
    upload = held(public_request, "counts.xlsx", out.getvalue())
    details = {finding["detail"] for finding in upload.current_version.findings}
    assert {"comments and their authors", "custom properties"} <= details
    published = zipfile.ZipFile(io.BytesIO(_published_bytes(decide(anonymizer, upload, "approve"))))
    for name in published.namelist():
        assert b"Testpatient" not in published.read(name), name


def test_a_csv_without_header_row_keeps_values_out_of_the_report(held, public_request):
    content = b"jane.testpatient@example.org,+44 20 7946 0000\njohn.fakeperson@example.org,+1 555 010 0000\n"
    upload = held(public_request, "noheader.csv", content)
    report = str(upload.current_version.report)
    assert "testpatient" not in report and "7946" not in report
    assert upload.current_version.finding_count > 0


def test_a_line_longer_than_the_bound_ends_the_scan_as_unreadable(held, public_request):
    upload = held(public_request, "long.csv", b"a,b\n" + b"x" * (2 * 1024 * 1024) + b"\n")
    assert "unreadable" in {finding["code"] for finding in upload.current_version.findings}


def test_stalled_publications_are_found(held, anonymizer, public_request):
    upload = held(public_request, "weekly.csv", files.clean_aggregated_csv())
    services.upload_decide(actor=anonymizer, upload_id=upload.pk, decision="approve")  # publish task not run
    assert services.publications_stalled(older_than_seconds=900) == []
    with time_machine.travel(timezone.now() + datetime.timedelta(minutes=20)):
        assert services.publications_stalled(older_than_seconds=900) == [upload.pk]
