"""The team's decisions and the private thread about an upload."""
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from forum.markdown import render_markdown
from forum.models import User

from ..models import AuditRecord, ReviewMessage, Upload
from ..notifications import ReviewKind
from ..permissions import check_can_decide, check_can_write_message
from .audit import audit
from .notices import notify, team_members
from .uploads import _approve

Action = AuditRecord.Action
MAX_REASON = 2000


class Decision:
    APPROVE = "approve"
    CHANGES = "changes"
    REJECT = "reject"
    ALL = (APPROVE, CHANGES, REJECT)


def _lock_upload(upload_id: int) -> Upload:
    return Upload.objects.select_for_update(of=("self",)).select_related("current_version").get(pk=upload_id)


@transaction.atomic
def upload_decide(*, actor: User, upload_id: int, decision: str, reason: str = "",
                  version_id: int | None = None, ip: str | None = None) -> Upload:
    """Approve and publish, ask for changes, or reject a file waiting for review. Locks the upload.

    Asking for changes and rejecting need a reason, which the uploader reads; approving
    needs a completed scan and someone other than the uploader. `version_id` is the
    version the decider looked at (the page sends it): a newer one needs a new look.
    """
    reason = (reason or "").strip()
    if decision not in Decision.ALL:
        raise ValidationError({"decision": _("Choose approve, request changes or reject.")})
    upload = _lock_upload(upload_id)
    check_can_decide(actor, upload, approve=decision == Decision.APPROVE)
    if version_id is not None and version_id != upload.current_version_id:
        raise PermissionDenied(_("A new version arrived while you were reading; please review it before deciding."))
    if len(reason) > MAX_REASON:
        raise ValidationError({"reason": _("Please keep the reason under %(limit)d characters.")
                               % {"limit": MAX_REASON}})
    if decision == Decision.APPROVE:
        _approve(upload, actor=actor, reason=reason, ip=ip)
    else:
        if not reason:
            raise ValidationError({"reason": _("Please say what the uploader should change or why the file "
                                               "is rejected; they will read it.")})
        upload.state = Upload.State.CHANGES if decision == Decision.CHANGES else Upload.State.REJECTED
        upload.decided_at, upload.decided_by, upload.decision_reason = timezone.now(), actor, reason
        upload.save(update_fields=["state", "decided_at", "decided_by", "decision_reason"])
        action = Action.CHANGES_REQUESTED if decision == Decision.CHANGES else Action.REJECTED
        audit(action, actor=actor, upload=upload, version=upload.current_version, detail=reason, ip=ip)
    notify(upload.uploader, ReviewKind.DECIDED, upload, f"decided:{upload.pk}:{upload.current_version_id}:"
                                                               f"{decision}")
    return upload


@transaction.atomic
def message_post(*, actor: User, upload_id: int, raw: str, ip: str | None = None) -> ReviewMessage:
    """Write in an upload's private thread; the other side is told there is something to read."""
    raw = (raw or "").strip()
    if not raw:
        raise ValidationError({"raw": _("Please write a message.")})
    upload = _lock_upload(upload_id)
    check_can_write_message(actor, upload)
    try:
        html = render_markdown(raw)
    except ValidationError as error:
        raise ValidationError({"raw": error.messages}) from None
    message = ReviewMessage.objects.create(upload=upload, author=actor, raw=raw, html=html)
    audit(Action.MESSAGE, actor=actor, upload=upload, ip=ip)
    if actor.pk == upload.uploader_id:
        # The people already in the conversation, or the whole team when nobody answered yet.
        involved = set(
            ReviewMessage.objects.filter(upload=upload).exclude(author=actor).values_list("author_id", flat=True)
        ) | ({upload.decided_by_id} if upload.decided_by_id else set())
        recipients = list(User.objects.filter(pk__in=involved, is_active=True)) if involved else team_members()
    else:
        recipients = [upload.uploader]
    for recipient in recipients:
        if recipient.pk != actor.pk:
            notify(recipient, ReviewKind.MESSAGE, upload, f"message:{message.pk}:{recipient.pk}")
    return message
