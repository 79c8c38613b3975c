"""Roles, and every rule about who may see or do what in the forum.

Roles are Django groups holding the capability permissions declared on
forum.User. This module is the one place that says which role holds which
capability; views, templates and services ask the functions here.
"""
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet
from django.utils import formats, timezone
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
    """Ids of categories `user` moderates as a category moderator (subcategories included), cached."""
    if not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_moderated_category_cache", None)
    if cached is None:
        from .models import Category

        cached = frozenset(
            Category.objects.filter(Q(moderators=user) | Q(parent__moderators=user)).values_list("pk", flat=True)
        )
        user._moderated_category_cache = cached
    return cached


def can_moderate_category(user, category) -> bool:
    """Global moderators, and the category's own moderators (a parent's moderators included)."""
    return can_moderate(user) or category.pk in moderated_category_ids(user)


def can_moderate_topic(user, topic) -> bool:
    return can_moderate(user) or topic.category_id in moderated_category_ids(user)


def check_can_moderate_topic(user, topic) -> None:
    if not can_moderate_topic(user, topic):
        raise PermissionDenied(_("Only moderators can do this."))


def _private_membership(user, field: str) -> Q:
    """Private categories `user` reads: through a group, or as a category moderator."""
    from .models import Category

    member = Category.objects.filter(Q(groups__user=user) | Q(moderators=user) | Q(parent__moderators=user))
    return Q(**{f"{field}__in": member.values("pk")})


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
    own_topics = Q(pk__in=Topic.objects.filter(author=user, deleted_at__isnull=True).values("category_id"))
    return queryset.filter(public | _private_membership(user, "pk") | own_topics)


def topics_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Topics `user` may see: every topic the rule below allows, the one place it is written.

    - public and read-only categories: everybody;
    - private categories: the category's groups, its moderators, global moderators,
      and the topic's own author (so the Anonymization channel shows a requester
      their own topics and nobody else's);
    - deleted topics: only people who moderate them;
    - hidden topics (first post hidden for review): their author and people who moderate them.
    """
    from .models import Category

    if can_moderate(user):
        return queryset
    public = Q(category__security__in=[Category.Security.PUBLIC, Category.Security.READ_ONLY])
    if not user.is_authenticated:
        return queryset.filter(public, deleted_at__isnull=True, hidden_at__isnull=True)
    moderated = moderated_category_ids(user)
    readable = queryset.filter(public | _private_membership(user, "category_id") | Q(author=user))
    return readable.filter(
        Q(deleted_at__isnull=True) | Q(category_id__in=moderated),
        Q(hidden_at__isnull=True) | Q(author=user) | Q(category_id__in=moderated),
    )


def posts_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Posts in topics `user` may see (deleted and hidden posts included: pages show them as placeholders)."""
    from .models import Topic

    return queryset.filter(topic__in=topics_visible_to(user, Topic.objects.all()).values("pk"))


def post_texts_readable_by(user, queryset: QuerySet) -> QuerySet:
    """Of `queryset` (posts `user` may see), those whose text `user` may read: a post hidden for
    review only by its author and people who moderate it; and none another app withholds
    (e.g. a result held for its license). Search, emails and revision history use this."""
    from . import extensions

    if not can_moderate(user):
        readable = Q(hidden="")
        if user.is_authenticated:
            readable |= Q(author=user) | Q(topic__category_id__in=moderated_category_ids(user))
        queryset = queryset.filter(readable)
    return extensions.without_withheld(user=user, posts=queryset)


def can_read_post_text(user, post) -> bool:
    """Whether `user` reads a hidden post's text (its author and who moderates it); any live post
    in a topic they see otherwise. Other apps' withholding is asked separately (extensions)."""
    if not post.hidden:
        return True
    return user.is_authenticated and (post.author_id == user.pk or can_moderate_topic(user, post.topic))


def check_not_silenced(user) -> None:
    """Silenced people read but do not write until the silence ends; they see why."""
    if user.is_authenticated and user.is_silenced():
        raise PermissionDenied(
            _("A moderator silenced you until %(until)s: %(reason)s") % {
                "until": formats.date_format(timezone.localtime(user.silenced_until), "DATETIME_FORMAT"),
                "reason": user.silence_reason,
            }
        )


def can_reply(user, topic) -> bool:
    """Whoever may post in the category replies, unless the topic is closed (moderators still can)
    or archived or deleted (nobody can)."""
    if not user.is_authenticated or topic.archived or topic.deleted_at or user.is_silenced():
        return False
    if topic.closed and not can_moderate_topic(user, topic):
        return False
    if topic.author_id == user.pk:
        return True
    from .models import Category

    category = topic.category
    if category.security == Category.Security.PRIVATE:
        # Members may start their own private topics there, not answer other people's.
        return can_moderate_category(user, category) or category.groups.filter(
            pk__in=user.groups.values("pk")).exists()
    return can_post_in_category(user, category)


def check_can_reply(user, topic) -> None:
    check_not_silenced(user)
    if not can_reply(user, topic):
        if topic.closed:
            raise PermissionDenied(_("This topic is closed to new replies."))
        if topic.archived:
            raise PermissionDenied(_("This topic is archived."))
        raise PermissionDenied(_("You cannot reply in this topic."))


def can_edit_post(user, post) -> bool:
    """Authors edit their live posts in live topics; moderators edit any post they moderate."""
    if not user.is_authenticated:
        return False
    if can_moderate_topic(user, post.topic):
        return True
    return (
        post.author_id == user.pk and not post.deleted_at and not post.topic.archived
        and not post.topic.deleted_at and not user.is_silenced()
    )


def check_can_edit_post(user, post) -> None:
    if post.author_id == user.pk and not can_moderate_topic(user, post.topic):
        check_not_silenced(user)
    if not can_edit_post(user, post):
        raise PermissionDenied(_("You cannot edit this post."))


def can_delete_post(user, post) -> bool:
    """Whoever may edit a live post deletes it; a silenced author still may (e.g. to take back
    something that should not have been posted)."""
    if post.deleted_at is not None:
        return False
    if can_edit_post(user, post):
        return True
    return (
        user.is_authenticated and post.author_id == user.pk and not post.topic.archived
        and not post.topic.deleted_at
    )


def check_can_delete_post(user, post) -> None:
    if not can_delete_post(user, post):
        raise PermissionDenied(_("You cannot delete this post."))


def can_restore_post(user, post) -> bool:
    return post.deleted_at is not None and can_moderate_topic(user, post.topic)


def check_can_restore_post(user, post) -> None:
    if not can_restore_post(user, post):
        raise PermissionDenied(_("Only moderators can restore posts."))


def can_see_deleted_content(user, topic) -> bool:
    """Moderators read what a deleted post said; everybody else sees a placeholder."""
    return can_moderate_topic(user, topic)


def can_like_post(user, post) -> bool:
    """One like per person, never on your own post, not on deleted posts or archived topics."""
    return (
        user.is_authenticated and post.author_id != user.pk and post.deleted_at is None and not post.hidden
        and not post.topic.archived and post.topic.deleted_at is None and not user.is_silenced()
    )


def can_quote_post(user, post) -> bool:
    """Whether `user` may quote `post` into a reply: a live, shown post whose text they may read, other
    apps' holds included (a result held for its license is quoted by nobody but who may read it)."""
    from .models import Post

    if post.deleted_at is not None or post.hidden:
        return False
    return post_texts_readable_by(user, Post.objects.filter(pk=post.pk)).exists()


def _check_reads_post_text(user, post, message) -> None:
    """Liking or flagging needs the text to be readable by `user`, other apps' holds included (e.g. a
    result held for its license). One query; pages hide the buttons already (extensions.mark_posts)."""
    from .models import Post

    if not post_texts_readable_by(user, Post.objects.filter(pk=post.pk)).exists():
        raise PermissionDenied(message)


def check_can_like_post(user, post) -> None:
    check_not_silenced(user)
    if not user.is_authenticated or post.author_id == user.pk:
        raise PermissionDenied(_("You cannot like your own post."))
    if not can_like_post(user, post):
        raise PermissionDenied(_("This post cannot be liked."))
    _check_reads_post_text(user, post, _("This post cannot be liked."))


def can_pin_globally(user) -> bool:
    return can_moderate(user)


def check_can_pin_globally(user) -> None:
    if not can_pin_globally(user):
        raise PermissionDenied(_("Only global moderators can pin a topic everywhere."))


def can_retreat_topic(user, topic, destination) -> bool:
    """A topic's author may move it into a private channel that takes members' topics
    (e.g. on realising the data may identify a patient): it only gets less visible."""
    from .models import Category

    return (
        user.is_authenticated and topic.author_id == user.pk and topic.deleted_at is None
        and destination.security == Category.Security.PRIVATE and destination.members_start_private_topics
    )


def can_release_topic(user, topic, destination) -> bool:
    """The anonymization team and moderators release a reviewed topic from a private channel
    that takes members' topics into a public category. Only services call this (after a
    review); the Move page never does."""
    from .models import Category

    source = topic.category
    return (
        user.is_authenticated and (user.has_perm("forum.triage_anonymization") or can_moderate(user))
        and topic.deleted_at is None
        and source.security == Category.Security.PRIVATE and source.members_start_private_topics
        and destination.is_public
    )


def check_can_move_topic(user, topic, destination) -> None:
    """Moving needs moderation rights both where the topic is and where it goes,
    except an author's retreat into a private channel."""
    if can_retreat_topic(user, topic, destination):
        return
    check_can_moderate_topic(user, topic)
    if not can_moderate_category(user, destination):
        raise PermissionDenied(_("You cannot move topics into this category."))


def can_post_in_category(user, category) -> bool:
    """Members post in public categories and start private topics where the category allows;
    otherwise only the category's groups and moderators post."""
    from .models import Category

    if not user.is_authenticated or user.is_silenced():
        return False
    if can_moderate_category(user, category) or category.security == Category.Security.PUBLIC:
        return True
    if category.security == Category.Security.PRIVATE and category.members_start_private_topics:
        return True
    return category.groups.filter(pk__in=user.groups.values("pk")).exists()


def check_can_post_in_category(user, category) -> None:
    check_not_silenced(user)
    if not can_post_in_category(user, category):
        raise PermissionDenied(_("You cannot post in this category."))


def _moderators_q() -> Q:
    """People who hold the moderate capability (superusers, through a group, or directly), as a
    filter on users: `can_moderate` for many people in one query."""
    moderate = {"codename": "moderate", "content_type__app_label": "forum"}
    return (
        Q(is_superuser=True)
        | Q(**{f"groups__permissions__{k}": v for k, v in moderate.items()})
        | Q(**{f"user_permissions__{k}": v for k, v in moderate.items()})
    )


def is_new_member(user) -> bool:
    """Trust level 0 and not a moderator: the limits for new accounts apply."""
    return user.is_authenticated and user.trust_level == 0 and not can_moderate(user)


def topic_readers_among(topic, user_ids) -> set[int]:
    """Which of `user_ids` (active people only) may see `topic`: the rule of `topics_visible_to`,
    asked for many people at once (one query), for notification fan-out."""
    from .models import Category, User

    people = User.objects.filter(pk__in=list(user_ids), is_active=True)
    hidden = topic.deleted_at is not None or topic.hidden_at is not None
    if not hidden and topic.category.security != Category.Security.PRIVATE:
        return set(people.values_list("pk", flat=True))
    allowed = _moderators_q() | Q(moderated_categories=topic.category_id)
    if topic.category.parent_id:
        allowed |= Q(moderated_categories=topic.category.parent_id)
    if topic.deleted_at is None:
        allowed |= Q(pk=topic.author_id)
        if topic.hidden_at is None:
            allowed |= Q(groups__categories=topic.category_id)
    return set(people.filter(allowed).values_list("pk", flat=True).distinct())


# --- Moderation: flags, the review queue, restrictions -----------------------------

def can_flag_post(user, post) -> bool:
    """Signed-in people flag other people's live posts whose text they can read, unless silenced."""
    return (
        user.is_authenticated and post.author_id != user.pk and post.deleted_at is None
        and post.topic.deleted_at is None and can_read_post_text(user, post) and not user.is_silenced()
    )


def check_can_flag_post(user, post) -> None:
    if not user.is_authenticated or post.author_id == user.pk:
        raise PermissionDenied(_("You cannot flag your own post."))
    check_not_silenced(user)
    if not can_flag_post(user, post):
        raise PermissionDenied(_("This post cannot be flagged."))
    _check_reads_post_text(user, post, _("This post cannot be flagged."))


def can_triage_personal_data(user) -> bool:
    """The anonymization team reviews posts flagged as containing personal data."""
    return user.is_authenticated and user.has_perm("forum.triage_anonymization")


def can_use_review_queue(user) -> bool:
    """Moderators, category moderators and the anonymization team (personal-data flags) review."""
    return can_moderate(user) or bool(moderated_category_ids(user)) or can_triage_personal_data(user)


def check_can_use_review_queue(user) -> None:
    if not can_use_review_queue(user):
        raise PermissionDenied(_("Only moderators can review flagged posts."))


def review_items_visible_to(user, queryset: QuerySet) -> QuerySet:
    """Review items `user` may act on: all (moderators); their categories' (category moderators);
    posts flagged for personal data in topics they can read (the anonymization team)."""
    from .models import Category

    if can_moderate(user):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    allowed = Q(post__topic__category_id__in=moderated_category_ids(user))
    if can_triage_personal_data(user):
        # The category rule of topics_visible_to, without its hidden-topic rule: hiding is
        # exactly what a personal-data flag does, and the team must still read the post.
        public = Q(post__topic__category__security__in=[Category.Security.PUBLIC, Category.Security.READ_ONLY])
        readable = public | _private_membership(user, "post__topic__category_id")
        allowed |= Q(personal_data=True, post__topic__deleted_at__isnull=True) & readable
    return queryset.filter(allowed)


def can_review_item(user, item) -> bool:
    """Whether `user` may act on one review item (see `review_items_visible_to`)."""
    from .models import ReviewItem

    return review_items_visible_to(user, ReviewItem.objects.filter(pk=item.pk)).exists()


def check_can_review_item(user, item) -> None:
    if not can_review_item(user, item):
        raise PermissionDenied(_("You cannot review this post."))


def can_restrict_user(user, target) -> bool:
    """Global moderators silence, suspend, set trust levels and delete spammers; never of
    themselves, staff or other moderators."""
    return (
        can_moderate(user) and user.pk != target.pk and not target.is_staff and not target.is_superuser
        and not target.has_perm("forum.moderate")
    )


def restrictable_user_ids(user, user_ids) -> set[int]:
    """Which of `user_ids` `user` may restrict (see `can_restrict_user`), in one query for a list page."""
    from .models import User

    if not can_moderate(user):
        return set()
    protected = Q(is_staff=True) | Q(pk=user.pk) | _moderators_q()
    ids = set(user_ids)
    return ids - set(User.objects.filter(pk__in=ids).filter(protected).values_list("pk", flat=True))


def check_can_restrict_user(user, target) -> None:
    if not can_restrict_user(user, target):
        raise PermissionDenied(_("You cannot moderate this person."))


def can_read_moderation_log(user) -> bool:
    return can_moderate(user)


def check_can_read_moderation_log(user) -> None:
    if not can_read_moderation_log(user):
        raise PermissionDenied(_("Only moderators read the moderation log."))


def can_edit_site_pages(user) -> bool:
    """Staff edit the guidelines, the FAQ and publish new terms."""
    return user.is_authenticated and user.is_staff and user.is_active


def check_can_edit_site_pages(user) -> None:
    if not can_edit_site_pages(user):
        raise PermissionDenied(_("Only staff can edit site pages."))


# --- The API ----------------------------------------------------------------------

def can_create_api_token(user, *, scope: str = "read") -> bool:
    """Anyone signed in and not suspended makes read tokens for their own scripts; write tokens
    wait for trust level 1, so a brand-new account cannot post at machine speed past the spam
    defences of the web forms."""
    if not user.is_authenticated or user.is_suspended():
        return False
    return scope != "write" or not is_new_member(user)


def check_can_create_api_token(user, *, scope: str = "read") -> None:
    if not user.is_authenticated or user.is_suspended():
        raise PermissionDenied(_("You cannot make API tokens now."))
    if not can_create_api_token(user, scope=scope):
        raise PermissionDenied(_(
            "New members make read tokens only; write access comes with trust level 1, which rises on its own "
            "as you read and take part."))


def can_use_api_token(token) -> bool:
    """A token works for what its person may do now; for roles that see private data, only if it
    was made in a session that passed two-factor authentication and the person still has it set up
    (a token made before such a role was granted stops working)."""
    user = token.user
    if not requires_mfa(user):
        return True
    from allauth.mfa.models import Authenticator

    return token.second_factor and Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP).exists()


def check_token_allows(token, method: str) -> None:
    """A read token only reads; a session or a write token may also write."""
    if token is not None and not token.can_write and method not in ("GET", "HEAD", "OPTIONS"):
        raise PermissionDenied(_("This token can only read. Make a token with write access to do this."))
