"""Checks for settings that have no safe default.

A missing SECRET_KEY (with DEBUG off) refuses start-up of the web app and the
Celery worker and beat, and fails `manage.py check --deploy`. Commands that
never sign anything, such as `migrate` and `makemigrations`, still run.
"""
from django.conf import settings
from django.core.checks import Error, Tags, register
from django.core.exceptions import ImproperlyConfigured

MISSING_SECRET_KEY = (
    "SECRET_KEY must be set when DEBUG is off. "
    "Generate one with: python -c 'import secrets; print(secrets.token_urlsafe(64))'"
)


def secret_key_missing() -> bool:
    try:
        return not settings.SECRET_KEY
    except ImproperlyConfigured:  # Django refuses to hand out an empty key
        return True


@register(Tags.security, deploy=True)
def check_secret_key(app_configs, **kwargs):
    return [Error(MISSING_SECRET_KEY, id="config.E001")] if secret_key_missing() else []


def require_secret_key() -> None:
    """Refuse to serve requests or run tasks without a secret key."""
    if secret_key_missing():
        raise ImproperlyConfigured(MISSING_SECRET_KEY)
