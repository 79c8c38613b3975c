"""Settings for every environment, read from environment variables.

Each variable has an embedded default that runs on one machine (SQLite, eager
Celery, console email, files on disk). Production sets DEBUG off and provides
SECRET_KEY, DATABASE_URL, REDIS_URL, EMAIL_URL, ALLOWED_HOSTS and SITE_URL.
Every variable is documented in README.md.
"""
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()

DEBUG = env.bool("DEBUG", default=False)

# Secrets have no production default: with DEBUG off and no key, config/checks.py
# fails `check` and refuses to start the web app and Celery.
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY and DEBUG:
    SECRET_KEY = "django-insecure-local-development-only-never-use-in-production"

SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
SITE_NAME = env.str("SITE_NAME", default="Data Help Desk")

ALLOWED_HOSTS = env.list(
    "ALLOWED_HOSTS", default=["127.0.0.1", "localhost", urlsplit(SITE_URL).hostname]
)
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[SITE_URL])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "taggit",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.socialaccount",
    "allauth.socialaccount.providers.github",
    "allauth.socialaccount.providers.orcid",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "forum",
    "requests_board",
    "anonymization",
    "licensing",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "forum.middleware.ContentSecurityPolicyMiddleware",
    # Before anything reads the body (sessions, CSRF, views): a body over the limit gets 413 unread.
    "forum.middleware.RequestBodyLimitMiddleware",
    # Before the page cache and everything else: a control character in the address or a form gets 400.
    "forum.middleware.ControlCharacterMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "forum.pagecache.AnonymousPageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "forum.middleware.RequiredStepsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "forum.context_processors.site",
                "forum.context_processors.notifications",
                "forum.context_processors.moderation",
                "anonymization.context_processors.triage",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

# --- Database -----------------------------------------------------------------
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # One file, many readers: WAL keeps the dev server and a seeding command from blocking.
    DATABASES["default"]["OPTIONS"] = {"init_command": "PRAGMA journal_mode=WAL;"}
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "forum.User"

# --- Redis: Celery broker, cache, sessions --------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")


def _redis_db_url(url: str, offset: int) -> str:
    """The same Redis server with the database number moved by `offset`.

    The broker and the cache live in different databases so that clearing
    the cache can never drop queued tasks.
    """
    parts = urlsplit(url)
    path = parts.path.strip("/") or "0"
    if not path.isdigit() or int(path) + offset > 15:
        raise ImproperlyConfigured(
            f"REDIS_URL must end in a database number from 0 to {15 - offset} (the cache uses the next one); "
            "for other set-ups give CACHE_URL and CELERY_BROKER_URL explicitly."
        )
    return urlunsplit(parts._replace(path=f"/{int(path) + offset}"))


if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "config.redis_cache.SharedClientRedisCache",
            "LOCATION": env.str("CACHE_URL", default="") or _redis_db_url(REDIS_URL, 1),
            "KEY_PREFIX": "helpdesk",
        }
    }
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default=REDIS_URL)
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CELERY_BROKER_URL = "memory://"
    CELERY_TASK_ALWAYS_EAGER = True

# Without a broker, a failing task is logged rather than failing the page that queued it.
CELERY_TASK_EAGER_PROPAGATES = False
# A task is acknowledged only when done, so a crashed worker's task runs again;
# every task is written to be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=120)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=180)
# Longer than the longest retry delay, so Redis never hands a waiting retry to a second worker.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 2 * 3600}
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"

# --- Email ----------------------------------------------------------------------
vars().update(env.email_url("EMAIL_URL", default="consolemail://"))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default=f"{SITE_NAME} <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=30)

# --- Accounts (django-allauth) ---------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "forum.auth_backends.CachedModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "forum:home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "username*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_CHANGE_EMAIL = True
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
ACCOUNT_USERNAME_MIN_LENGTH = 3
ACCOUNT_USERNAME_VALIDATORS = "forum.validators.username_validators"
ACCOUNT_USERNAME_BLACKLIST = ["admin", "moderator", "moderators", "staff", "system", "support"]
ACCOUNT_FORMS = {"signup": "forum.forms.SignupForm"}
ACCOUNT_ADAPTER = "forum.adapters.AccountAdapter"
ACCOUNT_DEFAULT_HTTP_PROTOCOL = urlsplit(SITE_URL).scheme or "https"
MFA_ADAPTER = "forum.adapters.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = SITE_NAME
SOCIALACCOUNT_EMAIL_AUTHENTICATION = False
SOCIALACCOUNT_AUTO_SIGNUP = True
SOCIALACCOUNT_ADAPTER = "forum.adapters.SocialAccountAdapter"

# Social login appears only for providers whose keys are configured.
SOCIALACCOUNT_PROVIDERS: dict = {}
if env.str("GITHUB_CLIENT_ID", default="") and env.str("GITHUB_SECRET", default=""):
    SOCIALACCOUNT_PROVIDERS["github"] = {
        "APPS": [{"client_id": env.str("GITHUB_CLIENT_ID"), "secret": env.str("GITHUB_SECRET")}],
        "SCOPE": ["read:user", "user:email"],
    }
if env.str("ORCID_CLIENT_ID", default="") and env.str("ORCID_SECRET", default=""):
    SOCIALACCOUNT_PROVIDERS["orcid"] = {
        "APPS": [{"client_id": env.str("ORCID_CLIENT_ID"), "secret": env.str("ORCID_SECRET")}],
        "BASE_DOMAIN": env.str("ORCID_BASE_DOMAIN", default="orcid.org"),
        "MEMBER_API": False,
    }

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- Internationalization -------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Static and media files -----------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env.str("MEDIA_ROOT", default=str(BASE_DIR / "media")))
# Uploads live in two areas (anonymization/storage.py): "quarantine" holds every file as
# uploaded and is never served by URL; "published" holds the copies moderators approved.
# Both are streamed through views that check permission, so neither needs a public URL.
# Locally two folders; in production S3-compatible buckets (django-storages) when
# S3_QUARANTINE_BUCKET and S3_PUBLISHED_BUCKET are set.
QUARANTINE_ROOT = Path(env.str("QUARANTINE_ROOT", default=str(BASE_DIR / "private" / "quarantine")))
# Outside MEDIA_ROOT too, so no static-file server can ever bypass the permission check.
PUBLISHED_ROOT = Path(env.str("PUBLISHED_ROOT", default=str(BASE_DIR / "private" / "published")))


def _upload_storage(bucket: str, location: Path) -> dict:
    if not bucket:
        # base_url None: the folder has no URL; files leave it only through our views.
        return {"BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": str(location), "base_url": None,
                            "file_permissions_mode": 0o600, "directory_permissions_mode": 0o700}}
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        "bucket_name": bucket,
        "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
        "region_name": env.str("S3_REGION", default="") or None,
        "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
        "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
        "default_acl": "private",
        "querystring_auth": True,
        "file_overwrite": True,
    }}


STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "quarantine": _upload_storage(env.str("S3_QUARANTINE_BUCKET", default=""), QUARANTINE_ROOT),
    "published": _upload_storage(env.str("S3_PUBLISHED_BUCKET", default=""), PUBLISHED_ROOT),
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Security -------------------------------------------------------------------
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SESSION_COOKIE_HTTPONLY = True
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=not DEBUG)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# The site runs behind a TLS-terminating proxy in production (see docker-compose.yml).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# How many proxies in front append to X-Forwarded-For: rate limits per address count the
# address the nearest of them saw (0: the connection's own address, i.e. no proxy).
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
X_FRAME_OPTIONS = "DENY"
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}

# --- Our own settings -------------------------------------------------------------
# Markdown bounds: pathological input is refused with a clear message, never rendered.
MARKDOWN_MAX_LENGTH = env.int("MARKDOWN_MAX_LENGTH", default=32_000)
MARKDOWN_MAX_NESTING = env.int("MARKDOWN_MAX_NESTING", default=12)
MARKDOWN_RENDER_SECONDS = env.float("MARKDOWN_RENDER_SECONDS", default=2.0)
PROFILE_MAX_EXPERTISE_TAGS = 10
FORUM_MAX_TAGS_PER_TOPIC = env.int("FORUM_MAX_TAGS_PER_TOPIC", default=5)
# PostgreSQL search: time to look past the newest posts for matches (forum/search.py).
SEARCH_TIME_LIMIT_MS = env.int("SEARCH_TIME_LIMIT_MS", default=60)
# Rate limits (forum/ratelimit.py): (count, seconds) per person, and per address below;
# moderators are exempt. The Nth+1 action in a window gets HTTP 429 and how long to wait.
FORUM_RATE_LIMITS = {
    "post": (env.int("FORUM_POSTS_PER_10_MINUTES", default=30), 600),
    "edit": (env.int("FORUM_EDITS_PER_10_MINUTES", default=30), 600),
    "flag": (env.int("FORUM_FLAGS_PER_HOUR", default=20), 3600),
    "claim": (env.int("REQUESTS_CLAIMS_PER_HOUR", default=10), 3600),
    "upload": (env.int("ANONYMIZATION_UPLOADS_PER_HOUR", default=30), 3600),
    # Sign-in attempts per email typed, so one account cannot be guessed at from many addresses.
    "login": (env.int("LOGINS_PER_15_MINUTES", default=10), 900),
    "export": (env.int("DATA_EXPORTS_PER_DAY", default=5), 86400),
    # Per address of the visitor: the newsletter form needs no account.
    "subscribe": (env.int("NEWSLETTER_SUBSCRIBES_PER_HOUR", default=10), 3600),
    "token": (env.int("API_TOKENS_PER_DAY", default=20), 86400),
}
FORUM_RATE_LIMITS_PER_IP = {
    "post": (env.int("FORUM_POSTS_PER_10_MINUTES_PER_IP", default=120), 600),
    "edit": (120, 600),
    "flag": (60, 3600),
    "claim": (60, 3600),
    "upload": (120, 3600),
    "signup": (env.int("SIGNUPS_PER_HOUR_PER_IP", default=10), 3600),
    "login": (env.int("LOGINS_PER_15_MINUTES_PER_IP", default=30), 900),
}
# Trust levels (forum/services/trust.py): what a person must have done to reach each level.
# "days": since joining; "topics_read": topics opened; "posts": posts shown (not hidden or
# deleted); "likes_received". Level 3 is lost again when its requirements stop holding or a
# moderator agrees with a flag on the person's posts (within 100 days).
FORUM_TRUST_LEVELS = {
    1: {"days": 0, "topics_read": env.int("TRUST_BASIC_TOPICS_READ", default=3), "posts": 0, "likes_received": 0},
    2: {"days": 3, "topics_read": 15, "posts": 3, "likes_received": 1},
    3: {"days": 30, "topics_read": 50, "posts": 20, "likes_received": 10},
}
# What a new person (trust level 0) may do: links and images per post, topics per day.
FORUM_NEW_USER_MAX_LINKS = env.int("FORUM_NEW_USER_MAX_LINKS", default=2)
FORUM_NEW_USER_MAX_IMAGES = env.int("FORUM_NEW_USER_MAX_IMAGES", default=0)
FORUM_NEW_USER_TOPICS_PER_DAY = env.int("FORUM_NEW_USER_TOPICS_PER_DAY", default=3)
# Hold a new person's first N posts for a moderator's approval (0: publish at once).
FORUM_HOLD_FIRST_POSTS = env.int("FORUM_HOLD_FIRST_POSTS", default=0)
# Flags from people of at least this level that hide a post until a moderator reviews it.
FORUM_FLAGS_TO_HIDE = env.int("FORUM_FLAGS_TO_HIDE", default=3)
FORUM_FLAG_TRUSTED_LEVEL = env.int("FORUM_FLAG_TRUSTED_LEVEL", default=1)
# Spam defences: a form sent sooner than this after it was shown is asked again; the same
# text posted twice by one person within the minutes below is refused (0: never).
FORUM_MIN_FILL_SECONDS = env.int("FORUM_MIN_FILL_SECONDS", default=3)
FORUM_DUPLICATE_POST_MINUTES = env.int("FORUM_DUPLICATE_POST_MINUTES", default=60)
# Whole pages for anonymous visitors (forum/pagecache.py); 0 turns the cache off.
# Off by default without Redis outside DEBUG: a per-process cache would let one gunicorn worker
# keep serving a page another worker's write (a delete, a move to private) made stale.
# Whether every web process sees the same cache (Redis), so what one process stores another may
# serve: permissions and counts kept across requests (forum/permissions/access.py,
# forum/selectors/counts.py) rely on it. A per-process cache is shared only by a single process.
SHARED_CACHE = env.bool("SHARED_CACHE", default=bool(REDIS_URL) or DEBUG)
ANONYMOUS_PAGE_CACHE_SECONDS = env.int("ANONYMOUS_PAGE_CACHE_SECONDS", default=300 if (REDIS_URL or DEBUG) else 0)
# Apps take part in each other's pages through hooks they register in their AppConfig.ready
# (forum/hooks.py), not through settings: that wiring never differs between machines.

# --- Requests board ---------------------------------------------------------------------
REQUESTS_ANONYMIZATION_CATEGORY = env.str("REQUESTS_ANONYMIZATION_CATEGORY", default="anonymization")
REQUESTS_CITIZEN_SCIENCE_CATEGORY = env.str("REQUESTS_CITIZEN_SCIENCE_CATEGORY", default="citizen-science")
REQUESTS_MAX_ACTIVE_CLAIMS = env.int("REQUESTS_MAX_ACTIVE_CLAIMS", default=3)
# A claim with no update for N days gets a reminder; M days after the reminder it is released.
REQUESTS_CLAIM_REMIND_AFTER_DAYS = env.int("REQUESTS_CLAIM_REMIND_AFTER_DAYS", default=7)
REQUESTS_CLAIM_RELEASE_AFTER_DAYS = env.int("REQUESTS_CLAIM_RELEASE_AFTER_DAYS", default=7)
REQUESTS_MAX_DATA_LINKS = 10
# Volunteers claim requests once they reach this trust level (0: at once).
REQUESTS_CLAIM_MIN_TRUST_LEVEL = env.int("REQUESTS_CLAIM_MIN_TRUST_LEVEL", default=1)

# --- Anonymization: upload quarantine and review -----------------------------------------
ANONYMIZATION_MAX_FILE_BYTES = env.int("ANONYMIZATION_MAX_FILE_MB", default=50) * 1024 * 1024
# Any request body larger than the largest file plus 1 MB for the other form fields is refused with
# 413 before it is read (forum.middleware.RequestBodyLimitMiddleware).
REQUEST_MAX_BODY_BYTES = ANONYMIZATION_MAX_FILE_BYTES + 1024 * 1024
# Per person, over the last 24 hours.
ANONYMIZATION_MAX_FILES_PER_DAY = env.int("ANONYMIZATION_MAX_FILES_PER_DAY", default=30)
ANONYMIZATION_MAX_BYTES_PER_DAY = env.int("ANONYMIZATION_MAX_MB_PER_DAY", default=500) * 1024 * 1024
# Bounds that keep a pathological file from stalling a worker.
ANONYMIZATION_MAX_ARCHIVE_MEMBERS = 2000
ANONYMIZATION_MAX_UNCOMPRESSED_BYTES = env.int("ANONYMIZATION_MAX_UNCOMPRESSED_MB", default=500) * 1024 * 1024
ANONYMIZATION_MAX_COMPRESSION_RATIO = 200
ANONYMIZATION_MAX_IMAGE_PIXELS = env.int("ANONYMIZATION_MAX_IMAGE_PIXELS", default=80_000_000)
# Enough for a whole 50 MB table (about 8 million cells); the task's time limit bounds the rest.
ANONYMIZATION_SCAN_MAX_CELLS = env.int("ANONYMIZATION_SCAN_MAX_CELLS", default=20_000_000)
ANONYMIZATION_SCAN_SOFT_TIME_LIMIT = env.int("ANONYMIZATION_SCAN_SOFT_TIME_LIMIT", default=300)
# Without a broker (tasks run in-process), scans run on a background thread of the web process, never
# inside the upload's request; that thread also re-queues scans a dead process left unfinished.
ANONYMIZATION_SCAN_IN_BACKGROUND = env.bool("ANONYMIZATION_SCAN_IN_BACKGROUND", default=True)
# A clean file (no findings) in a request not declared as identifying may skip human review.
ANONYMIZATION_AUTO_PUBLISH_CLEAN = env.bool("ANONYMIZATION_AUTO_PUBLISH_CLEAN", default=False)
ANONYMIZATION_RETENTION_DAYS = env.int("ANONYMIZATION_RETENTION_DAYS", default=30)
ANONYMIZATION_DOWNLOAD_LINK_SECONDS = env.int("ANONYMIZATION_DOWNLOAD_LINK_SECONDS", default=600)

# --- Notifications and email (forum/services/mail.py, digests.py) ------------------
# Notification emails wait this long, so what a person reads on the site meanwhile is not sent.
NOTIFICATIONS_EMAIL_DELAY_SECONDS = env.int(
    "NOTIFICATIONS_EMAIL_DELAY_SECONDS", default=0 if CELERY_TASK_ALWAYS_EAGER else 120)
NOTIFICATIONS_FANOUT_CHUNK = env.int("NOTIFICATIONS_FANOUT_CHUNK", default=1000)  # watchers per task
EMAIL_BATCH_SIZE = env.int("EMAIL_BATCH_SIZE", default=100)  # emails per SMTP connection
EMAIL_HARD_FAILURES_BEFORE_FAILING = env.int("EMAIL_HARD_FAILURES_BEFORE_FAILING", default=3)
DIGEST_CHUNK = env.int("DIGEST_CHUNK", default=200)  # digests per task
NEWSLETTER_CONFIRM_DAYS = env.int("NEWSLETTER_CONFIRM_DAYS", default=7)
NEWSLETTER_CONFIRM_RESEND_MINUTES = 10

# --- Licensing policy (licensing/policy.py) ---------------------------------------------
# SPDX identifiers allowed per kind of item, the first being the default the forms preselect.
LICENSING_DATA_LICENSES = env.list("LICENSING_DATA_LICENSES", default=["CC-BY-SA-4.0", "CC-BY-4.0", "CC0-1.0"])
LICENSING_RESULT_LICENSES = env.list("LICENSING_RESULT_LICENSES", default=["BSD-3-Clause", "BSD-2-Clause"])
# "osi" allows every license the Open Source Initiative approved (the SPDX list's flag);
# a list allows only those identifiers.
LICENSING_CODE_LICENSES = env.list("LICENSING_CODE_LICENSES", default=["osi"])
LICENSING_CODE_DEFAULT = env.str("LICENSING_CODE_DEFAULT", default="MIT")
# Bundles of more public files than this are built by a worker while the person waits.
LICENSING_EXPORT_INLINE_BYTES = env.int("LICENSING_EXPORT_INLINE_MB", default=5) * 1024 * 1024
LICENSING_EXPORT_MAX_BYTES = env.int("LICENSING_EXPORT_MAX_MB", default=2048) * 1024 * 1024

# Scans are slow and bounded in time; they have their own queue so email never waits behind them.
CELERY_TASK_ROUTES = {"anonymization.tasks.scan_upload": {"queue": "scans"}}
CELERY_TASK_ANNOTATIONS = {"anonymization.tasks.scan_upload": {
    "soft_time_limit": ANONYMIZATION_SCAN_SOFT_TIME_LIMIT, "time_limit": ANONYMIZATION_SCAN_SOFT_TIME_LIMIT + 60,
}}

CELERY_BEAT_SCHEDULE = {
    "expire-claims": {"task": "requests_board.tasks.expire_claims", "schedule": 3600.0},
    "send-due-emails": {"task": "forum.tasks.send_due_emails", "schedule": 60.0},
    "update-trust-levels": {"task": "forum.tasks.update_trust_levels", "schedule": 86400.0},
    "send-digests": {"task": "forum.tasks.send_digests", "schedule": 900.0},
    "rescan-stalled-uploads": {"task": "anonymization.tasks.rescan_stalled", "schedule": 600.0},
    "republish-stalled-uploads": {"task": "anonymization.tasks.republish_stalled", "schedule": 600.0},
    "delete-expired-uploads": {"task": "anonymization.tasks.delete_expired_files", "schedule": 24 * 3600.0},
    "recheck-licenses": {"task": "licensing.tasks.check_pending_licenses", "schedule": 600.0},
    "build-stalled-exports": {"task": "requests_board.tasks.build_stalled_exports", "schedule": 600.0},
}

# --- REST API (config/api_urls.py: forum/api/, requests_board/api/) --------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "forum.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["forum.api.access.ApiAccess"],
    "DEFAULT_PAGINATION_CLASS": "forum.api.pagination.CursorPage",
    "DEFAULT_PARSER_CLASSES": ["forum.api.parsers.BoundedJSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "forum.api.schema.ApiSchema",
    "EXCEPTION_HANDLER": "forum.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_VERSIONING_CLASS": None,
}
# A JSON body larger than this is refused with 413 before it is parsed (uploads have their own limit).
API_MAX_JSON_BYTES = env.int("API_MAX_JSON_KB", default=256) * 1024
API_MAX_TOKENS_PER_PERSON = 20
# Writing last_used_at on every call would make each read a write: once a minute is enough to show.
API_TOKEN_TOUCH_SECONDS = 60
SPECTACULAR_SETTINGS = {
    "TITLE": "Data help desk API",
    "DESCRIPTION": (
        "Everything public, and everything a signed-in person may do on the web, for scripts, dashboards and "
        "other portals. Authenticate with a personal token (`Authorization: Token <token>`), created on your "
        "API tokens page; read tokens cannot write. Errors share one shape: "
        "`{\"error\": {\"code\": \"...\", \"message\": \"...\", \"fields\": {...}}}`. Lists are paginated "
        "with opaque cursors: follow `next` until it is null."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    # validatorUrl: null, or Swagger UI asks a third-party validator about our schema on every visit.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None, "persistAuthorization": False},
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "RequestStateEnum": "requests_board.models.DataRequest.State",
        "LicenseStateEnum": "licensing.models.LicensedItem.State",
    },
    "DISABLE_ERRORS_AND_WARNINGS": False,
}
