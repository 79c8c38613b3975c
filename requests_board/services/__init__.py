"""Every write on data requests, one module per subject, re-exported here.

Lock order, the same everywhere so no two services deadlock: the request row,
then the forum topic (taken by the forum's services), then claims.
People are told through forum notifications written in the same transaction
(unique per key), so a retried or concurrent task never tells anybody twice.
"""
from .claims import (
    claim_release,
    claims_expire,
    person_work_end,
    request_claim,
    result_accept,
    result_deliver,
    update_post,
)
from .details import (
    DETAIL_FIELDS,
    check_future_date,
    clean_data_links,
    clean_expertise,
    clean_license,
    clean_repository_url,
)
from .exports import (
    export_build,
    export_is_current,
    export_open,
    export_request,
)
from .licenses import (
    result_kind,
    result_license_edit,
    result_license_problems,
)
from .lifecycle import (
    TRANSITIONS,
    InvalidTransition,
    anonymization_category,
    check_transition,
)
from .requests import (
    request_attach,
    request_clear,
    request_close,
    request_edit,
    request_submit,
    request_withdraw,
)

__all__ = [
    "DETAIL_FIELDS",
    "InvalidTransition",
    "TRANSITIONS",
    "anonymization_category",
    "check_future_date",
    "check_transition",
    "claim_release",
    "claims_expire",
    "clean_data_links",
    "clean_expertise",
    "clean_license",
    "clean_repository_url",
    "export_build",
    "export_is_current",
    "export_open",
    "export_request",
    "person_work_end",
    "request_claim",
    "request_attach",
    "request_clear",
    "request_close",
    "request_edit",
    "request_submit",
    "request_withdraw",
    "result_accept",
    "result_deliver",
    "result_kind",
    "result_license_edit",
    "result_license_problems",
    "update_post",
]
