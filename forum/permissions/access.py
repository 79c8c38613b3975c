"""What one signed-in person may reach, read from the database once and then kept in the cache.

Every signed-in page used to ask the database the same four things (the person's permissions
directly and through groups, the categories they moderate, the private categories they belong
to) before doing anything of its own. `access_for` reads them in three queries and keeps them in
the cache with two versions: the site's, which any change to groups, permissions or categories
moves, and the person's own, which a change to their groups, permissions or moderated categories
moves (signals, `connect_signals` below). An entry is served, one cache round trip, only while both
versions are the ones it was read under. Versions move at once and again when the transaction
commits, and are read before the database, so a request that read the old rows meanwhile stores
them under an old version, never as current. Entries also expire after five minutes, which bounds
what a lost invalidation (the cache unreachable at that moment) could leave behind.

Flags stored on the person's own row (active, superuser) are not cached here: the row is read on
every request anyway, and the cached entry records the superuser flag it was made with.
"""
import time
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q

# The "2" names the shape of `Access`: change it with the dataclass, so no process reads an older one.
GENERATION_KEY = "forum:access:2:generation"
PERSON_KEY = "forum:access:2:person:{}"  # a person's own version: bumped when their roles change
ENTRY_KEY = "forum:access:2:entry:{}"
PUBLIC_KEY = "forum:access:2:public-categories"
# Entries are checked against both versions; the timeout bounds how long one could outlive a change
# whose invalidation was lost (the cache unreachable at that moment).
ENTRY_SECONDS = 300


@dataclass(frozen=True)
class Access:
    user_permissions: frozenset  # "app_label.codename", as ModelBackend gives them
    group_permissions: frozenset
    group_names: frozenset
    moderated_category_ids: frozenset  # as a category moderator (a parent's included)
    group_category_ids: frozenset  # categories whose groups include one of the person's
    member_category_ids: frozenset  # private categories they read: through a group or as moderator
    public_category_ids: frozenset  # public and read-only categories: what everybody reads


NOBODY = frozenset()


# Changes seen by this process: a person object remembers its access only while none has happened
# since (tests and tasks keep one object across changes; a request's object lives for the request).
_changes_here = 0


def _bump(key: str = GENERATION_KEY) -> None:
    global _changes_here
    _changes_here += 1
    try:
        cache.incr(key)
    except ValueError:
        # Missing (first use, or evicted): restart from the clock, never from a small number.
        if not cache.add(key, time.time_ns(), timeout=None):
            cache.incr(key)


def _current(key: str, found: dict) -> int:
    value = found.get(key)
    if value is None:
        _bump(key)
        value = cache.get(key)
    return value


def invalidate_access(**_signal_kwargs) -> None:
    """Make everybody's cached access stale, now and when the current transaction commits."""
    _bump()
    transaction.on_commit(_bump, robust=True)


def _read_public() -> frozenset:
    from ..models import Category

    public = (Category.Security.PUBLIC, Category.Security.READ_ONLY)
    return frozenset(Category.objects.filter(security__in=public).values_list("pk", flat=True))


def _read(user, public_category_ids) -> Access:
    from django.contrib.auth.backends import ModelBackend

    from ..models import Category

    backend = ModelBackend()
    # The model, not type(user): request.user is a SimpleLazyObject.
    fresh = user._meta.model(pk=user.pk, is_active=True, is_superuser=user.is_superuser)
    groups = dict(user.groups.values_list("pk", "name"))
    categories = Category.objects.filter(
        Q(groups__in=list(groups)) | Q(moderators=user) | Q(parent__moderators=user)
    ).values_list("pk", "moderators", "parent__moderators", "groups")
    moderated, grouped = set(), set()
    for pk, moderator, parent_moderator, group in categories:
        if user.pk in (moderator, parent_moderator):
            moderated.add(pk)
        if group in groups:
            grouped.add(pk)
    return Access(
        user_permissions=frozenset(backend.get_user_permissions(fresh)),
        group_permissions=frozenset(backend.get_group_permissions(fresh)),
        group_names=frozenset(groups.values()),
        moderated_category_ids=frozenset(moderated),
        group_category_ids=frozenset(grouped),
        member_category_ids=frozenset(moderated | grouped),
        public_category_ids=public_category_ids,
    )


def access_for(user) -> Access:
    """What `user` (signed in or not) may reach: from the request's user object, else the cache (one
    round trip), else the database (one query for everybody's part, three for a person's, then stored)."""
    signed_in = user.is_authenticated
    # Remembered on the user object (a request's lives for the request) until this process sees a
    # change: code that keeps one object across changes (a task, a test) reads them again.
    cached = getattr(user, "_access", None)
    if cached is not None and cached[0] == _changes_here:
        return cached[1]
    if not settings.SHARED_CACHE:
        # Another process could not see this one's bump: read the database for every request.
        public = _read_public()
        access = _read(user, public) if signed_in else Access(NOBODY, NOBODY, NOBODY, NOBODY, NOBODY, NOBODY, public)
        user._access = (_changes_here, access)
        return access
    key, person_key = (ENTRY_KEY.format(user.pk), PERSON_KEY.format(user.pk)) if signed_in else (None, None)
    found = cache.get_many([GENERATION_KEY, PUBLIC_KEY, *([key, person_key] if signed_in else [])])
    generation = _current(GENERATION_KEY, found)
    # Whatever is read from the database is read after the generation: a change committing
    # meanwhile bumps past it, so what is stored below is stale at once rather than kept.
    stored_public = found.get(PUBLIC_KEY)
    if stored_public is not None and stored_public[0] == generation:
        public = stored_public[1]
    else:
        public = _read_public()
        cache.set(PUBLIC_KEY, (generation, public), ENTRY_SECONDS)
    if not signed_in:
        user._access = (_changes_here, Access(NOBODY, NOBODY, NOBODY, NOBODY, NOBODY, NOBODY, public))
        return user._access[1]
    version = _current(person_key, found)
    stored = found.get(key)
    if stored is not None and stored[:3] == (generation, version, user.is_superuser):
        access = stored[3]
        if access.public_category_ids != public:
            access = replace(access, public_category_ids=public)
    else:
        access = _read(user, public)
        cache.set(key, (generation, version, user.is_superuser, access), ENTRY_SECONDS)
    user._access = (_changes_here, access)
    return access


def _bump_people(keys) -> None:
    for key in keys:
        _bump(key)


def forget_people(user_ids) -> None:
    """Make the cached access of these people stale, now and when the current transaction commits.
    Their versions move rather than their entries going: an entry read from the old rows by a
    request that overlapped the change carries the old version, so it is never taken as current."""
    keys = [PERSON_KEY.format(pk) for pk in user_ids]
    if keys:
        _bump_people(keys)
        transaction.on_commit(lambda: _bump_people(keys), robust=True)


def _people_changed(sender, instance, action, reverse, pk_set, **kwargs) -> None:
    """A person's groups, permissions or moderated categories changed: only theirs is stale."""
    from ..models import User

    if not action.startswith("post_") and action != "pre_clear":
        return
    if isinstance(instance, User):
        forget_people([instance.pk])
    elif action == "pre_clear":
        # Clearing from the other side names nobody: whoever held it is read before it goes.
        through = sender.objects.filter(**{_other_side(sender, instance): instance.pk})
        forget_people(list(through.values_list(_user_column(sender), flat=True)))
    elif pk_set:
        forget_people(pk_set)


def _user_column(through) -> str:
    from ..models import User

    return next(f.attname for f in through._meta.fields if f.is_relation and f.related_model is User)


def _other_side(through, instance) -> str:
    return next(
        f.attname for f in through._meta.fields if f.is_relation and f.related_model is type(instance)
    )


def _person_row_deleted(sender, instance, **kwargs) -> None:
    forget_people([getattr(instance, _user_column(sender))])


def connect_signals() -> None:
    """Make cached access stale on every change to who may reach what (ForumConfig.ready): a person's
    own groups, permissions and moderated categories forget theirs; changes to groups, permissions
    and categories bump everybody's. Queryset `update()` sends no signal: services change these
    through the models and their relations."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models.signals import m2m_changed, post_delete, post_save

    from ..models import Category, User

    for through in (User.groups.through, User.user_permissions.through, Category.moderators.through):
        name = through.__name__
        m2m_changed.connect(_people_changed, sender=through, dispatch_uid=f"forum.access.m2m.{name}")
        # Rows removed when a person, group or category is deleted go without m2m_changed.
        post_delete.connect(_person_row_deleted, sender=through, dispatch_uid=f"forum.access.del.{name}")
    for through in (Group.permissions.through, Category.groups.through):
        name = through.__name__
        m2m_changed.connect(invalidate_access, sender=through, dispatch_uid=f"forum.access.m2m.{name}")
        post_delete.connect(invalidate_access, sender=through, dispatch_uid=f"forum.access.del.{name}")
    for model in (Group, Permission, Category):
        post_save.connect(invalidate_access, sender=model, dispatch_uid=f"forum.access.save.{model.__name__}")
        post_delete.connect(invalidate_access, sender=model, dispatch_uid=f"forum.access.delete.{model.__name__}")
