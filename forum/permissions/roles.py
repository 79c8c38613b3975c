"""Roles and who holds them: capabilities, two-factor duty, moderators (global and per category)."""
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from .access import access_for


class Role(models.TextChoices):
    REQUESTER = "requester", _("Requester (life scientist or clinician)")
    VOLUNTEER = "volunteer", _("Volunteer (data scientist or bioinformatician)")
    MODERATOR = "moderator", _("Moderator")
    ANONYMIZATION = "anonymization", _("Anonymization team")


ROLE_GROUP_NAMES = {
    Role.REQUESTER: "Requesters",
    Role.VOLUNTEER: "Volunteers",
    Role.MODERATOR: "Moderators",
    Role.ANONYMIZATION: "Anonymization team",
}

# Capabilities are permission codenames on forum.User (see its Meta).
ROLE_PERMISSIONS = {
    Role.REQUESTER: {"post_request"},
    Role.VOLUNTEER: {"claim_request"},
    Role.MODERATOR: {"moderate", "post_request", "claim_request"},
    Role.ANONYMIZATION: {"triage_anonymization"},
}

# Roles a person may give themselves; the others are granted by staff.
SELF_SERVICE_ROLES = (Role.REQUESTER, Role.VOLUNTEER)

# Roles that see private data or act on others must sign in with two factors.
MFA_REQUIRED_PERMISSIONS = ("forum.moderate", "forum.triage_anonymization")


def user_roles(user) -> frozenset:
    """The roles `user` holds: from groups prefetched on the object (lists of people), else their
    cached access (forum/permissions/access.py)."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_role_cache", None)
    if cached is None:
        prefetched = getattr(user, "_prefetched_objects_cache", {}).get("groups")
        if prefetched is not None:
            names = {group.name for group in prefetched}
        else:
            names = access_for(user).group_names
        cached = frozenset(role for role, group in ROLE_GROUP_NAMES.items() if group in names)
        user._role_cache = cached
    return cached


def can_moderate(user) -> bool:
    """Moderators (and superusers) act on everybody's content."""
    return user.is_authenticated and user.has_perm("forum.moderate")


def requires_mfa(user) -> bool:
    """Whether `user` must have two-factor authentication before using the site."""
    if not user.is_authenticated:
        return False
    # Category moderators may read private categories, so they need a second factor too.
    return any(user.has_perm(p) for p in MFA_REQUIRED_PERMISSIONS) or bool(moderated_category_ids(user))


def can_edit_profile(user, profile_user) -> bool:
    """People edit their own profile; moderators may edit anybody's."""
    return user.is_authenticated and (user.pk == profile_user.pk or can_moderate(user))


def check_can_edit_profile(user, profile_user) -> None:
    if not can_edit_profile(user, profile_user):
        raise PermissionDenied(_("You cannot edit this profile."))


def can_send_moderator_message(user, recipient) -> bool:
    """Moderators write to anybody else; the message arrives as a notification."""
    return can_moderate(user) and user.pk != recipient.pk and recipient.is_active


def check_can_send_moderator_message(user, recipient) -> None:
    if not can_send_moderator_message(user, recipient):
        raise PermissionDenied(_("Only moderators can send messages, and not to themselves."))


def check_can_grant_roles(actor) -> None:
    """Only staff hand out roles; moderator and anonymization team are never self-service.

    `actor` None is the command line (seed_demo, tests), which is trusted.
    """
    if actor is not None and not (actor.is_authenticated and actor.is_staff):
        raise PermissionDenied(_("Only staff can grant roles."))


def moderated_category_ids(user) -> frozenset:
    """Ids of categories `user` moderates as a category moderator (subcategories included)."""
    if not user.is_authenticated:
        return frozenset()
    return access_for(user).moderated_category_ids


def group_category_ids(user) -> frozenset:
    """Ids of categories one of `user`'s groups belongs to (who may post in read-only and private ones)."""
    if not user.is_authenticated:
        return frozenset()
    return access_for(user).group_category_ids


def can_moderate_category(user, category) -> bool:
    """Global moderators, and the category's own moderators (a parent's moderators included)."""
    return can_moderate(user) or category.pk in moderated_category_ids(user)


def can_moderate_topic(user, topic) -> bool:
    return can_moderate(user) or topic.category_id in moderated_category_ids(user)


def check_can_moderate_topic(user, topic) -> None:
    if not can_moderate_topic(user, topic):
        raise PermissionDenied(_("Only moderators can do this."))


def _moderators_q() -> Q:
    """People who hold the moderate capability (superusers, through a group, or directly), as a
    filter on users: `can_moderate` for many people in one query."""
    moderate = {"codename": "moderate", "content_type__app_label": "forum"}
    return (
        Q(is_superuser=True)
        | Q(**{f"groups__permissions__{k}": v for k, v in moderate.items()})
        | Q(**{f"user_permissions__{k}": v for k, v in moderate.items()})
    )


def role_holders_q(role) -> Q:
    """People who hold `role` through its group, as a filter on users (superusers are not
    counted: they hold no role unless given it)."""
    return Q(groups__name=ROLE_GROUP_NAMES[role])


def triagers_q() -> Q:
    """People granted the anonymization team's capability, through a group or directly, as a
    filter on users; superusers are not counted (they are not told of every personal-data flag)."""
    from django.contrib.auth.models import Permission

    perm = Permission.objects.filter(content_type__app_label="forum", codename="triage_anonymization")
    return Q(groups__permissions__in=perm) | Q(user_permissions__in=perm)


def can_approve_own_personal_data(user) -> bool:
    """Superusers alone may publish, from the review queue, text about personal data that they
    wrote or proposed themselves; everybody else needs a second person to check it."""
    return user.is_superuser


def is_new_member(user) -> bool:
    """Trust level 0 and not a moderator: the limits for new accounts apply."""
    return user.is_authenticated and user.trust_level == 0 and not can_moderate(user)
