"""Audit records: one helper so every write says who, what, when and from where."""
from ..models import AuditRecord


def audit(action: str, *, actor=None, upload=None, version=None, detail: str = "", ip: str | None = None):
    """Append one audit row; call it inside the transaction of the act it records."""
    return AuditRecord.objects.create(
        action=action, actor=actor if actor is not None and actor.is_authenticated else None,
        upload=upload, version=version, detail=str(detail)[:500], ip=ip or None,
    )


def audit_report_viewed(*, actor, upload, ip: str | None) -> None:
    """Record that `actor` opened an upload's report (the item page)."""
    audit(AuditRecord.Action.REPORT_VIEWED, actor=actor, upload=upload, version=upload.current_version, ip=ip)


def audit_downloaded(*, actor, version, ip: str | None) -> None:
    """Record that `actor` downloaded a quarantined file."""
    audit(AuditRecord.Action.DOWNLOADED, actor=actor, upload=version.upload, version=version, ip=ip)


def audit_addresses_erase(*, user) -> int:
    """A person deleting their account: the audit log keeps what they did (now by "deleted user") but
    not from where. The log is append-only (its queryset refuses updates); erasing a deleted person's
    address is the one change allowed, so it goes around that guard on purpose. Returns the rows changed."""
    from django.db.models import QuerySet

    return QuerySet.update(AuditRecord.objects.filter(actor=user), ip=None)
