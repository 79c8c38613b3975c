from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsBoardConfig(AppConfig):
    name = "requests_board"
    verbose_name = _("Requests board")

    def ready(self):
        from anonymization.hooks import ANONYMIZATION
        from forum.hooks import FORUM
        from licensing.hooks import LICENSING

        FORUM.register("requests_board.forum_hooks")
        ANONYMIZATION.register("requests_board.anonymization_hooks")
        LICENSING.register("requests_board.licensing_hooks")
