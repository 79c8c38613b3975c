"""Forms for asking, claiming, updating, delivering and closing. They parse input and call services;
the services hold the rules, so a refused step explains itself the same way everywhere."""
from django import forms
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.translation import gettext_lazy as _

from forum.identifiers import IdentifierCheckMixin
from licensing import policy

from . import services
from .models import DataRequest

MARKDOWN_HELP = _("You can format with Markdown: **bold**, *italic*, lists with -, links as [text](https://…).")



def license_field(kind: str, *, label, current: str = "") -> forms.ChoiceField:
    """A choice of the licenses the policy allows for `kind`, the default preselected, with the
    policy's one-line explanation; an item's current license stays offered even if no longer allowed."""
    choices = policy.choices(kind)
    if current and current not in dict(choices):
        choices.append((current, _("%(license)s (not allowed: choose another)") % {"license": current}))
    return forms.ChoiceField(label=label, choices=choices, initial=current or policy.default_license(kind),
                             required=False, help_text=policy.explanation(kind), error_messages={
                                 "invalid_choice": _("“%(value)s” is not one of the licenses allowed here. "
                                                     "Choose one from the list.")})


def errors_onto_form(form, error: ValidationError) -> None:
    """Put a service's ValidationError onto the form, by field where it names one."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error)


class ServiceForm(forms.Form):
    """A form whose `run(function, **arguments)` calls a service and keeps its refusals as form errors."""

    def run(self, function, **arguments):
        try:
            return function(**arguments)
        except ValidationError as error:
            errors_onto_form(self, error)
        except PermissionDenied as error:
            self.add_error(None, str(error) or _("You cannot do this."))
        return None


class RequestForm(IdentifierCheckMixin, ServiceForm):
    """The guided request form. Fields are checked by the service: a draft needs only a title."""

    identifier_fields = ("title", "question", "result_description", "data_links")

    title = forms.CharField(
        label=_("Title"), max_length=200, required=False,
        help_text=_("One sentence a busy volunteer can scan, e.g. “Estimate the incubation period from "
                    "120 case reports”."),
    )
    question = forms.CharField(
        label=_("Your question"), required=False, widget=forms.Textarea(attrs={"rows": 8, "data-preview": "true"}),
        help_text=_("What do you want to know, and why? Describe the data in plain words: what each row, image "
                    "or file is, and how it was collected. ") + MARKDOWN_HELP,
    )
    category = forms.ModelChoiceField(
        label=_("Topic area"), queryset=None, required=False, empty_label=None,
        help_text=_("Where volunteers who know the area will look."),
    )
    modality = forms.ChoiceField(
        label=_("What kind of data do you have?"), choices=DataRequest.Modality.choices, required=False,
        widget=forms.RadioSelect,
    )
    data_size = forms.ChoiceField(
        label=_("About how large is it?"), choices=DataRequest.DataSize.choices, required=False,
        widget=forms.RadioSelect,
    )
    data_links = forms.CharField(
        label=_("Where does the data live?"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional. One https:// link per line: Zenodo, figshare, GitHub, OSF, Google Drive, Dropbox "
                    "or any other site. Share only data that may be shared."),
    )
    result_description = forms.CharField(
        label=_("What result do you need?"), required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Describe its shape and structure, e.g. “a table with one row per patient and a column "
                    "for the predicted risk”, or “a figure of cases per week with a 95% interval”."),
    )
    result_type = forms.ChoiceField(
        label=_("In what form?"), choices=DataRequest.ResultType.choices, required=False, widget=forms.RadioSelect,
    )
    deadline = forms.DateField(
        label=_("By when do you need it?"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("Optional. Requests with a deadline are shown first. Format: YYYY-MM-DD."),
    )
    expertise = forms.CharField(
        label=_("Which expertise would help?"), max_length=300, required=False,
        widget=forms.TextInput(attrs={"list": "expertise-suggestions"}),
        help_text=_("Comma-separated, e.g. statistics, imaging, genomics. Volunteers with this expertise "
                    "see your request first."),
    )
    serves_covid = forms.BooleanField(
        label=_("I confirm that this work serves mitigating COVID-19."), required=False,
    )
    patient_data = forms.ChoiceField(
        label=_("Could the data identify a patient?"), choices=DataRequest.PatientData.choices, required=False,
        widget=forms.RadioSelect,
        help_text=_("Names, dates of birth, addresses, record numbers, faces in images or rare conditions in a "
                    "small place can identify someone. If yes or unsure, your request goes privately to the "
                    "anonymization team first; nobody else sees it until they clear it."),
    )

    def __init__(self, *args, actor, categories, published: bool = False, **kwargs):
        self.actor = actor
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories
        current = (self.initial or {}).get("data_license", "")
        self.fields["data_license"] = license_field(
            policy.Kind.DATA, label=_("Under which license may others reuse the data?"), current=current)
        if published:
            # The topic area of a published request is changed by moderators, who move topics.
            del self.fields["category"]

    def details(self) -> dict:
        data = dict(self.cleaned_data)
        data["data_links"] = data.get("data_links") or ""
        return data

    @staticmethod
    def initial_from(data_request: DataRequest, *, question: str | None = None) -> dict:
        """The form's starting values; a published request's title, question and tags live on its topic,
        where forum edits may have changed them."""
        initial = {name: getattr(data_request, name) for name in services.DETAIL_FIELDS}
        initial["data_links"] = "\n".join(data_request.data_links)
        if data_request.topic_id:
            initial["title"] = data_request.topic.title
            initial["expertise"] = ", ".join(sorted(tag.name for tag in data_request.topic.tags.all()))
            if question is not None:
                initial["question"] = question
        return initial


class ClaimForm(ServiceForm):
    plan = forms.CharField(
        label=_("Your plan (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A few lines on how you will approach it, so the requester knows what to expect."),
    )
    expected_date = forms.DateField(
        label=_("Expected date (optional)"), required=False, widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("When you expect to deliver. Format: YYYY-MM-DD."),
    )
    part = forms.CharField(
        label=_("Which part will you do?"), required=False, max_length=120,
        help_text=_("E.g. “images 1–50” or “rows 101–200”, so others take a different part."),
    )

    def __init__(self, *args, citizen_science: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not citizen_science:
            del self.fields["part"]


ATTACHMENT_HELP = _(
    "Tables (CSV, TSV, XLSX), documents (PDF, DOCX, PPTX, text), images (PNG, JPEG, TIFF, DICOM) or a ZIP of "
    "them. Every file is checked for personal data and reviewed by the anonymization team before anyone else "
    "can see it."
)


class AttachForm(ServiceForm):
    file = forms.FileField(label=_("Data file"), help_text=ATTACHMENT_HELP)


class UpdateForm(IdentifierCheckMixin, ServiceForm):
    identifier_fields = ("raw",)
    raw = forms.CharField(
        label=_("Progress update"), widget=forms.Textarea(attrs={"rows": 6, "data-preview": "true"}),
        help_text=_("What you did, what you found, what comes next. ") + MARKDOWN_HELP,
    )
    attachment = forms.FileField(label=_("Attach a file (optional)"), required=False, help_text=ATTACHMENT_HELP)


class ResultForm(IdentifierCheckMixin, ServiceForm):
    identifier_fields = ("summary",)
    summary = forms.CharField(
        label=_("Summary of the result"), required=False,
        widget=forms.Textarea(attrs={"rows": 8, "data-preview": "true"}),
        help_text=_("What you did and what you found, in words the requester can use. ") + MARKDOWN_HELP,
    )
    repository_url = forms.CharField(
        label=_("Open repository or archive"), required=False, max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://"}),
        help_text=_("Required: where others find the code and data to reproduce it, e.g. a GitHub repository "
                    "or a Zenodo record."),
    )
    attachment = forms.FileField(label=_("Attach a file (optional)"), required=False, help_text=ATTACHMENT_HELP)

    def __init__(self, *args, result_kind: str, current: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        add_license_fields(self, result_kind, current or {})


def add_license_fields(form, result_kind: str, current: dict) -> None:
    form.fields["license"] = license_field(
        result_kind, current=current.get("license", ""),
        label=_("License of the result's data") if result_kind == policy.Kind.DATA
        else _("License of the results (numbers, tables, figures)"))
    form.fields["repository_license"] = license_field(
        policy.Kind.CODE, current=current.get("repository_license", ""),
        label=_("License of the code in the repository, as its LICENSE file declares it"))


class ResultLicenseForm(ServiceForm):
    """Fix a result's licenses (e.g. after a hold)."""

    def __init__(self, *args, result_kind: str, current: dict, **kwargs):
        super().__init__(*args, **kwargs)
        add_license_fields(self, result_kind, current)


class ReasonForm(ServiceForm):
    reason = forms.CharField(
        label=_("Reason"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
    )


class BoardFilterForm(forms.Form):
    """The board's filters, read from the query string; anything unknown is ignored."""

    state = forms.ChoiceField(label=_("State"), required=False)
    category = forms.ModelChoiceField(label=_("Topic area"), queryset=None, required=False, to_field_name="slug",
                                      empty_label=_("All topic areas"))
    tag = forms.SlugField(label=_("Expertise tag"), required=False, max_length=100)
    modality = forms.ChoiceField(label=_("Kind of data"), required=False,
                                 choices=[("", _("Any kind of data")), *DataRequest.Modality.choices])
    result_type = forms.ChoiceField(label=_("Form of the result"), required=False,
                                    choices=[("", _("Any form")), *DataRequest.ResultType.choices])
    has_deadline = forms.BooleanField(label=_("Has a deadline"), required=False)
    unclaimed = forms.BooleanField(label=_("Nobody has claimed it yet"), required=False)

    def __init__(self, *args, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories
        self.fields["state"].choices = [
            ("active", _("Active (open, claimed, in progress, delivered)")),
            *[(value, label) for value, label in DataRequest.State.choices if value != DataRequest.State.DRAFT],
        ]
