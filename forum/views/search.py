"""The search page: one form of filters over forum.search.search_posts."""
from django import forms
from django.contrib.auth import get_user_model
from django.shortcuts import render
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from .. import selectors
from ..search import MAX_QUERY_LENGTH, search_posts

RESULTS_PER_PAGE = 20
STATUS_CHOICES = [
    ("", _("Any status")),
    ("open", _("Open")),
    ("closed", _("Closed")),
    ("archived", _("Archived")),
]


class SearchForm(forms.Form):
    """Validates the search page's query string; `from` and `to` are added in __init__ (Python keywords)."""

    # Not max_length: search_posts cuts long queries instead of refusing them.
    q = forms.CharField(
        label=_("Search for"), required=False,
        widget=forms.TextInput(attrs={"type": "search", "maxlength": MAX_QUERY_LENGTH}),
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=None, required=False, to_field_name="slug", empty_label=_("All categories"),
        error_messages={"invalid_choice": _("There is no such category.")},
    )
    tag = forms.SlugField(label=_("Tag"), required=False)
    author = forms.CharField(label=_("Author (username)"), required=False, max_length=150)
    status = forms.ChoiceField(label=_("Topic status"), choices=STATUS_CHOICES, required=False)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        # A private category the reader cannot see is refused like a missing one.
        self.fields["category"].queryset = selectors.category_choices(user=user)
        date_widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        invalid_date = {"invalid": _("Enter a date as YYYY-MM-DD.")}
        self.fields["from"] = forms.DateField(
            label=_("Posted on or after"), required=False, widget=date_widget, input_formats=["%Y-%m-%d"],
            error_messages=invalid_date,
        )
        self.fields["to"] = forms.DateField(
            label=_("Posted on or before"), required=False, widget=date_widget, input_formats=["%Y-%m-%d"],
            error_messages=invalid_date,
        )
        self.order_fields(["q", "category", "tag", "author", "from", "to", "status"])

    def clean_tag(self):
        slug = self.cleaned_data["tag"]
        if not slug:
            return None
        tag = selectors.tag_find(user=self.user, slug=slug)
        if tag is None:
            raise forms.ValidationError(_("There is no tag “%(tag)s”."), params={"tag": slug})
        return tag

    def clean_author(self):
        username = self.cleaned_data["author"].strip().lstrip("@")
        if not username:
            return ""
        found = get_user_model().objects.filter(username__iexact=username).values_list("username", flat=True)[:1]
        if not found:
            raise forms.ValidationError(_("Nobody has the username “%(username)s”."), params={"username": username})
        return found[0]

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("from") and cleaned.get("to") and cleaned["from"] > cleaned["to"]:
            self.add_error("to", _("The end date must be on or after the start date."))
        return cleaned


def _page_number(value) -> int:
    try:
        return max(int(value), 1)
    except (TypeError, ValueError):
        return 1


def search(request):
    """Full-text search over what the reader may see, with filters; GET only, so results can be linked."""
    form = SearchForm(request.GET or None, user=request.user)
    results = None
    if form.is_bound and form.is_valid() and form.cleaned_data["q"]:
        data = form.cleaned_data
        results = search_posts(
            user=request.user, query=data["q"], category=data["category"], tag=data["tag"],
            author=data["author"], date_from=data["from"], date_to=data["to"], status=data["status"],
            page=_page_number(request.GET.get("page")), per_page=RESULTS_PER_PAGE,
        )
    # Pagination links keep every filter.
    filters = urlencode([(key, value) for key, value in request.GET.items() if key != "page" and value])
    return render(request, "forum/search.html", {"form": form, "results": results, "filters": filters})
