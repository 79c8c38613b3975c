"""Celery tasks of the anonymization app: thin, idempotent, retried; and `queue_scan`, the one
place that decides where a scan runs (never inside the web request)."""
import functools
import logging
import os
import threading
from concurrent.futures import ThreadPoolExecutor

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import DatabaseError, close_old_connections, connections, transaction

from . import services

logger = logging.getLogger(__name__)


@shared_task(bind=True, max_retries=3, acks_late=True, reject_on_worker_lost=True)
def scan_upload(self, *, version_id: int) -> bool:
    """Scan one quarantined file (routed to the "scans" queue; time-limited in settings). Queue it
    with `queue_scan`, which decides where it runs.

    A scanner exception marks the scan failed at once (in `version_scan`); a storage or database
    error is retried; a worker that dies mid-scan leaves the message unacknowledged, so it runs
    again; a file that keeps crashing or exceeds the time limit goes to a person as "scan failed".
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
        queue_scan(version_id=version_id)
    return len(version_ids)


@shared_task
def delete_expired_files() -> int:
    """Retention: quarantined files of rejected and superseded versions (beat, daily)."""
    return services.files_expire()


# --- Where a scan runs -------------------------------------------------------------------
#
# With a broker (REDIS_URL), the workers of the "scans" queue run scans, and beat re-queues the
# ones a dead worker left (rescan_stalled). Without one (the embedded default), Celery runs tasks
# in-process, which would scan a 50 MB file inside the upload's request until gunicorn killed
# the worker; there scans go to one background thread of the web process instead, which also
# does beat's part for scans: on start and every STALLED_SWEEP_SECONDS it re-queues the scans
# a dead process left "being scanned".

STALLED_SWEEP_SECONDS = 600
_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None
_sweep_timer: threading.Timer | None = None


def queue_scan(*, version_id: int) -> None:
    """Scan `version_id` once the current transaction commits, never inside the caller's request.

    On the embedded default (tasks run in-process) the scan goes to this process's background
    thread, unless ANONYMIZATION_SCAN_IN_BACKGROUND is off (the test settings: scans then run
    eagerly, so tests stay deterministic).
    """
    if scan_upload.app.conf.task_always_eager and settings.ANONYMIZATION_SCAN_IN_BACKGROUND:
        transaction.on_commit(functools.partial(_submit, _scan_in_background, version_id))
    else:
        scan_upload.delay_on_commit(version_id=version_id)


def _background() -> ThreadPoolExecutor:
    """This process's scan thread, started on first use (after a fork, too: threads do not survive one)."""
    global _executor, _executor_pid
    with _lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor, _executor_pid = ThreadPoolExecutor(max_workers=1, thread_name_prefix="scans"), os.getpid()
            _executor.submit(_in_thread, _sweep_stalled)
        return _executor


def _submit(function, *args) -> None:
    _background().submit(_in_thread, function, *args)


def _in_thread(function, *args) -> None:
    """Run one background job with database connections of its own, closed when it ends."""
    close_old_connections()
    try:
        function(*args)
    except Exception as error:  # the scan's own failures are handled in it; this keeps the thread alive
        logger.error("A background scan job stopped with %s.", type(error).__name__)
    finally:
        connections.close_all()


def _scan_in_background(version_id: int) -> None:
    # The task's own code, retries and "scan failed" handling included; run as Celery runs it eagerly.
    result = scan_upload.apply(kwargs={"version_id": version_id}, throw=False)
    if result.failed():
        logger.error("The background scan of upload version %s stopped with %s; the sweep for stalled "
                     "scans queues it again.", version_id, type(result.result).__name__)


def _sweep_stalled() -> None:
    """Beat's rescan_stalled, for a process without beat; schedules its next run."""
    global _sweep_timer
    try:
        rescan_stalled()
    finally:
        with _lock:
            if _executor is not None and _executor_pid == os.getpid():
                _sweep_timer = threading.Timer(STALLED_SWEEP_SECONDS, _submit, args=(_sweep_stalled,))
                _sweep_timer.daemon = True
                _sweep_timer.start()


def background_scans_wait() -> None:
    """Wait for the background scans queued so far, then stop the thread (a later scan starts it
    again). For tests and orderly shutdowns."""
    global _executor, _sweep_timer
    while True:  # a job of the stopped thread may have queued more work, which started a new one
        with _lock:
            executor, _executor = _executor, None
            if _sweep_timer is not None:
                _sweep_timer.cancel()
                _sweep_timer = None
        if executor is None:
            return
        executor.shutdown(wait=True)
