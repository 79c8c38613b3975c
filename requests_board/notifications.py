"""The notifications the requests board sends, declared to the forum (see forum/notifications.py)."""
from django.utils.translation import gettext_lazy as _

from forum.notifications import Delivery, NotificationKind


class NoticeKind:
    CLAIMED = "claimed"
    CLAIM_REMINDER = "claim_reminder"
    CLAIM_EXPIRED = "claim_expired"
    CLAIM_RELEASED = "claim_released"
    REQUEST_UPDATE = "request_update"
    RESULT_DELIVERED = "result_delivered"
    RESULT_ACCEPTED = "result_accepted"
    REQUEST_ENDED = "request_ended"
    LICENSE_HELD = "license_held"
    LICENSE_RELEASED = "license_released"


NOTIFICATION_KINDS = [
    NotificationKind(
        NoticeKind.CLAIMED, _("A volunteer claims your request"), _("%(actor)s claimed your request “%(title)s”"),
        explanation=_("A volunteer claimed your request. You can follow their progress in the discussion."),
        group="requests",
    ),
    NotificationKind(
        NoticeKind.REQUEST_UPDATE, _("Progress updates on requests you asked or watch"),
        _("%(actor)s posted a progress update on “%(title)s”"), group="requests",
    ),
    NotificationKind(
        NoticeKind.RESULT_DELIVERED, _("Results on requests you asked or watch"),
        _("%(actor)s delivered a result for “%(title)s”"),
        explanation=_("A volunteer delivered a result. If it answers the question, the requester can accept it "
                      "in the discussion."),
        group="requests",
    ),
    NotificationKind(
        NoticeKind.RESULT_ACCEPTED, _("Your result is accepted"), _("Your result for “%(title)s” was accepted"),
        explanation=_("The requester accepted your result. Thank you!"), group="requests",
    ),
    NotificationKind(
        NoticeKind.CLAIM_REMINDER, _("Reminders about your quiet claims"),
        _("Reminder: please post an update on “%(title)s”"),
        explanation=_("You claimed this request but have not posted an update for a while. Please post a short "
                      "progress update, or give up the claim so someone else can help. If you stay quiet, the "
                      "claim will be released."),
        group="requests",
    ),
    NotificationKind(
        NoticeKind.CLAIM_EXPIRED, _("Your claim is released"), _("Your claim on “%(title)s” was released"),
        explanation=_("Your claim on this request was released. Thank you for your help so far; you can claim it "
                      "again if you pick it up."),
        group="requests",
    ),
    NotificationKind(
        NoticeKind.CLAIM_RELEASED, _("A claim on a request you asked or watch is released"),
        _("A claim on “%(title)s” was released"),
        explanation=_("A claim on this request was released after a long time without updates. The request may "
                      "need a new volunteer."),
        email_default=Delivery.DIGEST, group="requests",
    ),
    NotificationKind(
        NoticeKind.REQUEST_ENDED, _("A request you claimed ends"), _("“%(title)s” was withdrawn or closed"),
        explanation=_("A request you had claimed was withdrawn or closed; your claim has ended."), group="requests",
    ),
    NotificationKind(
        NoticeKind.LICENSE_HELD, _("Your item is held for its license"),
        _("Held for its license: your item on “%(title)s”"),
        explanation=_("A license you gave on this request does not follow the site's licensing policy, so the item "
                      "is held: only you and the moderators see it, it cannot be accepted and it is left out of "
                      "digests and exports. Open the request to read what to fix; once fixed, it is released "
                      "automatically."),
        group="requests",
    ),
    NotificationKind(
        NoticeKind.LICENSE_RELEASED, _("Your item is released after a license fix"),
        _("Released: the license of your item on “%(title)s” is fixed"),
        explanation=_("The license is fixed: your item follows the licensing policy and everybody who reads the "
                      "request sees it again. Thank you!"),
        group="requests",
    ),
]
