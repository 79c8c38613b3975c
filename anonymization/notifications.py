"""The notifications the anonymization app sends, declared to the forum (see forum/notifications.py).

They say only that there is something to read, with a link to the file's private page:
never a file name, a title, a finding or a message, in the list or in an email.
"""
from django.utils.translation import gettext_lazy as _

from forum.notifications import NotificationKind


class ReviewKind:
    WAITING = "review_waiting"
    MESSAGE = "review_message"
    DECIDED = "review_decided"


NOTIFICATION_KINDS = [
    NotificationKind(
        ReviewKind.WAITING, _("A file waits for review (anonymization team)"), _("A file waits for your review"),
        explanation=_("A file was uploaded that may identify a patient. Please review it on the site."),
        group="anonymization",
    ),
    NotificationKind(
        ReviewKind.MESSAGE, _("Messages about a file under review"), _("A new message about a file under review"),
        explanation=_("There is a new private message about a file under review. Sign in to read it."),
        group="anonymization",
    ),
    NotificationKind(
        ReviewKind.DECIDED, _("Decisions about your files"), _("A decision was made about your file"),
        explanation=_("The anonymization team decided about a file you uploaded. Sign in to read the decision."),
        group="anonymization",
    ),
]
