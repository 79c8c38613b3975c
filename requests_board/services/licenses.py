"""Licenses of a request's data and of its results: recorded with licensing, which checks them
on a worker (holds, releases, notifies); and changing a result's licenses."""
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from anonymization import selectors as anonymization_selectors
from forum.models import User
from forum.pagecache import invalidate_on_commit
from licensing import selectors as licensing_selectors
from licensing import services as licensing_services
from licensing.models import LicensedItem
from licensing.policy import Kind, item_problems

from ..models import DataRequest, RequestEvent, Result
from ..permissions import check_can_edit_result_license
from .details import _collect, clean_license
from .lifecycle import _event, _lock_request

ItemType = LicensedItem.ItemType


def result_kind(data_request: DataRequest) -> str:
    """What a result's own license is checked as: numerical or pictorial results, whatever form the
    request asked for (a computed table is a numerical result); its code is the repository's license."""
    return Kind.RESULT


def _record_dataset(data_request: DataRequest) -> None:
    """Tell licensing the request's data license (after publishing or any edit); a worker checks it."""
    if data_request.topic_id is None:
        return
    licensing_services.item_record(
        item_type=ItemType.DATASET, object_id=data_request.pk, topic=data_request.topic, post=None,
        author=data_request.author, title=data_request.topic.title, kind=Kind.DATA,
        expression=data_request.data_license,
    )


def _record_result(result: Result, data_request: DataRequest):
    """Tell licensing a result's licenses and the kinds of its files; it checks them at once and
    answers with the licensed item (held or not)."""
    return licensing_services.item_record(
        item_type=ItemType.RESULT, object_id=result.pk, topic=data_request.topic, post=result.post,
        author=result.author, title=data_request.topic.title, kind=result_kind(data_request),
        expression=result.license, code_expression=result.repository_license,
        file_kinds=anonymization_selectors.upload_kinds_for_post(post_id=result.post_id),
    )


def result_license_problems(result: Result, data_request: DataRequest) -> list[str]:
    """What keeps a result from being accepted for licensing: its hold, or (before the worker has
    checked it) what the policy says of its current licenses."""
    item = licensing_selectors.item_map(item_type=ItemType.RESULT, object_ids=[result.pk]).get(result.pk)
    if item is not None and item.is_held and item.checked_revision >= item.revision:
        return list(item.problems)
    file_kinds = item.file_kinds if item is not None else ()
    return item_problems(kind=result_kind(data_request), expression=result.license,
                         code_expression=result.repository_license, file_kinds=file_kinds)


@transaction.atomic
def result_license_edit(*, actor: User, result_id: int, license: str, repository_license: str) -> Result:
    """Change a result's license and its repository's code license; the worker checks them again
    and releases the result if they now follow the policy. Locks the request."""
    data_request_id = Result.objects.values_list("data_request_id", flat=True).get(pk=result_id)
    data_request = _lock_request(data_request_id)
    result = Result.objects.select_related("post", "author").get(pk=result_id)
    item = licensing_selectors.item_map(item_type=ItemType.RESULT, object_ids=[result.pk]).get(result.pk)
    check_can_edit_result_license(actor, result, data_request, held=item is not None and item.is_held)
    if result.post.deleted_at is not None:
        raise ValidationError(_("This result was deleted."))
    errors = {}
    license = _collect(errors, clean_license, license)
    if (repository_license or "").strip():
        repository_license = _collect(errors, clean_license, repository_license, "repository_license")
    else:
        repository_license = ""
    if errors:
        raise ValidationError(errors)
    if (license, repository_license) == (result.license, result.repository_license):
        return result
    detail = _("%(old)s → %(new)s") % {"old": result.license, "new": license} if license != result.license else ""
    result.license, result.repository_license = license, repository_license
    result.save(update_fields=["license", "repository_license"])
    _event(data_request, actor, RequestEvent.Kind.RELICENSED, subject=result.author, detail=detail)
    _record_result(result, data_request)
    invalidate_on_commit()
    return result
