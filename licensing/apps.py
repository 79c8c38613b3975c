from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class LicensingConfig(AppConfig):
    name = "licensing"
    verbose_name = _("Licensing")

    def ready(self):
        from anonymization.hooks import ANONYMIZATION
        from forum.hooks import FORUM

        from . import checks  # noqa: F401  (registers the policy check)

        FORUM.register("licensing.forum_hooks")
        ANONYMIZATION.register("licensing.anonymization_hooks")
