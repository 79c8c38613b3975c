"""Celery tasks of the anonymization app: thin, idempotent, retried."""

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import DatabaseError

from . import services


@shared_task(bind=True, max_retries=3, acks_late=True, reject_on_worker_lost=True)
def scan_upload(self, *, version_id: int) -> bool:
    """Scan one quarantined file (routed to the "scans" queue; time-limited in settings).

    A worker that dies mid-scan leaves the message unacknowledged, so it runs again;
    a file that keeps crashing or exceeds the time limit goes to a person as "scan failed".
    """
    try:
        return services.version_scan(version_id=version_id)
    except SoftTimeLimitExceeded:
        return services.version_scan_failed(version_id=version_id, reason="the scan took too long")
    except (OSError, DatabaseError) as error:
        # Each run counts an attempt; past the limit version_scan itself marks the scan failed.
        raise self.retry(exc=error, countdown=30 * (self.request.retries + 1)) from error


@shared_task(bind=True, max_retries=5, acks_late=True)
def publish_upload(self, *, upload_id: int) -> bool:
    """Make the public copy of an approved file; retried, safe to run twice. Until it succeeds
    the file stays "approved, being published" and nothing of it is public."""
    try:
        return services.upload_publish(upload_id=upload_id)
    except Exception as error:
        raise self.retry(exc=error, countdown=60 * (self.request.retries + 1)) from error


@shared_task
def republish_stalled(*, older_than_seconds: int = 900) -> int:
    """Queue again the publications a lost task or a dead worker left undone (beat, every 10 minutes)."""
    upload_ids = services.publications_stalled(older_than_seconds=older_than_seconds)
    for upload_id in upload_ids:
        publish_upload.delay(upload_id=upload_id)
    return len(upload_ids)


@shared_task
def rescan_stalled(*, older_than_seconds: int = 900) -> int:
    """Queue again the scans a lost task or a dead worker left unfinished (beat, every 10 minutes)."""
    version_ids = services.scans_stalled(older_than_seconds=older_than_seconds)
    for version_id in version_ids:
        scan_upload.delay(version_id=version_id)
    return len(version_ids)


@shared_task
def delete_expired_files() -> int:
    """Retention: quarantined files of rejected and superseded versions (beat, daily)."""
    return services.files_expire()
