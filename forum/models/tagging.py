"""taggit's per-object tag manager, made cheap to create for every row of a list."""
from taggit.managers import _TaggableManager
from taggit.models import CommonGenericTaggedItemBase


class ListTaggableManager(_TaggableManager):
    """When a list prefetches tags, Django asks each row's manager for a queryset only to hold the
    rows already fetched (django.db.models.query.prefetch_one_level); taggit builds its full filter
    for each (a third of a topic list's time in the ORM). Here the filter is applied only if that
    queryset is ever run without its prefetched rows, which then behaves as taggit's own."""

    def get_queryset(self, extra_filters=None):
        try:
            return self.instance._prefetched_objects_cache[self.prefetch_cache_name]
        except (AttributeError, KeyError):
            pass
        if extra_filters or not issubclass(self.through, CommonGenericTaggedItemBase):
            return super().get_queryset(extra_filters)
        # taggit's GenericTaggedItemBase.tags_for(model, instance), with the filter deferred.
        relname = self.through.tag_relname()
        model = self.model._meta.concrete_model
        queryset = self.through.tag_model().objects.distinct().order_by(*self.ordering)
        queryset._defer_next_filter = True
        return queryset.filter(**{
            f"{relname}__content_type__app_label": model._meta.app_label,
            f"{relname}__content_type__model": model._meta.model_name,
            f"{relname}__object_id": self.instance.pk,
        })
