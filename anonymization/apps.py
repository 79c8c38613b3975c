from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AnonymizationConfig(AppConfig):
    name = "anonymization"
    verbose_name = _("Anonymization")

    def ready(self):
        from forum.hooks import FORUM

        FORUM.register("anonymization.forum_hooks")
