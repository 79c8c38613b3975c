"""Form fields that render the same for everybody, rendered once per language and kept.

Django renders each field through its widget's template: the reply composer under every topic
was a fifteenth of a signed-in topic page. A form opts in with `renders_alike` (no choices of
its own per person, no per-render stamp) and is kept only while unbound and without initial
values, so what was typed or chosen is always rendered afresh.
"""
from django import template
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from ..fragments import fragment_key, kept_fragments

register = template.Library()

TEMPLATES = ("forum/_form_fields.html", "forum/_identifier_warning.html")  # the fields' and the one it includes


@register.simple_tag
def kept_form_fields(form) -> str:
    """`forum/_form_fields.html` for `form` if it renders alike for everybody, else "" (include it)."""
    if not getattr(form, "renders_alike", False) or form.is_bound or form.initial:
        return ""
    shown = (type(form).__module__, type(form).__qualname__, form.prefix, str(form.auto_id), tuple(form.fields))
    [html] = kept_fragments([form], [fragment_key("forum:form-fields", TEMPLATES, shown)],
                            lambda form: render_to_string(TEMPLATES[0], {"form": form}))
    return mark_safe(html)  # rendered by our template, autoescaped
