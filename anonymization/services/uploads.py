"""Receiving files into quarantine, scanning them, publishing approved copies, retention."""
import datetime
import hashlib
import logging
import traceback

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from forum.models import User
from forum.pagecache import invalidate_on_commit

from .. import filetypes, hooks
from ..models import AuditRecord, Upload, UploadVersion
from ..notifications import ReviewKind
from ..permissions import check_can_add_version
from ..scanning import scan_file
from ..storage import published_storage, quarantine_storage, random_name
from .audit import audit
from .notices import notify, team_members

logger = logging.getLogger(__name__)
Action = AuditRecord.Action
MAX_SCAN_ATTEMPTS = 3


def _check_quota(actor: User, size: int) -> None:
    """Per-person limits over the last day; the caller holds the person's row lock."""
    since = timezone.now() - datetime.timedelta(days=1)
    recent = UploadVersion.objects.filter(uploaded_by=actor, created_at__gte=since).aggregate(
        count=Count("pk"), size=Sum("size")
    )
    if recent["count"] >= settings.ANONYMIZATION_MAX_FILES_PER_DAY:
        raise ValidationError(
            _("You have uploaded %(count)d files in the last 24 hours, the most we accept; please try again "
              "tomorrow or ask a moderator.") % {"count": recent["count"]}, code="quota_files")
    if (recent["size"] or 0) + size > settings.ANONYMIZATION_MAX_BYTES_PER_DAY:
        raise ValidationError(
            _("This file would take you over %(limit)d MB uploaded in 24 hours; please try again tomorrow.")
            % {"limit": settings.ANONYMIZATION_MAX_BYTES_PER_DAY // 2**20}, code="quota_bytes")


def upload_vet(*, actor: User, file, ip: str | None = None) -> filetypes.Inspection:
    """Check a file before anything is stored; a refusal is audited and raised with its reason.

    Not atomic on purpose: the refusal's audit row commits on its own, even though
    the refused act does not. Call it outside the transaction that will store the file.
    """
    name = filetypes.sanitize_filename(getattr(file, "name", ""))
    try:
        inspection = filetypes.inspect_upload(file, name=name)
        _check_quota(actor, file.size)
        return inspection
    except ValidationError as error:
        with transaction.atomic():
            audit(Action.REFUSED, actor=actor, detail=f"{name}: {' '.join(error.messages)}", ip=ip)
        raise


def _store(file) -> tuple[str, str]:
    """Save `file` under a random name in quarantine; returns (storage name, sha256)."""
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    name = filetypes.sanitize_filename(getattr(file, "name", ""))
    stored = quarantine_storage().save(random_name(filetypes.extension_of(name)), file)
    return stored, digest.hexdigest()


def _new_version(upload: Upload, *, actor: User, file, inspection, number: int) -> UploadVersion:
    storage_name, sha256 = _store(file)
    try:
        version = UploadVersion.objects.create(
            upload=upload, number=number, storage_name=storage_name,
            original_name=filetypes.sanitize_filename(getattr(file, "name", "")),
            kind=inspection.kind, content_type=inspection.content_type, size=file.size, sha256=sha256,
            uploaded_by=actor,
        )
    except Exception:
        quarantine_storage().delete(storage_name)
        raise
    from ..tasks import queue_scan

    queue_scan(version_id=version.pk)
    return version


def upload_create(*, actor: User, topic, post=None, file, declared_identifying: bool,
                  ip: str | None = None) -> Upload:
    """Take a file into quarantine for `topic` (and `post`) and queue its scan.

    The caller decides who may attach files to what. Vets the file first (see
    `upload_vet`), then stores it atomically under the uploader's row lock, which
    keeps the per-person limits exact under concurrent uploads.
    """
    inspection = upload_vet(actor=actor, file=file, ip=ip)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.pk).first()
        _check_quota(actor, file.size)
        upload = Upload.objects.create(
            topic=topic, post=post, uploader=actor, declared_identifying=declared_identifying,
        )
        version = _new_version(upload, actor=actor, file=file, inspection=inspection, number=1)
        upload.current_version = version
        upload.save(update_fields=["current_version"])
        audit(Action.UPLOADED, actor=actor, upload=upload, version=version,
              detail=f"{version.original_name} ({inspection.kind}, {version.size} bytes)", ip=ip)
    return upload


def upload_add_version(*, actor: User, upload_id: int, file, ip: str | None = None) -> UploadVersion:
    """The uploader sends a new version for review; earlier versions are kept, superseded.

    Locks the upload. The new version is scanned and reviewed like the first.
    """
    inspection = upload_vet(actor=actor, file=file, ip=ip)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=actor.pk).first()
        upload = Upload.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=upload_id)
        check_can_add_version(actor, upload)
        _check_quota(actor, file.size)
        previous = upload.current_version
        version = _new_version(upload, actor=actor, file=file, inspection=inspection, number=previous.number + 1)
        UploadVersion.objects.filter(pk=previous.pk).update(superseded_at=timezone.now())
        upload.current_version = version
        upload.state = Upload.State.SCANNING
        upload.save(update_fields=["current_version", "state"])
        audit(Action.NEW_VERSION, actor=actor, upload=upload, version=version,
              detail=f"v{version.number}: {version.original_name} ({inspection.kind}, {version.size} bytes)", ip=ip)
    return version


def version_scan_start(*, version_id: int) -> UploadVersion | None:
    """Mark a scan attempt (committed before the slow part, so attempts survive a crash).

    Returns None when there is nothing to scan (done already, or the file is gone).
    """
    with transaction.atomic():
        version = UploadVersion.objects.select_for_update().filter(pk=version_id).first()
        if version is None or version.scan_state != UploadVersion.Scan.PENDING or version.file_deleted_at:
            return None
        version.scan_attempts += 1
        version.scan_started_at = timezone.now()
        version.save(update_fields=["scan_attempts", "scan_started_at"])
    return version


def version_scan(*, version_id: int) -> bool:
    """Scan one version and route its upload; safe to run twice (a second run finds it done).

    The slow part runs outside any transaction; the result is saved under the
    version's and upload's locks, and only if no other run saved one first.
    """
    version = version_scan_start(version_id=version_id)
    if version is None:
        return False
    if version.scan_attempts > MAX_SCAN_ATTEMPTS:
        # It crashed every worker that tried: a person looks at it instead.
        return version_scan_failed(version_id=version_id, reason=f"the scan stopped {MAX_SCAN_ATTEMPTS} times")
    with quarantine_storage().open(version.storage_name, "rb") as file:
        try:
            report = scan_file(file, kind=version.kind, name=version.original_name)
        except (SoftTimeLimitExceeded, OSError, DatabaseError):
            raise  # the task's business: "took too long", or worth another attempt
        except Exception as error:
            # Fail closed at once: a scanner that crashed on this file will crash again. The log keeps
            # the frames but not the message, which may quote the file's content.
            logger.error("The scan of upload version %s stopped with %s; it goes to a person as "
                         "\"scan failed\".\n%s", version_id, type(error).__name__, _frames(error))
            return version_scan_failed(version_id=version_id,
                                       reason=f"the scanner stopped with an error ({type(error).__name__})")
    return _scan_finish(version_id=version_id, report=report)


def _frames(error: BaseException) -> str:
    """Where `error` happened (files, lines, functions, source lines), without its message or locals."""
    return "Traceback (most recent call last):\n" + "".join(
        traceback.format_list(traceback.extract_tb(error.__traceback__))
    ) + type(error).__name__


def version_scan_failed(*, version_id: int, reason: str) -> bool:
    """After the last attempt, a time-out or a scanner crash: the upload goes to a person with the
    scan marked failed (`reason` names the cause, never the file's content).

    A failed scan is never "completed": the file cannot be approved, only sent back or rejected.
    """
    report = {"findings": [{"code": "unreadable", "subject": "", "detail": reason[:200], "count": 1, "cells": []}],
              "failed": True}
    return _scan_finish(version_id=version_id, report=report, failed=True)


@transaction.atomic
def _scan_finish(*, version_id: int, report: dict, failed: bool = False) -> bool:
    version = UploadVersion.objects.select_for_update().get(pk=version_id)
    if version.scan_state != UploadVersion.Scan.PENDING:
        return False
    upload = Upload.objects.select_for_update().get(pk=version.upload_id)
    version.report = report
    version.finding_count = sum(finding.get("count", 1) for finding in report.get("findings", []))
    version.scan_state = UploadVersion.Scan.FAILED if failed else UploadVersion.Scan.DONE
    version.scanned_at = timezone.now()
    version.save(update_fields=["report", "finding_count", "scan_state", "scanned_at"])
    audit(Action.SCAN_FAILED if failed else Action.SCANNED, upload=upload, version=version,
          detail=_("%(count)d findings") % {"count": version.finding_count})
    if upload.current_version_id != version.pk or upload.state != Upload.State.SCANNING:
        return True  # a superseded version keeps its report for the record
    clean = version.finding_count == 0 and not failed
    if clean and not upload.declared_identifying and settings.ANONYMIZATION_AUTO_PUBLISH_CLEAN:
        _approve(upload, actor=None, reason=_("No findings; published automatically as the site allows."))
    else:
        upload.state = Upload.State.REVIEW
        upload.save(update_fields=["state"])
        for member in team_members():
            if member.pk != upload.uploader_id:
                notify(member, ReviewKind.WAITING, upload, f"waiting:{version.pk}:{member.pk}")
    return True


def _approve(upload: Upload, *, actor: User | None, reason: str = "", ip: str | None = None) -> None:
    """Approve the current version (scan completed) and queue its publication; the caller holds the lock."""
    from ..tasks import publish_upload

    version = upload.current_version
    if version.scan_state != UploadVersion.Scan.DONE:
        raise PermissionDenied(_("This file's scan has not completed; it cannot be approved."))
    now = timezone.now()
    upload.state = Upload.State.APPROVED
    upload.decided_at, upload.decided_by, upload.decision_reason = now, actor, reason
    upload.published_version = version
    upload.save(update_fields=["state", "decided_at", "decided_by", "decision_reason", "published_version"])
    audit(Action.APPROVED, actor=actor, upload=upload, version=version, detail=reason, ip=ip)
    hooks.upload_approved(actor=actor, upload=upload)
    publish_upload.delay_on_commit(upload_id=upload.pk)


def _public_name(upload: Upload, version: UploadVersion) -> str:
    # Stable per version, so a retried publication overwrites its own half-written copy; never the uploader's
    # name (readers download it as `version.public_name`).
    from ..publishing import public_storage_name

    return public_storage_name(upload_id=upload.pk, version_number=version.number,
                               original_name=version.original_name)


def upload_publish(*, upload_id: int) -> bool:
    """Copy an approved version to public storage, metadata stripped; safe to run twice.

    The copy is made outside any transaction; the upload becomes published under its
    lock, only if it is still approved for that very version.
    """
    upload = Upload.objects.select_related("published_version").get(pk=upload_id)
    version = upload.published_version
    if upload.state != Upload.State.APPROVED or version is None:
        return False
    from ..publishing import public_copy

    name = _public_name(upload, version)
    storage = published_storage()
    with quarantine_storage().open(version.storage_name, "rb") as source:
        copy = public_copy(source, kind=version.kind)
    with copy:
        if storage.exists(name):
            storage.delete(name)
        saved = storage.save(name, copy)
        size = storage.size(saved)
    with transaction.atomic():
        upload = Upload.objects.select_for_update().get(pk=upload_id)
        if upload.state != Upload.State.APPROVED or upload.published_version_id != version.pk:
            return False
        upload.state = Upload.State.PUBLISHED
        upload.published_name, upload.published_size, upload.published_at = saved, size, timezone.now()
        upload.save(update_fields=["state", "published_name", "published_size", "published_at"])
        audit(Action.PUBLISHED, upload=upload, version=version, detail=f"{size} bytes")
        invalidate_on_commit()
    return True


def _without_values(report):
    if not isinstance(report, dict):
        return report
    return {**report, "findings": [{**finding, "values": []} for finding in report.get("findings", [])]}


def files_expire(*, now=None) -> int:
    """Delete quarantined files of rejected uploads and superseded versions after the retention
    period; each row and its audit record stay. Returns how many files were deleted."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.ANONYMIZATION_RETENTION_DAYS)
    due = UploadVersion.objects.filter(file_deleted_at__isnull=True).filter(
        superseded_at__lte=cutoff
    ) | UploadVersion.objects.filter(
        file_deleted_at__isnull=True, upload__state=Upload.State.REJECTED, upload__decided_at__lte=cutoff
    )
    deleted = 0
    for version_id in due.values_list("pk", flat=True)[:1000]:
        with transaction.atomic():
            version = UploadVersion.objects.select_for_update().select_related("upload").get(pk=version_id)
            if version.file_deleted_at is not None:
                continue
            quarantine_storage().delete(version.storage_name)
            version.file_deleted_at = now
            # The values the scan found leave with the file; where and what kind stay for the record.
            version.report = _without_values(version.report)
            version.save(update_fields=["file_deleted_at", "report"])
            audit(Action.FILE_DELETED, upload=version.upload, version=version,
                  detail=_("after %(days)d days") % {"days": settings.ANONYMIZATION_RETENTION_DAYS})
            deleted += 1
    return deleted


def publications_stalled(*, older_than_seconds: int = 900) -> list[int]:
    """Approved uploads still without their public copy long after the decision."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        Upload.objects.filter(state=Upload.State.APPROVED, decided_at__lte=cutoff)
        .order_by("decided_at").values_list("pk", flat=True)[:500]
    )


def scans_stalled(*, older_than_seconds: int = 900) -> list[int]:
    """Versions whose scan started (or was queued) long ago and never finished: a lost task."""
    cutoff = timezone.now() - datetime.timedelta(seconds=older_than_seconds)
    return list(
        UploadVersion.objects.filter(scan_state=UploadVersion.Scan.PENDING, created_at__lte=cutoff,
                                     file_deleted_at__isnull=True)
        .exclude(scan_started_at__gt=cutoff).order_by("created_at").values_list("pk", flat=True)[:500]
    )
