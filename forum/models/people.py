"""People and the terms they accept."""
from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from taggit.managers import TaggableManager

from ..orcid import validate_orcid


class TrustLevel(models.IntegerChoices):
    """Earned by taking part (forum/services/trust.py); lifts the limits new accounts start with."""

    NEW = 0, _("new")
    BASIC = 1, _("basic")
    MEMBER = 2, _("member")
    REGULAR = 3, _("regular")


class User(AbstractUser):
    """A person. Profile fields live here so a page needs no extra join for them."""

    display_name = models.CharField(
        _("display name"), max_length=80, blank=True,
        help_text=_("How others see you, e.g. “Dr. Jane Testpatient”."),
    )
    affiliation = models.CharField(
        _("affiliation"), max_length=200, blank=True,
        help_text=_("Your hospital, university, lab or company."),
    )
    orcid = models.CharField(
        _("ORCID iD"), max_length=19, blank=True, validators=[validate_orcid],
        help_text=_("Optional. 16 characters, e.g. 0000-0002-1825-0097."),
    )
    bio = models.TextField(_("about you"), blank=True)
    bio_html = models.TextField(editable=False, blank=True)
    expertise = TaggableManager(
        verbose_name=_("expertise"), blank=True,
        help_text=_("Comma-separated, e.g. genomics, imaging, statistics."),
    )
    accepted_terms_version = models.CharField(max_length=40, blank=True, editable=False)
    accepted_terms_at = models.DateTimeField(null=True, blank=True, editable=False)
    welcome_email_sent_at = models.DateTimeField(null=True, blank=True, editable=False)
    trust_level = models.PositiveSmallIntegerField(
        _("trust level"), choices=TrustLevel.choices, default=TrustLevel.NEW, editable=False,
    )
    # A moderator fixed the level: activity no longer raises or lowers it.
    trust_level_locked = models.BooleanField(_("trust level locked"), default=False, editable=False)
    silenced_until = models.DateTimeField(null=True, blank=True, editable=False)
    silence_reason = models.CharField(max_length=500, blank=True, editable=False)
    suspended_until = models.DateTimeField(null=True, blank=True, editable=False)
    suspension_reason = models.CharField(max_length=500, blank=True, editable=False)
    # The person deleted their account: the row stays so their posts keep an author, emptied
    # of everything personal (forum/services/privacy.py).
    deleted_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        constraints = [
            models.UniqueConstraint(
                Lower("email"), condition=~models.Q(email=""), name="user_email_ci_unique"
            ),
        ]
        # Role capabilities; which role holds which is decided in forum/permissions.py.
        permissions = [
            ("post_request", _("Can post data requests")),
            ("claim_request", _("Can claim data requests")),
            ("moderate", _("Can moderate the forum")),
            ("triage_anonymization", _("Can triage the anonymization channel")),
        ]

    def __str__(self):
        return self.username

    def get_absolute_url(self):
        return reverse("forum:profile-detail", kwargs={"username": self.username})

    @property
    def name(self) -> str:
        if self.deleted_at is not None:
            return str(_("deleted user"))
        return self.display_name or self.username

    def is_silenced(self, now=None) -> bool:
        return self.silenced_until is not None and self.silenced_until > (now or timezone.now())

    def is_suspended(self, now=None) -> bool:
        return self.suspended_until is not None and self.suspended_until > (now or timezone.now())


class TermsVersion(models.Model):
    """One published version of the Terms of Service, guidelines and pledge.

    The newest published version is the one everybody must have accepted.
    """

    version = models.CharField(
        _("version"), max_length=40, unique=True,
        validators=[RegexValidator(r"^[0-9A-Za-z.\-]+$", _("Use letters, digits, dots and dashes."))],
    )
    published_at = models.DateTimeField(_("published at"), default=timezone.now, db_index=True)
    summary_of_changes = models.TextField(_("summary of changes"), blank=True)
    raw = models.TextField(_("text (Markdown)"), blank=True)
    html = models.TextField(editable=False, blank=True)

    class Meta:
        ordering = ["-published_at"]
        verbose_name = _("terms version")
        verbose_name_plural = _("terms versions")

    def __str__(self):
        return self.version


class TermsAcceptance(models.Model):
    """A record that a person accepted a terms version, the guidelines and the pledge."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="terms_acceptances")
    terms_version = models.ForeignKey(TermsVersion, on_delete=models.PROTECT, related_name="acceptances")
    accepted_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "terms_version"], name="terms_acceptance_once"),
        ]

    def __str__(self):
        return f"{self.user} accepted {self.terms_version}"
