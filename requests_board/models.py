"""Data requests, their claims, progress updates, results, history and the notices they send.

A published request is one-to-one with a forum topic, so discussion, search,
feeds and visibility work exactly as for any topic. A draft has no topic yet:
nobody but its author can see it.
"""
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# Hosts people link data from, shown by name next to each link.
KNOWN_HOSTS = {
    "zenodo.org": "Zenodo",
    "figshare.com": "figshare",
    "github.com": "GitHub",
    "gitlab.com": "GitLab",
    "osf.io": "OSF",
    "drive.google.com": "Google Drive",
    "docs.google.com": "Google Drive",
    "dropbox.com": "Dropbox",
    "dropboxusercontent.com": "Dropbox",
    "huggingface.co": "Hugging Face",
    "doi.org": "DOI",
}


def default_data_license() -> str:
    """The license a new request's data gets unless its author chooses another (the policy's default)."""
    from licensing.policy import Kind, default_license

    return default_license(Kind.DATA)


def link_host(url: str) -> str:
    """The host of `url` without "www.", e.g. "zenodo.org"."""
    host = (urlsplit(url).hostname or "").lower()
    return host[4:] if host.startswith("www.") else host


def link_host_label(url: str) -> str:
    """A friendly name for where a link points: "Zenodo", or the host itself."""
    host = link_host(url)
    for known, label in KNOWN_HOSTS.items():
        if host == known or host.endswith("." + known):
            return label
    return host


class DataRequest(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", _("Open")
        CLAIMED = "claimed", _("Claimed")
        IN_PROGRESS = "in_progress", _("In progress")
        DELIVERED = "delivered", _("Result delivered")
        ACCEPTED = "accepted", _("Solved")
        WITHDRAWN = "withdrawn", _("Withdrawn")
        CLOSED = "closed", _("Closed")

    class Modality(models.TextChoices):
        TABULAR = "tabular", _("Tables or spreadsheets")
        IMAGING = "imaging", _("Images (CT, X-ray, microscopy…)")
        SEQUENCES = "sequences", _("Sequences (DNA, RNA, protein)")
        TEXT = "text", _("Text (notes, reports, papers)")
        OTHER = "other", _("Something else")

    class DataSize(models.TextChoices):
        SMALL = "small", _("Small: fits in an email (under 10 MB)")
        MEDIUM = "medium", _("Medium: 10 MB to 1 GB")
        LARGE = "large", _("Large: 1 GB to 100 GB")
        HUGE = "huge", _("Very large: over 100 GB")
        UNKNOWN = "unknown", _("I don't know")

    class ResultType(models.TextChoices):
        ANSWER = "answer", _("An analysis or an answer")
        FIGURE = "figure", _("A figure")
        DATASET = "dataset", _("A table or dataset")
        SOFTWARE = "software", _("Software or a tool")
        MODEL = "model", _("A model")

    class PatientData(models.TextChoices):
        NO = "no", _("No: the data cannot identify a patient")
        YES = "yes", _("Yes: it may identify a patient")
        UNSURE = "unsure", _("I am not sure")

    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="data_requests")
    topic = models.OneToOneField(
        "forum.Topic", null=True, blank=True, on_delete=models.CASCADE, related_name="data_request",
        help_text=_("The discussion; none while the request is a draft."),
    )
    # Where the request is published; patient data waits in the Anonymization channel first.
    category = models.ForeignKey("forum.Category", on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("title"), max_length=200)
    question = models.TextField(_("question"), blank=True)
    modality = models.CharField(_("kind of data"), max_length=12, choices=Modality.choices, blank=True)
    data_size = models.CharField(_("approximate size"), max_length=8, choices=DataSize.choices, blank=True)
    data_links = models.JSONField(_("links to the data"), default=list, blank=True)
    data_license = models.CharField(_("license of the data (SPDX)"), max_length=100, default=default_data_license)
    result_description = models.TextField(_("result wanted"), blank=True)
    result_type = models.CharField(_("form of the result"), max_length=10, choices=ResultType.choices, blank=True)
    deadline = models.DateField(_("deadline"), null=True, blank=True)
    expertise = models.CharField(_("expertise needed"), max_length=300, blank=True,
                                 help_text=_("Kept for drafts; a published request's tags live on its topic."))
    serves_covid = models.BooleanField(_("serves mitigating COVID-19"), default=False)
    patient_data = models.CharField(_("may identify a patient"), max_length=6, choices=PatientData.choices, blank=True)
    needs_anonymization = models.BooleanField(default=False, editable=False)
    cleared_at = models.DateTimeField(null=True, blank=True, editable=False,
                                      help_text=_("When the anonymization team cleared the data for publication."))
    state = models.CharField(_("state"), max_length=12, choices=State.choices, default=State.DRAFT)
    accepted_result = models.OneToOneField(
        "Result", null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    close_reason = models.CharField(_("reason for closing"), max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)
    first_claimed_at = models.DateTimeField(null=True, blank=True)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("data request")
        verbose_name_plural = _("data requests")
        indexes = [
            # The board: state filter, then urgency (deadline, then oldest).
            models.Index(fields=["state", "deadline", "published_at"], name="request_board"),
            # PostgreSQL also has request_board_urgency, the board's exact sort order (migration 0002).
            models.Index(fields=["author", "-created_at"], name="request_author"),
            models.Index(fields=["published_at"], name="request_published"),
            models.Index(fields=["accepted_at"], name="request_accepted"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(state="draft") | Q(topic__isnull=False), name="request_published_has_topic"
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        if self.topic_id:
            return reverse("forum:topic-detail", kwargs={"slug": self.topic.slug, "pk": self.topic_id})
        return reverse("requests_board:request-edit", kwargs={"pk": self.pk})

    @property
    def links(self) -> list[dict]:
        return [{"url": url, "host": link_host_label(url)} for url in self.data_links]

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def is_citizen_science(self) -> bool:
        return self.category.slug == settings.REQUESTS_CITIZEN_SCIENCE_CATEGORY


ACTIVE_STATES = (
    DataRequest.State.OPEN, DataRequest.State.CLAIMED, DataRequest.State.IN_PROGRESS, DataRequest.State.DELIVERED,
)


class Claim(models.Model):
    class Role(models.TextChoices):
        LEAD = "lead", _("Lead")
        COLLABORATOR = "collaborator", _("Collaborator")
        PARTICIPANT = "participant", _("Participant")  # citizen science: one part each

    class Status(models.TextChoices):
        ACTIVE = "active", _("Active")
        UNCLAIMED = "unclaimed", _("Given up by the volunteer")
        RELEASED = "released", _("Released")
        EXPIRED = "expired", _("Expired without updates")
        COMPLETED = "completed", _("Completed")

    data_request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="claims")
    volunteer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="claims")
    role = models.CharField(max_length=12, choices=Role.choices, default=Role.LEAD)
    part = models.CharField(_("part"), max_length=120, blank=True,
                            help_text=_("Citizen science: which part of the work you take on."))
    plan = models.TextField(_("plan"), max_length=2000, blank=True)
    expected_date = models.DateField(_("expected date"), null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    created_at = models.DateTimeField(default=timezone.now)
    last_activity_at = models.DateTimeField(default=timezone.now)
    reminded_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        indexes = [
            models.Index(fields=["volunteer", "status"], name="claim_volunteer_status"),
            models.Index(fields=["status", "last_activity_at"], name="claim_expiry"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["data_request", "volunteer"], condition=Q(status="active"), name="claim_once_active"
            ),
            models.UniqueConstraint(
                fields=["data_request"], condition=Q(status="active", role="lead"), name="claim_one_lead"
            ),
            models.UniqueConstraint(
                fields=["data_request", "part"], condition=Q(status="active", role="participant"),
                name="claim_part_once",
            ),
        ]

    def __str__(self):
        return f"{self.volunteer} → {self.data_request}"


class Result(models.Model):
    """A post marked as a result: what was found, where to reproduce it, under which license."""

    data_request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="results")
    post = models.OneToOneField("forum.Post", on_delete=models.CASCADE, related_name="result")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="results")
    repository_url = models.URLField(_("repository or archive"), max_length=500)
    license = models.CharField(_("license (SPDX)"), max_length=100)
    repository_license = models.CharField(
        _("code license of the repository (SPDX)"), max_length=100, blank=True,
        help_text=_("As declared by the result's author; empty for results delivered before it was asked."),
    )
    created_at = models.DateTimeField(default=timezone.now)
    accepted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["author", "accepted_at"], name="result_author")]

    def __str__(self):
        return f"Result #{self.post_id} on {self.data_request_id}"

    @property
    def repository_host(self) -> str:
        return link_host_label(self.repository_url)


class ProgressUpdate(models.Model):
    """A post marked as a progress update by a claimant."""

    data_request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="updates")
    post = models.OneToOneField("forum.Post", on_delete=models.CASCADE, related_name="progress_update")
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Update #{self.post_id} on {self.data_request_id}"


class RequestEvent(models.Model):
    """History of a request: who did what, when; written in the transaction that did it."""

    class Kind(models.TextChoices):
        CREATED = "created", _("saved a draft")
        PUBLISHED = "published", _("published the request")
        EDITED = "edited", _("edited the request")
        SENT_TO_ANONYMIZATION = "sent_to_anonymization", _("sent the request to the anonymization team")
        CLEARED = "cleared", _("cleared the data for publication")
        CLAIMED = "claimed", _("claimed the request")
        JOINED = "joined", _("joined as a collaborator")
        UNCLAIMED = "unclaimed", _("gave up their claim")
        RELEASED = "released", _("released a claim")
        EXPIRED = "expired", _("claim expired without updates")
        REMINDED = "reminded", _("was reminded to post an update")
        UPDATED = "updated", _("posted a progress update")
        DELIVERED = "delivered", _("delivered a result")
        RELICENSED = "relicensed", _("changed a license")
        ACCEPTED = "accepted", _("accepted a result")
        WITHDRAWN = "withdrawn", _("withdrew the request")
        CLOSED = "closed", _("closed the request")

    data_request = models.ForeignKey(DataRequest, on_delete=models.CASCADE, related_name="events")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("Empty when the system acted (e.g. a claim expired)."),
    )
    kind = models.CharField(max_length=24, choices=Kind.choices)
    from_state = models.CharField(max_length=12, choices=DataRequest.State.choices, blank=True)
    to_state = models.CharField(max_length=12, choices=DataRequest.State.choices, blank=True)
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text=_("The person acted upon, e.g. whose claim was released."),
    )
    detail = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["data_request", "created_at"], name="request_event_request")]

    def __str__(self):
        return f"{self.data_request_id}: {self.kind}"
