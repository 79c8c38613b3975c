"""Form fields that render the same for everybody, rendered once per language and kept.

Django renders each field through its widget's template: the reply composer under every topic
was a fifteenth of a signed-in topic page. A form opts in with `renders_alike` (no choices of
its own per person) and is kept only while unbound and without initial values, so what was
typed or chosen is always rendered afresh. The spam trap's stamp of when the form was shown
(forms.SpamTrapMixin) is the one value that changes: it is laid into the kept HTML per request.
"""
from django import template
from django.template.loader import render_to_string
from django.utils.html import escape
from django.utils.safestring import mark_safe

from ..fragments import fragment_key, kept_fragments

register = template.Library()

TEMPLATES = ("forum/_form_fields.html", "forum/_identifier_warning.html")  # the fields' and the one it includes
STAMP_FIELD = "shown_at"
STAMP_MARK = "kept-form-shown-at"


@register.simple_tag
def kept_form_fields(form) -> str:
    """`forum/_form_fields.html` for `form` if it renders alike for everybody, else "" (include it)."""
    stamp = form.initial.get(STAMP_FIELD)
    if (not getattr(form, "renders_alike", False) or form.is_bound
            or any(name != STAMP_FIELD for name in form.initial)):
        return ""

    def render(form):
        if stamp is not None:
            form.initial[STAMP_FIELD] = STAMP_MARK
        try:
            return render_to_string(TEMPLATES[0], {"form": form})
        finally:
            if stamp is not None:
                form.initial[STAMP_FIELD] = stamp
                form._bound_fields_cache.pop(STAMP_FIELD, None)  # its value read while marked

    shown = (type(form).__module__, type(form).__qualname__, form.prefix, str(form.auto_id), tuple(form.fields))
    [html] = kept_fragments([form], [fragment_key("forum:form-fields", TEMPLATES, shown)], render)
    if stamp is not None:
        html = html.replace(STAMP_MARK, escape(stamp), 1)
    return mark_safe(html)  # rendered by our template, autoescaped; the stamp escaped
