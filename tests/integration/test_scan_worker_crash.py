"""A scan whose worker dies mid-file runs again and completes exactly once; the file still waits for a person.

The scans worker is production's: its own queue, the prefork pool, one child, late
acknowledgement. A SIGKILLed child makes Celery requeue the message at once; a
SIGKILLed worker leaves it unacknowledged in Redis, and beat's `rescan_stalled`
queues the scan again long before Redis would hand the old message out (and when
it does, that second run must find the scan done).
"""
import base64
import csv
import datetime
import io
import json
import os
import signal
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from anonymization.models import AuditRecord, Upload, UploadVersion
from anonymization.tasks import rescan_stalled
from config.celery import app
from requests_board import services as request_services
from tests.anonymization.files import uploaded
from tests.requests_board.factories import make_request

pytestmark = [pytest.mark.integration, pytest.mark.django_db(transaction=True)]

# Six columns: 1.8 million cells (under ANONYMIZATION_SCAN_MAX_CELLS), some 14 MB
# (under ANONYMIZATION_MAX_FILE_BYTES); a full scan takes several seconds.
ROWS = 300_000
SCAN_TASK = "anonymization.tasks.scan_upload"


def _slow_csv(rows: int = ROWS) -> bytes:
    """Bland synthetic measurements, plus a column of obviously fake email addresses."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["row", "batch", "reading_a", "reading_b", "ratio", "contact"])
    for i in range(rows):
        writer.writerow([i, i % 97, (i * 7) % 1000, (i * 13) % 500, f"{(i % 1000) / 10:.1f}", f"person{i}@example.org"])
    return out.getvalue().encode()


@pytest.fixture(scope="module")
def slow_csv() -> bytes:
    content = _slow_csv()
    assert len(content) < settings.ANONYMIZATION_MAX_FILE_BYTES
    assert ROWS * 6 < settings.ANONYMIZATION_SCAN_MAX_CELLS
    return content


@pytest.fixture
def data_request(requester, public_category, private_category):
    return make_request(requester, public_category)


def _attach(requester, data_request, content: bytes) -> Upload:
    """As the requester attaches a file; its scan goes to the broker when the upload commits."""
    return request_services.request_attach(
        actor=requester, data_request_id=data_request.pk, file=uploaded("measurements.csv", content),
        ip="192.0.2.1",
    )


def _wait(condition, *, timeout: float, what: str, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")


def _version(upload: Upload) -> UploadVersion:
    return UploadVersion.objects.get(pk=upload.current_version_id)


def _processes() -> list[tuple[int, int, int]]:
    """(pid, parent pid, process group) of every live process, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue  # it ended meanwhile
        # "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
        state, ppid, pgrp = stat.rpartition(")")[2].split()[:3]
        if state != "Z":
            found.append((int(entry.name), int(ppid), int(pgrp)))
    return found


def _children(pid: int) -> list[int]:
    return [child for child, parent, _group in _processes() if parent == pid]


def _group(pgid: int) -> list[int]:
    return [member for member, _parent, group in _processes() if group == pgid]


def _scan_messages(version_id: int) -> dict:
    """The broker's scan messages for `version_id`: {"queued": [task ids], "unacked": [(delivery tag, task id)]}."""
    found = {"queued": [], "unacked": []}

    def for_version(message: dict) -> bool:
        if message.get("headers", {}).get("task") != SCAN_TASK:
            return False
        _args, kwargs, _embed = json.loads(base64.b64decode(message["body"]))
        return kwargs.get("version_id") == version_id

    with app.connection_for_write() as connection:
        channel = connection.default_channel
        for raw in channel.client.lrange("scans", 0, -1):
            message = json.loads(raw)
            if for_version(message):
                found["queued"].append(message["headers"]["id"])
        for tag, raw in channel.client.hgetall(channel.unacked_key).items():
            message = json.loads(raw)[0]
            if for_version(message):
                found["unacked"].append((tag.decode(), message["headers"]["id"]))
    return found


def _redeliver(tag: str) -> None:
    """What Redis does with an unacknowledged message once its visibility timeout has passed."""
    with app.connection_for_write() as connection:
        connection.default_channel.qos.restore_by_tag(tag)


def _assert_scanned_once_and_waiting_for_review(upload: Upload, *, attempts: int) -> None:
    version = _version(upload)
    assert version.scan_state == UploadVersion.Scan.DONE
    assert version.scan_attempts == attempts
    assert version.scanned_at is not None
    # The whole file was read, in the run that completed: every address, no partial scan.
    assert version.findings == [{
        "code": "identifier_value", "subject": "email", "detail": "contact", "count": ROWS,
        "cells": [f"F{row}" for row in range(2, 22)],
        "values": [f"person{row}@example.org" for row in range(5)], "confidence": "high",
    }]
    assert version.finding_count == ROWS
    upload.refresh_from_db()
    # Findings or not, nothing is published without a person's approval.
    assert upload.state == Upload.State.REVIEW
    assert upload.published_version_id is None and upload.published_at is None and upload.published_name == ""
    assert not [path for path in Path(settings.STORAGES["published"]["OPTIONS"]["location"]).rglob("*")]
    actions = list(AuditRecord.objects.filter(version=version).values_list("action", flat=True))
    assert actions == [AuditRecord.Action.UPLOADED, AuditRecord.Action.SCANNED]


def test_a_scan_whose_child_process_is_killed_runs_again_and_completes_once(
    scans_worker, requester, data_request, slow_csv,
):
    worker = scans_worker.start()
    upload = _attach(requester, data_request, slow_csv)

    # The scan has begun: its attempt is recorded (committed) before the slow part.
    _wait(lambda: _version(upload).scan_started_at, timeout=60, what="the scan to start")
    children = _children(worker.pid)
    assert len(children) == 1, f"expected one pool child of {worker.pid}, found {children}"
    os.kill(children[0], signal.SIGKILL)

    version = _version(upload)
    assert (version.scan_state, version.scan_attempts) == (UploadVersion.Scan.PENDING, 1), "killed too late"
    assert worker.poll() is None, "the worker itself must survive the loss of its child"

    # Celery requeues the lost task (acks_late, reject_on_worker_lost); a new child scans it again.
    _wait(lambda: _version(upload).scan_state != UploadVersion.Scan.PENDING, timeout=120,
          what="the scan to complete after the retry", interval=0.2)
    _assert_scanned_once_and_waiting_for_review(upload, attempts=2)
    # The message is acknowledged once the task returns: nothing is left to run it a third time.
    _wait(lambda: _scan_messages(_version(upload).pk) == {"queued": [], "unacked": []}, timeout=10,
          what="the scan message to be acknowledged", interval=0.2)
    assert "WorkerLostError" in worker.log_path.read_text()


def test_a_scan_whose_whole_worker_is_killed_is_queued_again_by_beat_and_completes_once(
    scans_worker, requester, data_request, slow_csv,
):
    first = scans_worker.start()
    upload = _attach(requester, data_request, slow_csv)
    started_at = _wait(lambda: _version(upload).scan_started_at, timeout=60, what="the scan to start")

    # The machine goes: the worker and its pool child die together, mid-scan.
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=20)
    _wait(lambda: not _group(first.pid), timeout=20, what="the pool child to end")
    version = _version(upload)
    assert (version.scan_state, version.scan_attempts) == (UploadVersion.Scan.PENDING, 1), "killed too late"
    # Acknowledged late: the message is still in Redis, invisible until its visibility timeout (hours).
    orphaned = _scan_messages(version.pk)
    assert orphaned["queued"] == [] and len(orphaned["unacked"]) == 1

    second = scans_worker.start()
    # Beat runs this every 10 minutes for scans 15 minutes old; here the scan is a second old.
    _wait(lambda: timezone.now() - started_at > datetime.timedelta(seconds=1.5), timeout=5,
          what="the scan to be a second old")
    assert rescan_stalled(older_than_seconds=1) == 1
    _wait(lambda: _version(upload).scan_state != UploadVersion.Scan.PENDING, timeout=120,
          what="the scan queued again to complete", interval=0.2)
    _assert_scanned_once_and_waiting_for_review(upload, attempts=2)
    assert rescan_stalled(older_than_seconds=1) == 0

    # Hours later Redis hands the orphaned message out again: that run finds the scan done.
    tag, task_id = orphaned["unacked"][0]
    _redeliver(tag)
    _wait(lambda: f"{SCAN_TASK}[{task_id}] succeeded" in second.log_path.read_text(), timeout=60,
          what="the redelivered message to run", interval=0.2)
    _wait(lambda: _scan_messages(version.pk) == {"queued": [], "unacked": []}, timeout=10,
          what="the redelivered message to be acknowledged", interval=0.2)
    _assert_scanned_once_and_waiting_for_review(upload, attempts=2)
