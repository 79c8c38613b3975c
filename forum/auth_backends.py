"""Django's ModelBackend, reading a person's permissions from their cached access
(forum/permissions/access.py) instead of two queries on every signed-in request."""
from django.contrib.auth.backends import ModelBackend

from .permissions.access import access_for


class CachedModelBackend(ModelBackend):
    def _get_permissions(self, user_obj, obj, from_name):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        cache_name = f"_{from_name}_perm_cache"
        if not hasattr(user_obj, cache_name):
            access = access_for(user_obj)
            found = access.user_permissions if from_name == "user" else access.group_permissions
            setattr(user_obj, cache_name, set(found))
        return getattr(user_obj, cache_name)
