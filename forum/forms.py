"""Forms for sign-up, terms, profiles, topics and posts. They validate input and call services."""
import time

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from . import services
from .identifiers import IdentifierCheckMixin
from .models import ApiToken, DigestSubscription, Flag, NotificationLevel, TrustLevel
from .notifications import Delivery
from .permissions import SELF_SERVICE_ROLES, Role, is_new_member
from .selectors import terms_current
from .services.digests import time_zone_names

# Self-service roles, worded as what the person wants to do here.
ROLE_CHOICES = [
    (Role.REQUESTER.value, _("ask for help with data (life scientist or clinician)")),
    (Role.VOLUNTEER.value, _("help with data analysis (data scientist or bioinformatician)")),
]
assert {value for value, _label in ROLE_CHOICES} == {role.value for role in SELF_SERVICE_ROLES}


class SpamTrapMixin(forms.Form):
    """A field people never see (bots fill every field) and the time the form was shown
    (bots send at once). `spam_trap_active` False turns both off, e.g. for trusted members."""

    homepage = forms.CharField(
        label=_("Leave this field empty"), required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "tabindex": "-1"}),
    )
    shown_at = forms.CharField(required=False, widget=forms.HiddenInput)

    spam_trap_active = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.spam_trap_active:
            del self.fields["homepage"], self.fields["shown_at"]
            return
        stamp = signing.dumps(time.time(), salt="forum.shown_at")
        self.initial["shown_at"] = stamp
        self._posted_shown_at = None
        if self.is_bound:
            # Checked as sent, but a form shown again (after any error) carries a fresh stamp,
            # so the person's next try counts from now.
            key = self.add_prefix("shown_at")
            self._posted_shown_at = self.data.get(key)
            self.data = self.data.copy()
            self.data[key] = stamp

    def clean(self):
        cleaned = super().clean()
        if not self.spam_trap_active:
            return cleaned
        if cleaned.get("homepage"):
            raise ValidationError(_("This form could not be accepted. If you are a person, leave the "
                                    "field “Leave this field empty” empty and send it again."))
        try:
            shown_at = signing.loads(self._posted_shown_at or "", salt="forum.shown_at", max_age=86400)
        except signing.BadSignature:
            shown_at = None
        minimum = settings.FORUM_MIN_FILL_SECONDS
        if minimum and (shown_at is None or time.time() - float(shown_at) < minimum):
            raise ValidationError(_("That was sent very quickly, or the form is too old. Please check it "
                                    "and send it again."))
        return cleaned


class TermsFieldsMixin(forms.Form):
    """The three declarations everybody makes before taking part."""

    accept_terms = forms.BooleanField(
        error_messages={"required": _("You need to accept the Terms of Service to take part.")},
    )
    accept_guidelines = forms.BooleanField(
        error_messages={"required": _("You need to accept the community guidelines to take part.")},
    )
    accept_pledge = forms.BooleanField(
        label=_("I pledge that the work I do here serves mitigating COVID-19."),
        error_messages={"required": _("You need to take the pledge to take part.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Labels with links are built per request, when the language is known.
        self.fields["accept_terms"].label = format_html(
            _('I accept the <a href="{url}" target="_blank">Terms of Service</a>.'),
            url=reverse("forum:terms"),
        )
        self.fields["accept_guidelines"].label = format_html(
            _('I will follow the <a href="{url}" target="_blank">community guidelines</a>: '
              "be constructive and kind, and post only my own material."),
            url=reverse("forum:guidelines"),
        )


class SignupForm(SpamTrapMixin, TermsFieldsMixin, AllauthSignupForm):
    """Allauth's sign-up plus display name, roles and the declarations."""

    display_name = forms.CharField(
        label=_("Display name"), max_length=80, required=False,
        help_text=_("How others see you, e.g. “Dr. Jane Testpatient”. You can change it later."),
    )
    roles = forms.MultipleChoiceField(
        label=_("I am here to"), choices=ROLE_CHOICES, required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Choose one or both. You can change this later in your profile."),
    )

    field_order = [
        "email", "username", "display_name", "password1", "password2", "roles",
        "accept_terms", "accept_guidelines", "accept_pledge",
    ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].help_text = _(
            "Others mention you as @username: 3 to 30 letters, digits or _. You cannot change it later."
        )

    def clean(self):
        cleaned = super().clean()
        if terms_current() is None:
            raise ValidationError(_("Sign-up is closed until the Terms of Service are published."))
        return cleaned

    def signup(self, request, user):
        """Called by allauth once the user row exists, inside its sign-up flow."""
        services.user_signup_complete(
            user=user,
            display_name=self.cleaned_data.get("display_name", ""),
            roles=self.cleaned_data.get("roles", []),
            terms_version=terms_current(),
        )


class TermsAcceptForm(TermsFieldsMixin):
    # The version the person was shown, so they never accept one they have not seen.
    version = forms.CharField(widget=forms.HiddenInput)


class ProfileForm(forms.Form):
    display_name = forms.CharField(label=_("Display name"), max_length=80, required=False)
    affiliation = forms.CharField(
        label=_("Affiliation"), max_length=200, required=False,
        help_text=_("Your hospital, university, lab or company."),
    )
    orcid = forms.CharField(
        label=_("ORCID iD"), max_length=40, required=False,
        help_text=_("Optional. Paste your iD or its link, e.g. 0000-0002-1825-0097."),
    )
    bio = forms.CharField(
        label=_("About you"), required=False, widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("Markdown is supported: **bold**, *italic*, [links](https://example.org)."),
    )
    expertise = forms.CharField(
        label=_("Expertise"), max_length=600, required=False,
        help_text=_("Comma-separated, e.g. genomics, imaging, epidemiology, statistics."),
    )
    roles = forms.MultipleChoiceField(
        label=_("I am here to"), choices=ROLE_CHOICES, required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, actor, user, **kwargs):
        self.actor = actor
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_expertise(self):
        return [tag.strip() for tag in self.cleaned_data["expertise"].split(",") if tag.strip()]

    def save(self):
        """Save through the profile service; its field errors come back onto this form."""
        try:
            return services.profile_update(actor=self.actor, user=self.user, **self.cleaned_data)
        except ValidationError as error:
            if hasattr(error, "error_dict"):
                for field, messages in error.message_dict.items():
                    self.add_error(field if field in self.fields else None, messages)
            else:
                self.add_error(None, error)
            return None


def errors_onto_form(form, error: ValidationError) -> None:
    """Put a service's ValidationError onto the form, by field where it names one."""
    if hasattr(error, "error_dict"):
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
    else:
        form.add_error(None, error)


def _clean_tag_field(value: str) -> list[str]:
    try:
        return services.clean_tags(tag for tag in value.split(",") if tag.strip())
    except ValidationError as error:
        raise ValidationError(error.message_dict["tags"]) from None


_MARKDOWN_HELP = _(
    "Markdown: **bold**, *italic*, [link](https://…), > quote, ``` code ```, tables with | pipes |, "
    "@username to mention someone, #category-slug to link a category."
)


class TopicForm(IdentifierCheckMixin, SpamTrapMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200, help_text=_("One line that says what this is about."))
    category = forms.ModelChoiceField(label=_("Category"), queryset=None, empty_label=None)
    tags = forms.CharField(
        label=_("Tags"), max_length=300, required=False,
        help_text=_("Optional, comma-separated, e.g. imaging, statistics."),
    )
    raw = forms.CharField(
        label=_("Your post"), widget=forms.Textarea(attrs={"rows": 12, "data-preview": "true"}),
        help_text=_MARKDOWN_HELP,
    )

    def __init__(self, *args, actor, categories, **kwargs):
        self.actor = actor
        self.spam_trap_active = is_new_member(actor)  # first posts only
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories

    def clean_tags(self):
        return _clean_tag_field(self.cleaned_data["tags"])

    def save(self):
        try:
            data = self.cleaned_data
            return services.topic_create(
                actor=self.actor, category=data["category"], title=data["title"], raw=data["raw"], tags=data["tags"],
            )
        except ValidationError as error:
            errors_onto_form(self, error)
            return None


class ReplyForm(IdentifierCheckMixin, SpamTrapMixin, forms.Form):
    raw = forms.CharField(
        label=_("Your reply"), widget=forms.Textarea(attrs={"rows": 8, "data-preview": "true"}),
        help_text=_MARKDOWN_HELP,
    )
    reply_to = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def __init__(self, *args, actor, topic, **kwargs):
        self.actor = actor
        self.topic = topic
        self.spam_trap_active = is_new_member(actor)  # first posts only
        super().__init__(*args, **kwargs)

    renders_alike = True  # the same fields for everybody (templatetags/kept_forms.py)

    def save(self):
        try:
            return services.post_create(
                actor=self.actor, topic_id=self.topic.pk, raw=self.cleaned_data["raw"],
                reply_to_number=self.cleaned_data.get("reply_to"),
            )
        except ValidationError as error:
            errors_onto_form(self, error)
            return None


class PostEditForm(IdentifierCheckMixin, forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    tags = forms.CharField(label=_("Tags"), max_length=300, required=False, help_text=_("Comma-separated."))
    raw = forms.CharField(
        label=_("Post"), widget=forms.Textarea(attrs={"rows": 12, "data-preview": "true"}), help_text=_MARKDOWN_HELP,
    )
    reason = forms.CharField(
        label=_("Reason for the edit"), max_length=200, required=False,
        help_text=_("Optional; shown in the revision history."),
    )

    def __init__(self, *args, actor, post, **kwargs):
        self.actor = actor
        self.post = post
        super().__init__(*args, **kwargs)
        if post.number != 1:
            del self.fields["title"]
            del self.fields["tags"]

    def clean_tags(self):
        return _clean_tag_field(self.cleaned_data["tags"])

    def save(self):
        data = self.cleaned_data
        try:
            with transaction.atomic():
                post = services.post_edit(
                    actor=self.actor, post_id=self.post.pk, raw=data["raw"], title=data.get("title"),
                    reason=data.get("reason", ""),
                )
                if "tags" in data:
                    services.topic_set_tags(actor=self.actor, topic_id=self.post.topic_id, tags=data["tags"])
                return post
        except ValidationError as error:
            errors_onto_form(self, error)
            return None


class BookmarkForm(forms.Form):
    note = forms.CharField(
        label=_("Note"), max_length=300, required=False, help_text=_("Optional: why you bookmarked this."),
    )


class MoveTopicForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Move to category"), queryset=None, empty_label=None)

    def __init__(self, *args, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].queryset = categories


class NotificationLevelForm(forms.Form):
    level = forms.TypedChoiceField(
        label=_("Notifications"), coerce=int, choices=NotificationLevel.choices,
    )


class NotificationSettingsForm(forms.Form):
    """The digest's schedule and, per kind of notification, how to hear about it by email."""

    frequency = forms.ChoiceField(label=_("Digest"), choices=DigestSubscription.Frequency.choices)
    weekday = forms.TypedChoiceField(
        label=_("Day (weekly digests)"), choices=DigestSubscription.Weekday.choices, coerce=int)
    hour = forms.TypedChoiceField(
        label=_("Hour"), choices=[(h, f"{h:02d}:00") for h in range(24)], coerce=int)
    time_zone = forms.ChoiceField(label=_("Time zone"))

    def __init__(self, *args, user, current: dict, **kwargs):
        subscription = current["subscription"]
        initial = {
            "frequency": subscription.frequency if subscription else DigestSubscription.Frequency.OFF,
            "weekday": subscription.weekday if subscription else 0,
            "hour": subscription.hour if subscription else 8,
            "time_zone": subscription.time_zone if subscription else "UTC",
        }
        for row in current["kinds"]:
            initial[f"kind_{row['kind'].name}"] = row["delivery"]
        super().__init__(*args, initial=initial, **kwargs)
        self.user = user
        self.fields["time_zone"].choices = [(name, name) for name in time_zone_names()]
        self.kind_fields = []
        for row in current["kinds"]:
            kind = row["kind"]
            name = f"kind_{kind.name}"
            self.fields[name] = forms.ChoiceField(
                label=kind.label, choices=Delivery.choices, widget=forms.RadioSelect)
            self.kind_fields.append(name)

    def schedule_fields(self):
        return [self[name] for name in ("frequency", "weekday", "hour", "time_zone")]

    def kind_bound_fields(self):
        return [self[name] for name in self.kind_fields]

    def save(self):
        data = self.cleaned_data
        return services.notification_settings_update(
            user=self.user, frequency=data["frequency"], weekday=data["weekday"], hour=data["hour"],
            tz=data["time_zone"], deliveries={name[len("kind_"):]: data[name] for name in self.kind_fields},
        )


class NewsletterForm(forms.Form):
    email = forms.EmailField(label=_("Your email address"), max_length=254)


class ModeratorMessageForm(forms.Form):
    text = forms.CharField(label=_("Message"), max_length=200, widget=forms.Textarea(attrs={"rows": 2}))


# --- Moderation -------------------------------------------------------------------

class FlagForm(forms.Form):
    reason = forms.ChoiceField(
        label=_("What is wrong with this post?"), choices=Flag.Reason.choices, widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("Note for the moderators"), max_length=500, required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Optional, except for “Something else”. Moderators read it; the poster does not."),
    )


class ReviewEditForm(forms.Form):
    title = forms.CharField(label=_("Title"), max_length=200)
    raw = forms.CharField(
        label=_("Post text"), widget=forms.Textarea(attrs={"rows": 10}),
        help_text=_("Remove what identifies a person, then save; approve afterwards. Earlier versions of a "
                    "post flagged for personal data are hidden when it is approved."),
    )
    reason = forms.CharField(label=_("Reason for the edit"), max_length=200, required=False)

    def __init__(self, *args, first_post: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not first_post:
            del self.fields["title"]


class RestrictionForm(forms.Form):
    days = forms.IntegerField(label=_("For how many days"), min_value=1, max_value=3650, initial=7)
    reason = forms.CharField(
        label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("The person sees this."),
    )


class TrustLevelForm(forms.Form):
    level = forms.TypedChoiceField(label=_("Trust level"), choices=TrustLevel.choices, coerce=int)
    locked = forms.BooleanField(
        label=_("Lock this level: activity no longer changes it"), required=False,
    )
    reason = forms.CharField(label=_("Reason"), max_length=500, required=False)


class SpammerForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"), max_length=500, required=False,
        help_text=_("Their account is deactivated and every post and topic of theirs deleted; "
                    "you can undo this from the moderation log."),
    )


class AccountDeleteForm(forms.Form):
    confirm_username = forms.CharField(
        label=_("Type your username to confirm"), max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )


class ApiTokenForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100,
        help_text=_("What the token is for, e.g. “weekly dashboard”, so you recognise it later."),
    )
    scope = forms.ChoiceField(
        label=_("Access"), choices=ApiToken.Scope.choices, initial=ApiToken.Scope.READ, widget=forms.RadioSelect,
        help_text=_("A token acts as you: give a script only the access it needs."),
    )
