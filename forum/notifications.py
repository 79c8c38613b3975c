"""What people can be notified about: every kind, its wording and its default email delivery.

The forum declares its own kinds here; other apps add theirs through the
`notification_kinds()` hook of their forum hook module (forum/hooks.py),
so the forum never imports them. A kind's wording never names private content:
the notification stores only what its `sentence` needs, and private kinds
(e.g. a decision about an upload) store no title at all.
"""
from dataclasses import dataclass
from functools import cache

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext


class Delivery(models.TextChoices):
    IMMEDIATELY = "immediately", _("Email me at once")
    DIGEST = "digest", _("Put it in my digest")
    NEVER = "never", _("Only on the site")


@dataclass(frozen=True)
class NotificationKind:
    name: str
    label: str  # for the preferences page, e.g. "Replies to your posts"
    sentence: str  # %(actor)s and %(title)s are filled in; lazy, translated when shown
    email_default: str = Delivery.IMMEDIATELY
    explanation: str = ""  # an email's first paragraph, when the sentence is not enough
    group: str = "forum"

    def describe(self, *, actor: str, title: str, count: int = 1) -> str:
        """The one-line text shown in the list and used as the email subject; an empty title
        (something the person may not read) reads as "a private topic"."""
        title = title or str(_("a private topic"))
        if count > 1 and self.name == LIKED:
            return ngettext(
                "%(actor)s and %(others)d other liked your post in “%(title)s”",
                "%(actor)s and %(others)d others liked your post in “%(title)s”",
                count - 1,
            ) % {"actor": actor, "others": count - 1, "title": title}
        return str(self.sentence) % {"actor": actor or _("Someone"), "title": title}


REPLIED, MENTIONED, QUOTED, POSTED, LIKED, MODERATOR_MESSAGE = (
    "replied", "mentioned", "quoted", "posted", "liked", "moderator_message",
)
# Emails that are not notifications, for the unsubscribe tokens and the outbox.
DIGEST = "digest"
NEWSLETTER_CONFIRM = "newsletter_confirm"

FORUM_KINDS = [
    NotificationKind(REPLIED, _("Replies to your posts and topics"), _("%(actor)s replied in “%(title)s”")),
    NotificationKind(MENTIONED, _("Mentions of your @name"), _("%(actor)s mentioned you in “%(title)s”")),
    NotificationKind(QUOTED, _("Quotes of your posts"), _("%(actor)s quoted you in “%(title)s”")),
    NotificationKind(
        POSTED, _("New posts in topics and categories you watch"), _("%(actor)s posted in “%(title)s”"),
        email_default=Delivery.DIGEST,
    ),
    NotificationKind(
        LIKED, _("Likes of your posts"), _("%(actor)s liked your post in “%(title)s”"),
        email_default=Delivery.NEVER,
    ),
    NotificationKind(
        MODERATOR_MESSAGE, _("Messages from moderators"), _("A moderator sent you a message: “%(title)s”"),
        explanation=_("A moderator of the site wrote to you. Open the message to read it and reply."),
    ),
]

FLAG_AGREED, FLAG_DISAGREED, PERSONAL_DATA_FLAGGED = "flag_agreed", "flag_disagreed", "personal_data_flagged"
POST_HIDDEN, POST_APPROVED, POST_REJECTED, POST_REMOVED = (
    "post_hidden", "post_approved", "post_rejected", "post_removed",
)
PERSONAL_DATA_HELD, POST_HELD_IDENTIFYING = "personal_data_held", "post_held_identifying"
POST_CLEARED, POST_NOT_CLEARED, EDIT_NOT_CLEARED = "post_cleared", "post_not_cleared", "edit_not_cleared"
ACCOUNT_SILENCED, ACCOUNT_SUSPENDED = "account_silenced", "account_suspended"

MODERATION_KINDS = [
    NotificationKind(
        FLAG_AGREED, _("Outcome of posts you flagged"),
        _("Moderators agreed with your flag on a post in “%(title)s” and acted on it"),
        email_default=Delivery.DIGEST, group="moderation",
    ),
    NotificationKind(
        FLAG_DISAGREED, _("Outcome of posts you flagged, when the post stays"),
        _("A moderator reviewed the post you flagged in “%(title)s” and kept it"),
        email_default=Delivery.DIGEST, group="moderation",
    ),
    NotificationKind(
        PERSONAL_DATA_FLAGGED, _("Posts flagged as containing personal data (anonymization team)"),
        _("A post was flagged as containing personal data and is hidden until reviewed"),
        explanation=_("Please review it in the review queue: edit out what identifies a person, then approve, "
                      "or keep it hidden."),
        group="moderation",
    ),
    NotificationKind(
        PERSONAL_DATA_HELD, _("Posts that may identify a patient, held when written (anonymization team)"),
        _("A post or an edit may identify a patient and waits for the anonymization team"),
        explanation=_("The identifier check held it before anyone else saw it. Please review it in the review "
                      "queue: clear it if nothing identifies a patient, or edit out what does and then clear it, "
                      "or reject it."),
        group="moderation",
    ),
    NotificationKind(
        POST_HELD_IDENTIFYING, _("Your posts held because they may identify a patient"),
        _("Your post in “%(title)s” waits for the anonymization team: it may identify a patient"),
        explanation=_("It looks like it holds something that identifies a patient, such as a name with a date "
                      "of birth, a phone number or a record number. Only you and the anonymization team can see "
                      "it until they check it. If the identifier should not be there, edit your post to remove "
                      "it; the team will then publish it."),
        group="moderation",
    ),
    NotificationKind(
        POST_CLEARED, _("Your held posts checked and published"),
        _("The anonymization team checked your post in “%(title)s”; it is published now"),
        explanation=_("If they removed something that could identify a patient, the published text shows their "
                      "edit, and your earlier version is kept only for moderators."),
        group="moderation",
    ),
    NotificationKind(
        POST_NOT_CLEARED, _("Your held posts not published"),
        _("The anonymization team did not publish your post in “%(title)s”: it may identify a patient"),
        explanation=_("Please write it again without names, dates of birth, contact details or record numbers "
                      "of patients. If you think the check was wrong, reply in the topic or write to a moderator."),
        group="moderation",
    ),
    NotificationKind(
        EDIT_NOT_CLEARED, _("Your held edits not published"),
        _("The anonymization team did not publish your edit of a post in “%(title)s”; the earlier text stays"),
        explanation=_("Your edit may identify a patient. Please edit the post again without names, dates of "
                      "birth, contact details or record numbers of patients."),
        group="moderation",
    ),
    NotificationKind(
        POST_HIDDEN, _("Your posts hidden for review"),
        _("Your post in “%(title)s” is hidden until a moderator reviews it"),
        explanation=_("People flagged it. A moderator will look at it soon; you can still edit it."),
        group="moderation",
    ),
    NotificationKind(
        POST_APPROVED, _("Your posts approved"), _("A moderator approved your post in “%(title)s”"),
        group="moderation",
    ),
    NotificationKind(
        POST_REJECTED, _("Your posts not published"), _("A moderator did not publish your post in “%(title)s”"),
        group="moderation",
    ),
    NotificationKind(
        POST_REMOVED, _("Your posts removed after review"),
        _("A moderator removed your post in “%(title)s” after review"), group="moderation",
    ),
    NotificationKind(
        ACCOUNT_SILENCED, _("Limits on your account"), _("A moderator silenced you: “%(title)s”"),
        explanation=_("You can read but not post until the silence ends."), group="moderation",
    ),
    NotificationKind(
        ACCOUNT_SUSPENDED, _("Suspension of your account"), _("A moderator suspended your account: “%(title)s”"),
        explanation=_("You cannot use the site until the suspension ends."), group="moderation",
    ),
]

# When one post concerns a person in several ways, they hear once, about the most specific.
POST_KIND_PRIORITY = (QUOTED, MENTIONED, REPLIED, POSTED)


@cache
def notification_kinds() -> dict[str, NotificationKind]:
    """Every kind by name: the forum's, then those other apps declare."""
    from .hooks import FORUM

    kinds = {kind.name: kind for kind in FORUM_KINDS + MODERATION_KINDS}
    for hook in FORUM.providers("notification_kinds"):
        for kind in hook():
            kinds[kind.name] = kind
    return kinds


def kind_get(name: str) -> NotificationKind:
    """The kind called `name`; an unknown (e.g. retired) kind gets a neutral wording."""
    return notification_kinds().get(name) or NotificationKind(
        name, _("Other notifications"), _("Something needs your attention: “%(title)s”"),
    )
