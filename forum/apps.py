from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _sync_roles(sender, **kwargs):
    # Groups need the permissions that migrations create, so they follow each migrate.
    from .services import roles_sync

    roles_sync()


class ForumConfig(AppConfig):
    name = "forum"
    verbose_name = _("Forum")

    def ready(self):
        from django.core import checks

        from .hooks import hooks_check
        from .permissions.access import connect_signals

        post_migrate.connect(_sync_roles, sender=self, dispatch_uid="forum.sync_roles")
        checks.register(hooks_check)
        connect_signals()
