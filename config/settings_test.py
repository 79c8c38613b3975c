"""Settings for the test suite: the normal settings with fast, local parts.

DATABASE_URL and REDIS_URL still apply, so the same suite runs on the embedded
default and on PostgreSQL + Redis. Tests marked `integration` switch Celery to
the real broker and a real worker (tests/conftest.py).
"""
import os

os.environ.setdefault("SECRET_KEY", "test-only-secret-key-not-for-production-use-0123456789abcdef")

from .settings import *  # noqa: E402,F401,F403
from .settings import REDIS_URL, _redis_db_url  # noqa: E402

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Scans run eagerly (after commit) so tests are deterministic; tests/anonymization/test_fail_closed.py
# turns the background thread of the embedded default on.
ANONYMIZATION_SCAN_IN_BACKGROUND = False
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SECURE_HSTS_SECONDS = 0
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
LOGGING = {"version": 1, "disable_existing_loggers": False}
# The test server is one process, so the anonymous page cache is safe (and tested) without Redis.
ANONYMOUS_PAGE_CACHE_SECONDS = 300
SHARED_CACHE = True

if REDIS_URL:
    # Own Redis databases for tests (base + 10 and + 11), flushed freely between tests.
    CELERY_BROKER_URL = _redis_db_url(REDIS_URL, 10)
    CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.SharedClientRedisCache",
            "LOCATION": _redis_db_url(REDIS_URL, 11),
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
NOTIFICATIONS_EMAIL_DELAY_SECONDS = 0
# Browsers driven by tests fill forms in milliseconds, and tests reuse synthetic text freely;
# the spam tests (tests/forum/test_spam.py) set their own minimum and window.
FORUM_MIN_FILL_SECONDS = 0
FORUM_DUPLICATE_POST_MINUTES = 0
