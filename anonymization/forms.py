"""Forms of the anonymization pages; each names its fields the way the services' errors do."""
from django import forms
from django.utils.translation import gettext_lazy as _

from .services import Decision


class FileField(forms.FileField):
    """A file input that says what we accept; the content is checked by the service."""

    def __init__(self, **kwargs):
        kwargs.setdefault("label", _("File"))
        kwargs.setdefault("help_text", _(
            "Tables (CSV, TSV, XLSX), documents (PDF, DOCX, PPTX, text), images (PNG, JPEG, TIFF, DICOM) or a ZIP "
            "of them. Every file is checked for personal data and reviewed before anyone else can see it."))
        super().__init__(**kwargs)


class AttachForm(forms.Form):
    file = FileField()


class MessageForm(forms.Form):
    raw = forms.CharField(
        label=_("Message"), widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Only you and the anonymization team can read this thread."),
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"), widget=forms.RadioSelect,
        choices=[
            (Decision.APPROVE, _("Approve and publish")),
            (Decision.CHANGES, _("Request changes (the uploader sends a new version)")),
            (Decision.REJECT, _("Reject")),
        ],
    )
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label=_("Reason or instructions"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when you request changes or reject: the uploader reads it."),
    )
