"""Reads that licensing pages, other apps' pages and exports need."""
from django.db.models import Count, Q

from .models import ExportBundle, LicensedItem, LicenseEvent
from .permissions import can_see_held, held_readable_q, items_visible_to


def item_map(*, item_type: str, object_ids) -> dict[int, LicensedItem]:
    """The licensed items of these objects, by object id (one query)."""
    object_ids = list(object_ids)
    if not object_ids:
        return {}
    items = LicensedItem.objects.filter(item_type=item_type, object_id__in=object_ids)
    return {item.object_id: item for item in items}


def items_for_topic(*, topic_id: int) -> list[LicensedItem]:
    """Every licensed item on one topic (its dataset and results), oldest first: kept with the
    topic's pages (every save of an item bumps its topic, services.item_record)."""
    from forum.pagecache import TOPIC_KEY
    from forum.selectors import counted

    return counted(f"licensed-items:1 {topic_id}", lambda: list(
        LicensedItem.objects.filter(topic_id=topic_id).select_related("topic").order_by("created_at", "pk")
    ), scope=TOPIC_KEY.format(topic_id))


def topic_items(*, request, topic_id: int) -> dict[tuple[str, int], LicensedItem]:
    """The topic's licensed items by (item type, object id), looked up once per HTTP request
    (the topic page's hooks and panel all ask)."""
    memo = request.__dict__.setdefault("_licensed_items_by_topic", {})
    if topic_id not in memo:
        memo[topic_id] = {(item.item_type, item.object_id): item for item in items_for_topic(topic_id=topic_id)}
    return memo[topic_id]


def withheld_post_ids(*, request, topic_id: int) -> set[int]:
    """Posts of the topic whose text (and files) the viewer may not read: held results, by the one rule."""
    return {item.post_id for item in topic_items(request=request, topic_id=topic_id).values()
            if item.post_id and not can_see_held(request.user, item)}


def items_for_license(*, user, spdx_id: str, limit: int = 100) -> list[LicensedItem]:
    """Items `user` may see that are licensed (or whose code is) under `spdx_id`, newest first."""
    queryset = LicensedItem.objects.filter(license_ids__contains=f" {spdx_id} ")
    return list(
        items_visible_to(user, queryset).select_related("topic", "author").order_by("-created_at", "-pk")[:limit]
    )


def license_usage(*, user) -> list[dict]:
    """How many items `user` may see use each expression, most used first."""
    return list(
        items_visible_to(user, LicensedItem.objects.all())
        .values("expression").annotate(count=Count("pk")).order_by("-count", "expression")
    )


def held_count() -> int:
    """How many items wait in the moderators' report (held, on live topics)."""
    return LicensedItem.objects.filter(state=LicensedItem.State.HELD, topic__deleted_at__isnull=True).count()


def held_list(*, limit: int = 200) -> list[LicensedItem]:
    """Items held for licensing problems, longest held first (the moderators' report)."""
    return list(
        LicensedItem.objects.filter(state=LicensedItem.State.HELD, topic__deleted_at__isnull=True)
        .select_related("topic", "author").order_by("held_at", "pk")[:limit]
    )


def report_counts() -> list[dict]:
    """Per expression and kind: items in all, and how many of them are held (the moderators' report)."""
    return list(
        LicensedItem.objects.values("expression", "kind")
        .annotate(count=Count("pk"), held=Count("pk", filter=Q(state=LicensedItem.State.HELD)))
        .order_by("-count", "expression", "kind")
    )


def event_list(*, item_ids) -> list[LicenseEvent]:
    return list(LicenseEvent.objects.filter(item_id__in=list(item_ids)).order_by("created_at", "pk"))


def bundle_get(*, bundle_id: int) -> ExportBundle | None:
    return ExportBundle.objects.select_related("topic").filter(pk=bundle_id).first()


def held_keys(*, dataset_ids, result_ids) -> set[tuple[str, int]]:
    """(item type, object id) of the held items among these datasets and results (one query)."""
    dataset_ids, result_ids = [i for i in dataset_ids if i], [i for i in result_ids if i]
    if not dataset_ids and not result_ids:
        return set()
    held = LicensedItem.objects.filter(state=LicensedItem.State.HELD).filter(
        Q(item_type=LicensedItem.ItemType.DATASET, object_id__in=dataset_ids)
        | Q(item_type=LicensedItem.ItemType.RESULT, object_id__in=result_ids))
    return set(held.values_list("item_type", "object_id"))


def withheld_result_posts(*, user):
    """Post ids of held items whose text `user` may not read (a `values` queryset for a subquery);
    None for global moderators, who read everything."""
    readable = held_readable_q(user)
    if readable is None:
        return None
    return LicensedItem.objects.filter(state=LicensedItem.State.HELD, post__isnull=False).exclude(
        readable).values("post_id")


def dataset_held_for(*, user, topic_id: int) -> bool:
    """Whether the data of the request on `topic_id` is held and withheld from `user`."""
    item = LicensedItem.objects.select_related("topic").filter(
        item_type=LicensedItem.ItemType.DATASET, topic_id=topic_id).first()
    return item is not None and not can_see_held(user, item)


def held_object_ids(*, item_type: str):
    """Object ids of the held items of one type (a `values` queryset for a subquery): digests
    and other lists for everybody leave them out, whoever reads."""
    return LicensedItem.objects.filter(state=LicensedItem.State.HELD, item_type=item_type).values("object_id")


def held_post_ids():
    """Posts held for their license whoever reads (a `values` queryset): held results' posts and
    the first posts of requests whose data is held. Digests leave them out even for their authors."""
    from forum.models import Post

    held = LicensedItem.objects.filter(state=LicensedItem.State.HELD)
    return Post.objects.filter(
        Q(pk__in=held.filter(post__isnull=False).values("post_id"))
        | Q(number=1, topic_id__in=held.filter(item_type=LicensedItem.ItemType.DATASET).values("topic_id"))
    ).values("pk")
