"""Cursor pagination: stable pages however fast new posts arrive, and no COUNT over a big table.

Each list view names the orderings it offers in `ordering_choices` ({"?ordering=" value:
fields}) and its default in `ordering`; the schema lists the choices.
"""
from django.utils.translation import gettext as _
from rest_framework import exceptions
from rest_framework.pagination import CursorPagination


class CursorPage(CursorPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = ("-pk",)
    offset_cutoff = 1000

    def paginate_queryset(self, queryset, request, view=None):
        from django.core.exceptions import ValidationError as DjangoValidationError

        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, TypeError, OverflowError, DjangoValidationError):
            # A cursor is opaque but not signed: a forged position is refused like any bad cursor.
            raise exceptions.NotFound(self.invalid_cursor_message) from None

    def get_ordering(self, request, queryset, view):
        choices = getattr(view, "ordering_choices", None) or {}
        value = request.query_params.get("ordering")
        if value is not None:  # blank too is off the list: leave the parameter out for the default
            if value not in choices:
                raise exceptions.ValidationError({"ordering": [
                    _("Order by one of: %(choices)s.") % {"choices": ", ".join(choices) or "-"}]})
            return tuple(choices[value])
        return tuple(getattr(view, "ordering", None) or self.ordering)

    def get_page_size(self, request):
        value = request.query_params.get(self.page_size_query_param)
        if value is not None:
            try:
                size = int(value)
            except ValueError:
                size = 0
            if not 1 <= size <= self.max_page_size:
                raise exceptions.ValidationError({"page_size": [
                    _("Ask for 1 to %(most)d items a page.") % {"most": self.max_page_size}]})
            return size
        return self.page_size

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        choices = getattr(view, "ordering_choices", None)
        if choices:
            parameters.append({
                "name": "ordering", "required": False, "in": "query",
                "description": _("Order of the list; the first value listed is the default."),
                "schema": {"type": "string", "enum": list(choices)},
            })
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": self.max_page_size}
        return parameters
