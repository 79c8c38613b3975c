"""A person's own data: download everything they posted, or delete their account.

Deleting keeps the person's row so their posts keep an author, shown as "deleted user";
everything personal on it and around it is erased. Other apps add their part through
the `personal_data` and `personal_data_erase` hooks (forum/hooks.py). Both actions
are written to the moderation log.
"""
import io
import json
import re
import secrets
import zipfile

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import hooks
from ..models import (
    ApiToken,
    Bookmark,
    Category,
    CategoryNotificationSetting,
    DigestSubscription,
    EmailPreference,
    Flag,
    MailboxStatus,
    ModerationLogEntry,
    Notification,
    OutboundEmail,
    Post,
    PostLike,
    PostRevision,
    TagNotificationSetting,
    TermsAcceptance,
    Topic,
    TopicNotificationSetting,
    TopicRead,
    User,
)
from ..pagecache import invalidate_on_commit
from ..permissions import user_roles
from .moderation import moderation_log
from .notifications import bell_changed_on_commit

EXPORT_FORMAT_VERSION = 1


def _profile(user: User) -> dict:
    return {
        "username": user.username,
        "email": user.email,
        "display_name": user.display_name,
        "affiliation": user.affiliation,
        "orcid": user.orcid,
        "bio": user.bio,
        "expertise": sorted(tag.name for tag in user.expertise.all()),
        "roles": sorted(str(role) for role in user_roles(user)),
        "date_joined": user.date_joined,
        "last_login": user.last_login,
        "trust_level": user.trust_level,
        "email_addresses": list(EmailAddress.objects.filter(user=user).values("email", "verified", "primary")),
        "linked_accounts": list(SocialAccount.objects.filter(user=user).values("provider", "uid", "date_joined")),
        "terms_accepted": [
            {"version": a.terms_version.version, "accepted_at": a.accepted_at}
            for a in TermsAcceptance.objects.filter(user=user).select_related("terms_version")
        ],
        "email_preferences": list(EmailPreference.objects.filter(user=user).values("kind", "delivery")),
        "digest_subscriptions": list(
            DigestSubscription.objects.filter(Q(user=user) | (Q(email__iexact=user.email) if user.email else Q()))
            .values("email", "frequency", "weekday", "hour", "time_zone", "confirmed_at", "unsubscribed_at")
        ),
        "bookmarks": list(Bookmark.objects.filter(user=user).values("post_id", "note", "created_at")),
        "api_tokens": list(ApiToken.objects.filter(user=user).values(
            "name", "scope", "prefix", "created_at", "last_used_at", "revoked_at")),
        "likes_given": list(PostLike.objects.filter(user=user).values("post_id", "created_at")),
        "flags": list(Flag.objects.filter(flagger=user).values("post_id", "reason", "note", "created_at", "outcome")),
    }


def _posts(user: User) -> list[dict]:
    """Every post `user` wrote, with the versions they wrote themselves (none that a moderator
    hid for redaction), and the titles of the topics they started; nobody else's text."""
    posts = list(
        Post.objects.filter(author=user).select_related("topic").order_by("created_at", "pk")
    )
    own_revisions: dict[int, list] = {}
    revisions = PostRevision.objects.filter(post__author=user, editor=user, hidden=False).order_by("post", "number")
    for revision in revisions:
        own_revisions.setdefault(revision.post_id, []).append(
            {"number": revision.number, "created_at": revision.created_at, "text": revision.raw,
             **({"title": revision.title} if revision.title else {})}
        )
    items = []
    for post in posts:
        started = post.number == 1
        items.append({
            "id": post.pk,
            "topic_id": post.topic_id,
            "topic_title": post.topic.title if started else None,
            "number": post.number,
            "created_at": post.created_at,
            "edited_at": post.edited_at,
            "deleted": post.deleted_at is not None,
            # What others flagged as identifying a patient is not handed out again, even to its author.
            "text": post.raw if post.hidden != Post.Hidden.PERSONAL_DATA else "",
            "versions": own_revisions.get(post.pk, []) if post.hidden != Post.Hidden.PERSONAL_DATA else [],
        })
    return items


def _markdown(item: dict) -> str:
    lines = ["---", f"post: {item['id']}", f"topic: {item['topic_id']}", f"number: {item['number']}",
             f"created: {item['created_at'].isoformat()}"]
    if item["topic_title"]:
        lines.append("title: " + json.dumps(item["topic_title"], ensure_ascii=False))
    if item["deleted"]:
        lines.append("deleted: true")
    lines += ["---", "", item["text"], ""]
    return "\n".join(lines)


@transaction.atomic
def personal_data_export(*, actor: User) -> bytes:
    """A zip of everything `actor` posted and their profile data (JSON, and each post as Markdown).

    Written to the moderation log. Other apps add sections through `personal_data`.
    """
    if not actor.is_authenticated or actor.deleted_at is not None:
        raise PermissionDenied(_("Sign in to download your data."))
    posts = _posts(actor)
    data = {
        "format_version": EXPORT_FORMAT_VERSION,
        "exported_at": timezone.now(),
        "profile": _profile(actor),
        **hooks.personal_data(user=actor),
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("profile.json", json.dumps(data, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
        archive.writestr("posts.json", json.dumps(posts, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False))
        for item in posts:
            archive.writestr(f"posts/{item['topic_id']}-{item['number']}.md", _markdown(item))
        archive.writestr("README.txt", _(
            "Your data from this help desk.\n\nprofile.json: your profile, settings and what you did.\n"
            "posts.json: every post you wrote, with the versions you wrote.\n"
            "posts/: each post as a Markdown file, named <topic>-<number>.md.\n"
        ))
    moderation_log(actor=actor, action=ModerationLogEntry.Action.DATA_EXPORTED, target_user=actor,
                   detail={"posts": len(posts)})
    return buffer.getvalue()


def _names_of(user: User) -> set[str]:
    """Every name `user` went by that other people's notifications and emails may carry: their
    current names, and the names stored on notifications they caused alone (older display names)."""
    names = {user.username, user.display_name}
    for actor_names in Notification.objects.filter(actor=user, count=1).values_list("actor_names", flat=True):
        names.update(actor_names[:1])
    return {name for name in names if name}


def _forget_sessions(user: User) -> None:
    """End every session of `user` (database and cache): they hold their sign-in records."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.sessions.models import Session

    store = import_module(settings.SESSION_ENGINE).SessionStore
    for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator():
        if str(session.get_decoded().get("_auth_user_id")) == str(user.pk):
            store(session_key=session.session_key).delete()


def _scrub_names(user: User, names: set[str]) -> None:
    """Write "deleted user" for `names` in other people's notifications and in the emails owed or
    sent to them that tell what `user` did (the person's own are deleted with their account)."""
    from django.db.models import TextField
    from django.db.models.functions import Cast
    from django.utils.html import escape

    placeholder = str(_("deleted user"))
    found = Q(actor=user)
    texts = Notification.objects.annotate(names_text=Cast("actor_names", output_field=TextField()))
    for name in names:
        found |= Q(names_text__contains=name) | Q(names_text__contains=json.dumps(name)[1:-1])
    notification_ids = []
    for notification in texts.filter(found).exclude(user=user).only("pk", "actor_names"):
        renamed = [placeholder if name in names else name for name in notification.actor_names]
        if renamed != notification.actor_names:
            Notification.objects.filter(pk=notification.pk).update(actor_names=renamed)
        notification_ids.append(notification.pk)
    display_names = {name for name in names if len(name) >= 4}
    mentioned = Q(notification_id__in=notification_ids)
    for name in display_names:
        mentioned |= Q(kind="digest", text_body__contains=name)
    def replace(text: str, name: str, by: str) -> str:  # whole words only: "Ana" is not in "Analysis"
        return re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", lambda _match: by, text)

    for email in OutboundEmail.objects.filter(mentioned).exclude(user=user):
        subject, text_body, html_body = email.subject, email.text_body, email.html_body
        for name in sorted(names, key=len, reverse=True):
            subject = replace(subject, name, placeholder)
            text_body = replace(text_body, name, placeholder)
            html_body = replace(replace(html_body, escape(name), escape(placeholder)), name, placeholder)
        OutboundEmail.objects.filter(pk=email.pk).update(subject=subject, text_body=text_body, html_body=html_body)


@transaction.atomic
def account_delete(*, actor: User, confirm_username: str) -> User:
    """Delete `actor`'s own account: erase every personal field, keep their posts under
    "deleted user". Locks the person row. Not reversible.
    """
    user = User.objects.select_for_update().get(pk=actor.pk)
    if user.deleted_at is not None:
        raise ValidationError(_("This account is already deleted."))
    if confirm_username.strip() != user.username:
        raise ValidationError({"confirm_username": _("Type your username exactly to confirm.")})
    addresses = {user.email.lower()} | {e.lower() for e in EmailAddress.objects.filter(user=user)
                                        .values_list("email", flat=True)}
    addresses.discard("")
    names = _names_of(user)
    user_content_type = ContentType.objects.get_for_model(User)
    _forget_sessions(user)
    _scrub_names(user, names)
    # Around the person: sign-in, preferences, reading state, mail to or about them.
    EmailAddress.objects.filter(user=user).delete()
    SocialAccount.objects.filter(user=user).delete()
    Authenticator.objects.filter(user=user).delete()
    Notification.objects.filter(user=user).delete()
    bell_changed_on_commit([user.pk])
    EmailPreference.objects.filter(user=user).delete()
    subscriptions = Q(user=user)
    emails = Q(user=user)
    for address in addresses:
        subscriptions |= Q(email__iexact=address)
        emails |= Q(to__iexact=address)
        MailboxStatus.objects.filter(email__iexact=address).delete()
    DigestSubscription.objects.filter(subscriptions).delete()
    OutboundEmail.objects.filter(emails).delete()
    Bookmark.objects.filter(user=user).delete()
    ApiToken.objects.filter(user=user).delete()
    TopicRead.objects.filter(user=user).delete()
    TopicNotificationSetting.objects.filter(user=user).delete()
    CategoryNotificationSetting.objects.filter(user=user).delete()
    TagNotificationSetting.objects.filter(user=user).delete()
    for moderated in Category.objects.filter(moderators=user):
        moderated.moderators.remove(user)
    LogEntry.objects.filter(content_type=user_content_type, object_id=str(user.pk)).update(
        object_repr=str(_("deleted user"))
    )
    hooks.personal_data_erase(user=user)
    # The person themselves.
    user.username = f"deleted-{user.pk}-{secrets.token_hex(3)}"
    user.email = ""
    user.first_name = user.last_name = ""
    user.display_name = user.affiliation = user.orcid = user.bio = user.bio_html = ""
    user.set_unusable_password()
    user.is_active = user.is_staff = user.is_superuser = False
    user.last_login = None
    user.silenced_until = user.suspended_until = None
    user.silence_reason = user.suspension_reason = ""
    user.deleted_at = timezone.now()
    user.save()
    user.expertise.clear()
    user.groups.clear()
    user.user_permissions.clear()
    moderation_log(actor=user, action=ModerationLogEntry.Action.ACCOUNT_DELETED, target_user=user,
                   detail={"posts": Post.objects.filter(author=user).count(),
                           "topics": Topic.objects.filter(author=user).count()})
    invalidate_on_commit()  # their name shows on cached pages
    return user
