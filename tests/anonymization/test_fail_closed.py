"""Fail closed, and never inside the web request (issue 19, item 5).

A scanner that crashes marks the scan failed within the same task run (the file waits for a
person and cannot be approved); the log names the exception and its frames, never its message,
which may quote the file. On the embedded default (Celery eager, no broker) a scan runs on the
web process's background thread: the upload's request returns first, and that thread also picks
up scans a dead process left "being scanned".
"""
import datetime
import logging
import threading

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from anonymization import services, tasks
from anonymization.models import AuditRecord, Upload, UploadVersion
from tests.helpers import sign_in

from . import files

SECRET = "Jane Testpatient, born 1970-01-01, jane.testpatient@example.org"


def _crashing_scanner(error):
    def scan_file(file, *, kind, name):
        file.read(64)  # it was reading the file when it failed
        raise error
    return scan_file


@pytest.fixture
def scanned(attach, django_capture_on_commit_callbacks):
    """Attach a file and run its scan task after commit, as the test settings do (eagerly)."""
    def _scanned(data_request, name="weekly.csv", content=None):
        with django_capture_on_commit_callbacks(execute=True):
            upload = attach(data_request, name, content or files.clean_aggregated_csv())
        upload.refresh_from_db()
        return upload
    return _scanned


@pytest.mark.django_db
def test_a_scanner_exception_ends_the_scan_as_failed_within_the_task_run(scanned, public_request, monkeypatch,
                                                                          caplog):
    monkeypatch.setattr("anonymization.services.uploads.scan_file", _crashing_scanner(ValueError(SECRET)))
    with caplog.at_level(logging.ERROR, logger="anonymization"):
        upload = scanned(public_request)
    version = upload.current_version
    assert version.scan_state == UploadVersion.Scan.FAILED and version.scan_attempts == 1
    assert upload.state == Upload.State.REVIEW
    assert version.report["failed"] is True
    assert "ValueError" in version.report["findings"][0]["detail"]
    assert "Testpatient" not in str(version.report)
    assert AuditRecord.objects.filter(version=version, action=AuditRecord.Action.SCAN_FAILED).exists()
    [record] = [r for r in caplog.records if r.levelno == logging.ERROR]
    logged = record.getMessage() + (record.exc_text or "")
    assert "ValueError" in logged and "_crashing_scanner" not in logged and "in scan_file" in logged
    assert "Testpatient" not in logged and "1970-01-01" not in logged and record.exc_info is None


@pytest.mark.django_db
def test_the_task_itself_returns_with_the_scan_failed(attach, public_request, monkeypatch):
    upload = attach(public_request, "weekly.csv", files.clean_aggregated_csv())  # its scan not run yet
    monkeypatch.setattr("anonymization.services.uploads.scan_file", _crashing_scanner(KeyError(SECRET)))
    result = tasks.scan_upload.apply(kwargs={"version_id": upload.current_version_id})
    assert result.successful() and result.result is True
    version = UploadVersion.objects.get(pk=upload.current_version_id)
    assert version.scan_state == UploadVersion.Scan.FAILED and version.scan_attempts == 1


@pytest.mark.django_db
def test_a_storage_error_is_left_for_a_retry_not_failed(attach, public_request, monkeypatch):
    upload = attach(public_request, "weekly.csv", files.clean_aggregated_csv())
    monkeypatch.setattr("anonymization.services.uploads.scan_file", _crashing_scanner(OSError("disk went away")))
    with pytest.raises(OSError):
        services.version_scan(version_id=upload.current_version_id)
    version = UploadVersion.objects.get(pk=upload.current_version_id)
    assert version.scan_state == UploadVersion.Scan.PENDING and version.scan_attempts == 1


@pytest.mark.django_db
def test_a_scan_over_its_time_limit_still_ends_as_too_long(attach, public_request, monkeypatch):
    upload = attach(public_request, "weekly.csv", files.clean_aggregated_csv())
    monkeypatch.setattr("anonymization.services.uploads.scan_file", _crashing_scanner(SoftTimeLimitExceeded()))
    tasks.scan_upload.apply(kwargs={"version_id": upload.current_version_id})
    version = UploadVersion.objects.get(pk=upload.current_version_id)
    assert version.scan_state == UploadVersion.Scan.FAILED
    assert version.report["findings"][0]["detail"] == "the scan took too long"


@pytest.mark.django_db
def test_a_crashed_scan_needs_a_persons_decision_and_cannot_be_approved(scanned, anonymizer, public_request,
                                                                        monkeypatch):
    monkeypatch.setattr("anonymization.services.uploads.scan_file", _crashing_scanner(RuntimeError(SECRET)))
    upload = scanned(public_request)
    with pytest.raises(PermissionDenied, match="scan has not completed"):
        services.upload_decide(actor=anonymizer, upload_id=upload.pk, decision="approve")
    upload.refresh_from_db()
    assert upload.state == Upload.State.REVIEW and upload.published_version is None
    services.upload_decide(actor=anonymizer, upload_id=upload.pk, decision="changes",
                           reason="The scanner could not read it; please send it again as CSV.")
    upload.refresh_from_db()
    assert upload.state == Upload.State.CHANGES


@pytest.mark.django_db
def test_even_auto_publishing_never_publishes_a_crashed_scan(scanned, public_request, monkeypatch, settings):
    settings.ANONYMIZATION_AUTO_PUBLISH_CLEAN = True
    monkeypatch.setattr("anonymization.services.uploads.scan_file", _crashing_scanner(RuntimeError(SECRET)))
    upload = scanned(public_request)
    assert upload.state == Upload.State.REVIEW and upload.published_version is None


# --- The embedded default: scans on a background thread, never in the request ------------------

@pytest.fixture
def in_background(settings):
    settings.ANONYMIZATION_SCAN_IN_BACKGROUND = True
    assert tasks.scan_upload.app.conf.task_always_eager  # the embedded default's in-process Celery
    yield
    tasks.background_scans_wait()


@pytest.mark.django_db(transaction=True)
def test_the_upload_request_returns_before_its_scan_runs(in_background, client, requester, public_request,
                                                         monkeypatch):
    from anonymization.scanning import scan_file

    started, release = threading.Event(), threading.Event()
    scanning_threads = []

    def slow_scan_file(file, *, kind, name):
        scanning_threads.append(threading.current_thread())
        started.set()
        assert release.wait(timeout=30), "the test never released the scan"
        return scan_file(file, kind=kind, name=name)

    monkeypatch.setattr("anonymization.services.uploads.scan_file", slow_scan_file)
    sign_in(client, requester)
    response = client.post(reverse("requests_board:request-attach", args=[public_request.pk]),
                           {"file": files.uploaded("patients.csv", files.identifying_columns_csv())})

    # The response is back, and the scan has not finished: it waits on another thread.
    assert response.status_code == 302
    upload = Upload.objects.get(topic=public_request.topic)
    assert started.wait(timeout=10), "the scan never started in the background"
    assert scanning_threads[0] is not threading.current_thread()
    version = UploadVersion.objects.get(pk=upload.current_version_id)
    assert version.scan_state == UploadVersion.Scan.PENDING and upload.state == Upload.State.SCANNING

    release.set()
    tasks.background_scans_wait()
    version.refresh_from_db()
    upload.refresh_from_db()
    assert version.scan_state == UploadVersion.Scan.DONE and version.finding_count > 0
    assert upload.state == Upload.State.REVIEW


@pytest.mark.django_db(transaction=True)
def test_a_scan_crash_in_the_background_also_ends_as_failed(in_background, client, requester, public_request,
                                                            monkeypatch):
    monkeypatch.setattr("anonymization.services.uploads.scan_file", _crashing_scanner(ValueError(SECRET)))
    sign_in(client, requester)
    response = client.post(reverse("requests_board:request-attach", args=[public_request.pk]),
                           {"file": files.uploaded("weekly.csv", files.clean_aggregated_csv())})
    assert response.status_code == 302
    tasks.background_scans_wait()
    upload = Upload.objects.select_related("current_version").get(topic=public_request.topic)
    assert upload.current_version.scan_state == UploadVersion.Scan.FAILED and upload.state == Upload.State.REVIEW


@pytest.mark.django_db(transaction=True)
def test_the_background_thread_picks_up_a_scan_a_dead_process_left(attach, public_request, settings):
    upload = attach(public_request, "weekly.csv", files.clean_aggregated_csv())  # scanned at once (eager)
    # Make it look as if the process scanning it died 20 minutes ago, mid-scan.
    long_ago = timezone.now() - datetime.timedelta(minutes=20)
    UploadVersion.objects.filter(pk=upload.current_version_id).update(
        scan_state=UploadVersion.Scan.PENDING, report={}, finding_count=0, scanned_at=None,
        created_at=long_ago, scan_started_at=long_ago, scan_attempts=1)
    Upload.objects.filter(pk=upload.pk).update(state=Upload.State.SCANNING)

    settings.ANONYMIZATION_SCAN_IN_BACKGROUND = True
    try:
        tasks.queue_scan(version_id=0)  # the first scan a process queues starts its thread, which sweeps first
    finally:
        tasks.background_scans_wait()
    version = UploadVersion.objects.get(pk=upload.current_version_id)
    # Scanned again (a second sweep racing the first may count one more attempt; the scan is idempotent).
    assert version.scan_state == UploadVersion.Scan.DONE and version.scan_attempts >= 2
    assert Upload.objects.get(pk=upload.pk).state == Upload.State.REVIEW
