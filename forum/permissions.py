"""Roles, and every rule about who may see or do what in the forum.

Roles are Django groups holding the capability permissions declared on
forum.User. This module is the one place that says which role holds which
capability; views, templates and services ask the functions here.
"""
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _


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
    """The roles `user` holds, read once per request and cached on the user object."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_role_cache", None)
    if cached is None:
        names = {group.name for group in user.groups.all()}  # uses prefetched groups when present
        cached = frozenset(role for role, group in ROLE_GROUP_NAMES.items() if group in names)
        user._role_cache = cached
    return cached




def can_moderate(user) -> bool:
    """Moderators (and superusers) act on everybody's content."""
    return user.is_authenticated and user.has_perm("forum.moderate")




def requires_mfa(user) -> bool:
    """Whether `user` must have two-factor authentication before using the site."""
    return user.is_authenticated and any(user.has_perm(p) for p in MFA_REQUIRED_PERMISSIONS)


def can_edit_profile(user, profile_user) -> bool:
    """People edit their own profile; moderators may edit anybody's."""
    return user.is_authenticated and (user.pk == profile_user.pk or can_moderate(user))


def check_can_edit_profile(user, profile_user) -> None:
    if not can_edit_profile(user, profile_user):
        raise PermissionDenied(_("You cannot edit this profile."))


def check_can_grant_roles(actor) -> None:
    """Only staff hand out roles; moderator and anonymization team are never self-service.

    `actor` None is the command line (seed_demo, tests), which is trusted.
    """
    if actor is not None and not (actor.is_authenticated and actor.is_staff):
        raise PermissionDenied(_("Only staff can grant roles."))


def categories_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Categories `user` may see: public and read-only ones, and private ones they belong to.

    A private category is also listed for people who authored a topic in it,
    so a requester can find their own private topics. Uses subqueries, not
    joins, so counts annotated on the result stay right.
    """
    from .models import Category, Topic

    if can_moderate(user):
        return queryset
    public = Q(security__in=[Category.Security.PUBLIC, Category.Security.READ_ONLY])
    if not user.is_authenticated:
        return queryset.filter(public)
    member = Q(pk__in=Category.objects.filter(groups__user=user).values("pk"))
    own_topics = Q(pk__in=Topic.objects.filter(author=user).values("category_id"))
    return queryset.filter(public | member | own_topics)


def topics_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Topics `user` may see: all in categories they read, plus their own private topics."""
    from .models import Category

    if can_moderate(user):
        return queryset
    public = Q(category__security__in=[Category.Security.PUBLIC, Category.Security.READ_ONLY])
    if not user.is_authenticated:
        return queryset.filter(public)
    member = Q(category_id__in=Category.objects.filter(groups__user=user).values("pk"))
    return queryset.filter(public | member | Q(author=user))






def can_post_in_category(user, category) -> bool:
    """Members post in public categories and start private topics where the category allows;
    otherwise only the category's groups and moderators post."""
    from .models import Category

    if not user.is_authenticated:
        return False
    if can_moderate(user) or category.security == Category.Security.PUBLIC:
        return True
    if category.security == Category.Security.PRIVATE and category.members_start_private_topics:
        return True
    return category.groups.filter(pk__in=user.groups.values("pk")).exists()


def check_can_post_in_category(user, category) -> None:
    if not can_post_in_category(user, category):
        raise PermissionDenied(_("You cannot post in this category."))
