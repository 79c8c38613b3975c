"""Writes about people: roles, terms, profiles, the welcome email."""
from django.conf import settings
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from ..markdown import render_markdown
from ..models import TermsAcceptance, TermsVersion, User
from ..orcid import normalize_orcid
from ..pagecache import invalidate_on_commit
from ..permissions import (
    ROLE_GROUP_NAMES,
    ROLE_PERMISSIONS,
    SELF_SERVICE_ROLES,
    Role,
    check_can_edit_profile,
    check_can_grant_roles,
    check_not_silenced,
)
from .content import screen_fields

# --- Roles ------------------------------------------------------------------------

@transaction.atomic
def roles_sync() -> None:
    """Create the role groups and give each exactly its capabilities. Safe to run often."""
    for role, group_name in ROLE_GROUP_NAMES.items():
        group, _created = Group.objects.get_or_create(name=group_name)
        permissions = Permission.objects.filter(
            content_type__app_label="forum", codename__in=ROLE_PERMISSIONS[role]
        )
        group.permissions.set(permissions)


def _forget_cached_permissions(user: User) -> None:
    user._role_cache = None
    for attr in ("_perm_cache", "_group_perm_cache", "_user_perm_cache", "_access"):
        user.__dict__.pop(attr, None)


@transaction.atomic
def user_set_self_service_roles(*, user: User, roles) -> None:
    """Make `user` hold exactly the self-service roles in `roles` (requester, volunteer).

    Roles granted by staff are left as they are.
    """
    roles = {Role(role) for role in roles}
    if not roles <= set(SELF_SERVICE_ROLES):
        raise ValidationError(_("You can choose only the requester and volunteer roles yourself."))
    groups = Group.objects.in_bulk([ROLE_GROUP_NAMES[role] for role in SELF_SERVICE_ROLES], field_name="name")
    for role in SELF_SERVICE_ROLES:
        group = groups[ROLE_GROUP_NAMES[role]]
        if role in roles:
            user.groups.add(group)
        else:
            user.groups.remove(group)
    _forget_cached_permissions(user)
    invalidate_on_commit()


@transaction.atomic
def role_grant(*, actor: User | None, user: User, role: Role) -> None:
    """Give `user` any role. Only staff (or the command line, `actor` None) may grant."""
    check_can_grant_roles(actor)
    user.groups.add(Group.objects.get(name=ROLE_GROUP_NAMES[Role(role)]))
    _forget_cached_permissions(user)
    invalidate_on_commit()


# --- Terms ------------------------------------------------------------------------

@transaction.atomic
def terms_accept(*, user: User, terms_version: TermsVersion) -> TermsAcceptance:
    """Record that `user` accepted `terms_version`, the guidelines and the pledge. Idempotent."""
    acceptance, _created = TermsAcceptance.objects.get_or_create(user=user, terms_version=terms_version)
    User.objects.filter(pk=user.pk).update(
        accepted_terms_version=terms_version.version, accepted_terms_at=acceptance.accepted_at
    )
    user.accepted_terms_version = terms_version.version
    user.accepted_terms_at = acceptance.accepted_at
    return acceptance


# --- Profiles ---------------------------------------------------------------------

@transaction.atomic
def user_signup_complete(*, user: User, display_name: str, roles, terms_version: TermsVersion) -> None:
    """Finish a sign-up: profile basics, self-service roles and the accepted terms."""
    user.display_name = display_name.strip()
    user.save(update_fields=["display_name"])
    user_set_self_service_roles(user=user, roles=roles)
    terms_accept(user=user, terms_version=terms_version)


@transaction.atomic
def profile_update(
    *, actor: User, user: User, display_name: str, affiliation: str, orcid: str, bio: str,
    expertise: list[str], roles,
) -> User:
    """Update a profile. Renders the bio once and stores the sanitized HTML.

    Raises ValidationError (by field) for an invalid ORCID iD, bio or tag list.
    """
    check_can_edit_profile(actor, user)
    if actor.pk == user.pk:
        check_not_silenced(actor)  # a bio is writing too
    errors = {}
    if orcid:
        try:
            orcid = normalize_orcid(orcid)
        except ValidationError as error:
            errors["orcid"] = error.messages
    try:
        bio_html = render_markdown(bio)
    except ValidationError as error:
        errors["bio"] = error.messages
    # A bio is public at once and has no review step: what may identify someone is refused, not held.
    if "bio" not in errors and screen_fields({"bio": bio})["hold"]:
        errors["bio"] = [_(
            "Your bio seems to contain something that identifies a person, such as a phone number, an email "
            "address, a date of birth or a street address. Bios are public: please leave it out. People can "
            "reach you through the site."
        )]
    expertise = sorted({tag.strip().lower() for tag in expertise if tag.strip()})
    if len(expertise) > settings.PROFILE_MAX_EXPERTISE_TAGS:
        errors["expertise"] = [
            _("Choose at most %(limit)d expertise tags.") % {"limit": settings.PROFILE_MAX_EXPERTISE_TAGS}
        ]
    if any(len(tag) > 50 for tag in expertise):
        errors.setdefault("expertise", []).append(_("Each tag can have at most 50 characters."))
    if errors:
        raise ValidationError(errors)
    user = User.objects.select_for_update().get(pk=user.pk)
    user.display_name = display_name.strip()
    user.affiliation = affiliation.strip()
    user.orcid = orcid
    user.bio = bio
    user.bio_html = bio_html
    user.full_clean(exclude=["password", "username", "email"])
    user.save(update_fields=["display_name", "affiliation", "orcid", "bio", "bio_html"])
    user.expertise.set(expertise)
    user_set_self_service_roles(user=user, roles=roles)
    invalidate_on_commit()  # names and bios show on cached anonymous pages
    return user


# --- Welcome email ----------------------------------------------------------------

def welcome_email_queue(*, user: User) -> None:
    """Send the welcome email once the current transaction commits."""
    from ..tasks import send_welcome_email

    send_welcome_email.delay_on_commit(user_id=user.pk)


@transaction.atomic
def welcome_email_send(*, user_id: int) -> bool:
    """Send the welcome email unless it was sent already. Locks the user row.

    The row is marked in the same transaction as the send: a failed send leaves
    it unmarked for the retry, and a run after a successful one sends nothing.
    Delivery is at least once: if the worker dies between the SMTP hand-off and
    the commit, the retry sends a second copy (issue 7's outbox narrows this).
    """
    user = User.objects.select_for_update().get(pk=user_id)
    if user.welcome_email_sent_at or not user.email:
        return False
    context = {
        "user": user,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "profile_url": settings.SITE_URL + reverse("forum:profile-edit"),
        "faq_url": settings.SITE_URL + reverse("forum:faq"),
    }
    subject = render_to_string("forum/email/welcome_subject.txt", context).strip()
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string("forum/email/welcome_message.txt", context),
        to=[user.email],
    )
    message.attach_alternative(render_to_string("forum/email/welcome_message.html", context), "text/html")
    message.send()
    user.welcome_email_sent_at = timezone.now()
    user.save(update_fields=["welcome_email_sent_at"])
    return True
