"""The identifier check as the forms of every app show it: before posting, the author sees what
may identify a patient, highlighted, and chooses to edit it out or to send it for review.

The check itself belongs to the anonymization app (through `hooks.screen_text`); the
services run it again and hold what it finds, so this is only the early warning.
"""
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from . import hooks
from .services import screen_fields

HELD_MESSAGE = _(
    "Your post may identify a patient, so it waits for the anonymization team: only you and the team can "
    "see it until they have checked it. You will be told what they decide."
)
EDIT_HELD_MESSAGE = _(
    "Your edit may identify a patient, so it waits for the anonymization team; everybody else still sees the "
    "earlier version until the team has checked it. You will be told what they decide."
)


class IdentifierCheckMixin(forms.Form):
    """Shows the author, before posting, what the identifier check would hold: the form comes back
    with the findings highlighted, to edit them out or to send the text for review anyway.

    Only a warning: the services run the same check and hold what it finds, whatever the form
    said. `identifier_fields` names the form's fields that get published.
    """

    identifier_fields: tuple = ("title", "raw")
    send_for_review = forms.BooleanField(
        label=_("Send it as it is: the anonymization team checks it before anyone else sees it"),
        required=False, widget=forms.HiddenInput,
    )

    def clean(self):
        cleaned = super().clean()
        self.identifier_warning = []
        if self.errors or cleaned.pop("send_for_review", False):
            return cleaned
        texts = {name: str(cleaned.get(name) or "") for name in self.identifier_fields if name in self.fields}
        screening = screen_fields(texts)
        if not screening["findings"]:
            return cleaned
        labels = hooks.identifier_labels()
        for name, text in texts.items():
            found = [finding for finding in screening["findings"] if finding.get("field") == name]
            if found:
                self.identifier_warning.append({
                    "label": self.fields[name].label, "pieces": mark_pieces(text, found, labels),
                    "kinds": sorted({str(labels.get(finding["kind"], finding["kind"])) for finding in found}),
                })
        self.fields["send_for_review"].widget = forms.CheckboxInput()
        if screening["hold"]:
            raise ValidationError(_(
                "This may identify a patient (highlighted below). Please edit it out, or send it as it is: "
                "then only you and the anonymization team see it until they have checked it."
            ), code="identifying")
        raise ValidationError(_(
            "Please check the highlighted words: could they identify a patient? Edit them out, or tick the box "
            "to post as it is."
        ), code="maybe_identifying")


FIELD_LABELS = {"title": _("in the title"), "raw": _("in the text")}


def finding_rows(findings: list) -> list[dict]:
    """Findings as their reader sees them: the kind's label in the reader's language, the value, and
    where (a field name such as "in the title"). For the author's preview and the review queue."""
    labels = hooks.identifier_labels()
    return [{
        **finding,
        "label": str(labels.get(finding["kind"], finding["kind"])),
        "field_label": str(FIELD_LABELS.get(finding.get("field"), str(finding.get("field", "")).replace("_", " "))),
    } for finding in findings or ()]


def mark_pieces(text: str, findings: list, labels: dict) -> list[tuple[str, str]]:
    """`text` cut into (piece, label of what was found there, or "") runs, for highlighting."""
    pieces, position = [], 0
    for finding in sorted(findings, key=lambda finding: finding["start"]):
        start, end = max(finding["start"], 0), min(finding["end"], len(text))
        if start < position or start >= end:
            continue
        if start > position:
            pieces.append((text[position:start], ""))
        pieces.append((text[start:end], str(labels.get(finding["kind"], finding["kind"]))))
        position = end
    if position < len(text):
        pieces.append((text[position:], ""))
    return pieces
