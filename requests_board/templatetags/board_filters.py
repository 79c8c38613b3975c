"""The board's filter fields rendered once per choice of filters and kept, not on every request.

Django renders each field through a template and each option of each list through another:
the filter form was 40% of a signed-in board page. Its HTML depends only on the values chosen,
the topic areas offered (the public ones, kept with the lists' generations) and the language.
"""
from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from forum.fragments import fragment_key
from forum.selectors import counted, readers
from forum.selectors.lists import LIST_SECONDS

register = template.Library()

TEMPLATE = "requests_board/_filter_fields.html"


@register.simple_tag(takes_context=True)
def filter_fields(context, form):
    def render():
        return render_to_string(TEMPLATE, {"form": form})

    if form.is_bound and not form.is_valid():
        return mark_safe(render())  # whatever was typed: not worth keeping
    chosen = tuple((name, tuple(form.data.getlist(name))) for name in form.fields) if form.is_bound else ()
    # The fragment key says the language, time zone and template.
    name = fragment_key("board-filter-fields:2", (TEMPLATE,), (readers(context["user"]), chosen))
    return mark_safe(counted(name, render, seconds=LIST_SECONDS))  # rendered by our template, autoescaped
