"""Every write of the anonymization app (see the modules for the details)."""
from .audit import audit, audit_addresses_erase, audit_downloaded, audit_report_viewed
from .review import Decision, message_post, upload_decide
from .uploads import (
    files_expire,
    publications_stalled,
    scans_stalled,
    upload_add_version,
    upload_create,
    upload_publish,
    upload_vet,
    version_scan,
    version_scan_failed,
)

__all__ = [
    "Decision", "audit", "audit_addresses_erase", "audit_downloaded", "audit_report_viewed", "files_expire",
    "message_post", "publications_stalled",
    "scans_stalled", "upload_add_version", "upload_create",
    "upload_decide", "upload_publish", "upload_vet", "version_scan", "version_scan_failed",
]
