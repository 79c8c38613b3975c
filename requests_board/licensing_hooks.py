"""What the requests board does when licensing holds or releases one of its items
(see licensing/hooks.py): it notifies the item's author."""
from .models import DataRequest, Result
from .notifications import NoticeKind
from .services.lifecycle import _notify


def _request_of(item) -> DataRequest | None:
    if item.item_type == "result":
        return DataRequest.objects.filter(
            pk=Result.objects.filter(pk=item.object_id).values("data_request_id")[:1]
        ).first()
    return DataRequest.objects.filter(pk=item.object_id).first()


def license_held(*, item) -> None:
    data_request = _request_of(item)
    if data_request is not None:
        _notify(item.author, NoticeKind.LICENSE_HELD, data_request,
                f"license-held:{item.item_type}:{item.object_id}:{item.revision}")


def license_released(*, item) -> None:
    data_request = _request_of(item)
    if data_request is not None:
        _notify(item.author, NoticeKind.LICENSE_RELEASED, data_request,
                f"license-released:{item.item_type}:{item.object_id}:{item.revision}")
