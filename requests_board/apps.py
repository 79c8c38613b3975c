from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RequestsBoardConfig(AppConfig):
    name = "requests_board"
    verbose_name = _("Requests board")
