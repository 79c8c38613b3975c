# Load the Celery app whenever Django starts so that @shared_task uses it.
# The project's start-up checks (a missing SECRET_KEY), registered with the settings, not by an app.
from . import checks  # noqa: E402,F401
from .celery import app as celery_app

__all__ = ("celery_app",)
