"""Reads the anonymization pages need, with their related rows loaded up front."""
from django.core import signing
from django.db.models import Q
from django.http import Http404
from django.utils import timezone

from . import hooks
from .models import AuditRecord, ReviewMessage, Upload, UploadVersion
from .permissions import can_download_published, can_see_upload, uploads_visible_to
from .scanning import describe
from .storage import published_storage

DOWNLOAD_SALT = "anonymization.download"
QUEUE_LIMIT = 200


def _with_subjects(uploads: list) -> list:
    subjects = hooks.upload_subjects(topic_ids={upload.topic_id for upload in uploads})
    now = timezone.now()
    for upload in uploads:
        upload.subject = subjects.get(upload.topic_id, {})
        upload.age = now - upload.created_at
    return uploads


def triage_queue() -> dict:
    """The team's queue: waiting items oldest first, items back with their uploader, recent decisions."""
    base = Upload.objects.select_related("topic", "uploader", "current_version", "decided_by")
    waiting = list(base.filter(state__in=[Upload.State.SCANNING, Upload.State.REVIEW])
                   .order_by("created_at", "pk")[:QUEUE_LIMIT])
    with_uploader = list(base.filter(state=Upload.State.CHANGES).order_by("decided_at", "pk")[:QUEUE_LIMIT])
    decided = list(base.filter(state__in=[Upload.State.APPROVED, Upload.State.PUBLISHED, Upload.State.REJECTED])
                   .order_by("-decided_at", "-pk")[:20])
    _with_subjects(waiting + with_uploader + decided)
    return {"waiting": waiting, "with_uploader": with_uploader, "decided": decided}


def upload_get(*, user, upload_id: int) -> Upload:
    """An upload `user` may see, or 404."""
    upload = (
        uploads_visible_to(user, Upload.objects.all())
        .select_related("topic", "topic__category", "post", "uploader", "current_version", "decided_by",
                        "published_version")
        .filter(pk=upload_id).first()
    )
    if upload is None:
        raise Http404
    _with_subjects([upload])
    return upload


def version_list(*, upload: Upload) -> list[UploadVersion]:
    """Every version, newest first, each with its findings described for the reader."""
    versions = list(upload.versions.select_related("uploaded_by").order_by("-number"))
    for version in versions:
        version.described = [(describe(finding), finding) for finding in version.findings]
    return versions


def message_list(*, upload: Upload) -> list[ReviewMessage]:
    return list(upload.messages.select_related("author").order_by("created_at", "pk"))


def audit_list(*, upload: Upload) -> list[AuditRecord]:
    return list(upload.audit.select_related("actor", "version").order_by("created_at", "pk"))


def uploads_for_topic(*, user, topic_id: int) -> dict:
    """A topic's files: the published ones for everybody who reads it, and, for the uploader
    and the team, those still in review (never their content, only that they exist)."""
    uploads = list(
        Upload.objects.filter(topic_id=topic_id).select_related("published_version", "current_version", "post")
        .order_by("created_at", "pk")
    )
    published = [
        upload for upload in uploads
        if upload.state == Upload.State.PUBLISHED and (
            upload.post_id is None or (upload.post.deleted_at is None and not upload.post.hidden))
    ]
    in_review = [
        upload for upload in uploads
        if upload.state != Upload.State.PUBLISHED and can_see_upload(user, upload)
    ]
    return {"published": published, "in_review": in_review}


def published_get(*, user, upload_id: int) -> Upload:
    """A published file `user` may download, or 404."""
    upload = Upload.objects.select_related("post", "published_version").filter(pk=upload_id).first()
    if upload is None or not can_download_published(user, upload):
        raise Http404
    return upload


def download_token(*, user, version: UploadVersion) -> str:
    """A signed token naming the version and the person it was made for; it expires (see views)."""
    return signing.dumps({"v": version.pk, "u": user.pk}, salt=DOWNLOAD_SALT, compress=True)


def version_for_token(*, user, token: str, max_age: int) -> UploadVersion:
    """The version a valid, unexpired token of `user` names, if `user` may still see it; else 404."""
    try:
        payload = signing.loads(token, salt=DOWNLOAD_SALT, max_age=max_age)
    except signing.BadSignature:
        raise Http404 from None
    if not user.is_authenticated or payload.get("u") != user.pk:
        raise Http404
    version = UploadVersion.objects.select_related("upload").filter(pk=payload.get("v")).first()
    if version is None or version.file_deleted_at is not None:
        raise Http404
    if not uploads_visible_to(user, Upload.objects.filter(pk=version.upload_id)).exists():
        raise Http404
    return version


def upload_kinds_for_post(*, post_id: int) -> list[str]:
    """The kinds ("png", "csv", …) of the files attached to a post that are not rejected."""
    return sorted(set(
        Upload.objects.filter(post_id=post_id).exclude(state=Upload.State.REJECTED)
        .exclude(current_version__isnull=True).values_list("current_version__kind", flat=True)
    ))


def published_files(*, topic_id: int) -> list[Upload]:
    """A topic's published files whose post (if any) is not deleted, oldest first, for export bundles."""
    return list(
        Upload.objects.filter(topic_id=topic_id, state=Upload.State.PUBLISHED)
        .filter(Q(post__isnull=True) | Q(post__deleted_at__isnull=True, post__hidden=""))
        .select_related("published_version").order_by("created_at", "pk")
    )


def published_open(*, upload: Upload):
    """The published copy of `upload`, opened for reading in binary."""
    return published_storage().open(upload.published_name, "rb")


def uploads_waiting_count() -> int:
    """Uploads being scanned or waiting for a decision (the team's queue)."""
    return Upload.objects.filter(state__in=[Upload.State.SCANNING, Upload.State.REVIEW]).count()


def uploads_of_person(*, user) -> list[dict]:
    """What a person uploaded, as metadata, for their data export: the files themselves may hold
    patients' data and are only ever handed out through review."""
    return list(Upload.objects.filter(uploader=user).order_by("created_at").values(
        "pk", "topic_id", "state", "created_at"))
