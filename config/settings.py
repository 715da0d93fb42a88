"""Kadr settings: one module, driven by the environment.

With no environment at all, Kadr runs on its embedded default: SQLite, media on
the local disk under ./var, and Celery over kombu's filesystem transport (no
broker server). Production sets DATABASE_URL, CELERY_BROKER_URL, the storage
variables and SECRET_KEY; see README "Configuration".
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dj_database_url
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from config.env import envbool, envfloat, envint, envlist, envstr

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(envstr("KADR_VAR_DIR", str(BASE_DIR / "var")))

DEBUG = envbool("DEBUG", True)
SECRET_KEY = envstr("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is required whenever DEBUG is off.")
    SECRET_KEY = "kadr-insecure-development-key-only-for-debug"  # noqa: S105

ALLOWED_HOSTS = envlist("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = envlist("CSRF_TRUSTED_ORIGINS")
# The absolute address people reach Kadr at: used in e-mails, iCal feeds and embeds.
SITE_URL = envstr("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "media_pipeline",
    "crew",
]

MIDDLEWARE = [
    # /healthz answers before the host check and the HTTPS redirect (probes speak plain HTTP).
    "config.health.HealthCheckMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "crew.middleware.KadrLocaleMiddleware",  # Ukrainian unless switched; see the module
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

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
                "crew.context_processors.kadr",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.parse(
        envstr("DATABASE_URL", f"sqlite:///{VAR_DIR / 'kadr.sqlite3'}"),
        # Each request opening its own connection cost milliseconds of CPU per upload
        # chunk (bench/upload.py); kept connections are checked before reuse.
        conn_max_age=envint("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes progress.
    DATABASES["default"].setdefault("OPTIONS", {})["init_command"] = (
        "PRAGMA journal_mode=WAL; PRAGMA busy_timeout=5000;"
    )
    # Each transaction takes the write lock up front, so a second writer waits (busy_timeout)
    # and then sees the first one's result (→ 409) instead of failing with "database is locked".
    DATABASES["default"]["OPTIONS"]["transaction_mode"] = "IMMEDIATE"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "crew:board"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "uk"
LANGUAGES = [("uk", _("Ukrainian")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
# The switch's choice outlives the browser session (Django's default cookie does not).
LANGUAGE_COOKIE_AGE = 365 * 24 * 3600
TIME_ZONE = "Europe/Kyiv"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(envstr("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "config.staticfiles.StaticFilesStorage"
        )
    },
}

# --- Security (production: DEBUG off) -------------------------------------------------
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = envbool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"  # embeds opt out per view
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Large uploads stream to disk in chunks; keep request bodies in memory small.
DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
FILE_UPLOAD_TEMP_DIR = envstr("FILE_UPLOAD_TEMP_DIR", str(VAR_DIR / "tmp"))
# The embedded default keeps its state under ./var; make sure the folders exist.
for _dir in (VAR_DIR, Path(FILE_UPLOAD_TEMP_DIR)):
    _dir.mkdir(parents=True, exist_ok=True)

# --- E-mail ---------------------------------------------------------------------------
EMAIL_BACKEND = envstr(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend"
    if not envstr("EMAIL_HOST")
    else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = envstr("EMAIL_HOST", "localhost")
EMAIL_PORT = envint("EMAIL_PORT", 587)
EMAIL_HOST_USER = envstr("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = envstr("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = envbool("EMAIL_USE_TLS", True)
EMAIL_TIMEOUT = envint("EMAIL_TIMEOUT", 10)
DEFAULT_FROM_EMAIL = envstr("DEFAULT_FROM_EMAIL", "Kadr <kadr@localhost>")

# --- REST API -------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "rest_framework.filters.SearchFilter",
        "rest_framework.filters.OrderingFilter",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "crew.api.errors.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kadr API",
    "DESCRIPTION": "Shoot requests, shoots, media, cuts and publications of the press service.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from our own static files: no CDN at run time.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Celery ---------------------------------------------------------------------------
CELERY_BROKER_URL = envstr("CELERY_BROKER_URL", "filesystem://")
if CELERY_BROKER_URL.startswith("filesystem://"):
    _queue_dir = VAR_DIR / "celery"
    # kombu's filesystem transport expects its folders to exist.
    for _sub in ("queue", "processed", "control"):
        (_queue_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS: dict[str, object] = {
        "data_folder_in": str(_queue_dir / "queue"),
        "data_folder_out": str(_queue_dir / "queue"),
        "processed_folder": str(_queue_dir / "processed"),
        # kombu otherwise writes fanout exchange files into ./control
        "control_folder": str(_queue_dir / "control"),
        "store_processed": False,
    }
else:
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": envint("CELERY_VISIBILITY_TIMEOUT", 3600)
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
# ffmpeg already uses every core for one transcode: one or two tasks at a time per machine.
CELERY_WORKER_CONCURRENCY = envint("CELERY_WORKER_CONCURRENCY", 2)
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ROUTES = {"media_pipeline.tasks.process_asset": {"queue": "transcode"}}
CELERY_TASK_ALWAYS_EAGER = envbool("CELERY_TASK_ALWAYS_EAGER", False)
# Tasks outside a tasks.py module: the checksum of a direct-to-S3 upload.
CELERY_IMPORTS = ["media_pipeline.uploads"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-media": {
        "task": "media_pipeline.tasks.sweep",
        "schedule": timedelta(seconds=envint("KADR_SWEEP_INTERVAL", 60)),
    },
    "clean-abandoned-uploads": {
        "task": "media_pipeline.tasks.clean_abandoned_uploads",
        "schedule": crontab(minute=17),
    },
}

# --- Media pipeline -------------------------------------------------------------------
KADR_STORAGE = envstr("KADR_STORAGE", "local")  # "local" or "s3"
KADR_MEDIA_ROOT = Path(envstr("KADR_MEDIA_ROOT", str(VAR_DIR / "media")))
KADR_SCRATCH_DIR = Path(envstr("KADR_SCRATCH_DIR", str(VAR_DIR / "scratch")))
KADR_UPLOAD_DIR = Path(envstr("KADR_UPLOAD_DIR", str(VAR_DIR / "uploads")))
KADR_S3_BUCKET = envstr("KADR_S3_BUCKET", "kadr")
KADR_S3_ENDPOINT_URL = envstr("KADR_S3_ENDPOINT_URL") or None
# The bucket's address for browsers (presigned media and upload URLs), when it differs
# from the servers' one; empty = the same.
KADR_S3_PUBLIC_ENDPOINT_URL = envstr("KADR_S3_PUBLIC_ENDPOINT_URL") or None
KADR_S3_REGION = envstr("KADR_S3_REGION", "us-east-1")
KADR_S3_ACCESS_KEY_ID = envstr("KADR_S3_ACCESS_KEY_ID")
KADR_S3_SECRET_ACCESS_KEY = envstr("KADR_S3_SECRET_ACCESS_KEY")
KADR_S3_MULTIPART_THRESHOLD = envint("KADR_S3_MULTIPART_THRESHOLD", 16 * 1024 * 1024)
KADR_S3_MAX_CONCURRENCY = envint("KADR_S3_MAX_CONCURRENCY", 4)
KADR_S3_MAX_ATTEMPTS = envint("KADR_S3_MAX_ATTEMPTS", 5)
# Public base URL (a CDN in front of the bucket) for published media; empty = presigned URLs.
KADR_MEDIA_PUBLIC_BASE_URL = envstr("KADR_MEDIA_PUBLIC_BASE_URL").rstrip("/")
KADR_SIGNED_URL_TTL = envint("KADR_SIGNED_URL_TTL", 15 * 60)
KADR_PUBLIC_URL_TTL = envint("KADR_PUBLIC_URL_TTL", 12 * 3600)

KADR_MAX_UPLOAD_BYTES = envint("KADR_MAX_UPLOAD_BYTES", 20 * 1024**3)
KADR_UPLOAD_ABANDON_HOURS = envint("KADR_UPLOAD_ABANDON_HOURS", 24)
# A chunk whose client sends nothing for this many seconds ends there (what arrived is
# kept): a phone that lost its signal must not hold a server thread for ever.
KADR_UPLOAD_IDLE_TIMEOUT = envint("KADR_UPLOAD_IDLE_TIMEOUT", 60)
# A direct-to-S3 upload still without its sha256 after this long has its checksum task
# sent again by the sweeper (the broker may have been down when it completed).
KADR_CHECKSUM_RETRY_MINUTES = envint("KADR_CHECKSUM_RETRY_MINUTES", 30)
# Resumable uploads: the chunk size the browser sends (local storage), the part size it
# PUTs straight to the bucket (S3; at least 5 MiB), and how long a part URL is valid.
# 32 MiB: every chunk is a request with its own database writes, so fewer, larger chunks
# upload faster (bench/upload.py); a chunk cut off keeps what arrived, so size costs
# nothing on a weak connection, and the browser sends a slice of the file, never a copy.
KADR_UPLOAD_CHUNK_SIZE = envint("KADR_UPLOAD_CHUNK_SIZE", 32 * 1024 * 1024)
KADR_UPLOAD_PART_SIZE = envint("KADR_UPLOAD_PART_SIZE", 16 * 1024 * 1024)
KADR_UPLOAD_PART_URL_TTL = envint("KADR_UPLOAD_PART_URL_TTL", 3600)
# The tracker's side of an upload: who may upload where (checked at create), and what
# happens at completion (attach footage to a shoot, add a cut to a request).
KADR_UPLOAD_TARGET_CHECK = envstr("KADR_UPLOAD_TARGET_CHECK", "crew.uploads_hook.check_target")
KADR_UPLOAD_COMPLETE_HOOK = envstr(
    "KADR_UPLOAD_COMPLETE_HOOK", "crew.uploads_hook.on_upload_complete"
)
KADR_MAX_DURATION_SECONDS = envint("KADR_MAX_DURATION_SECONDS", 4 * 3600)
KADR_MAX_PIXELS = envint("KADR_MAX_PIXELS", 7680 * 4320)
KADR_MAX_STREAMS = envint("KADR_MAX_STREAMS", 16)
KADR_PROBE_TIMEOUT = envint("KADR_PROBE_TIMEOUT", 30)
KADR_LOUDNESS_LUFS = envfloat("KADR_LOUDNESS_LUFS", -16.0)
KADR_HLS_SEGMENT_SECONDS = envint("KADR_HLS_SEGMENT_SECONDS", 4)
KADR_MAX_ATTEMPTS = envint("KADR_MAX_ATTEMPTS", 3)
KADR_LEASE_SECONDS = envint("KADR_LEASE_SECONDS", 15 * 60)
KADR_FFMPEG_THREADS = envint("KADR_FFMPEG_THREADS", 0)
KADR_FFMPEG_BIN = envstr("KADR_FFMPEG_BIN", "ffmpeg")
KADR_FFPROBE_BIN = envstr("KADR_FFPROBE_BIN", "ffprobe")
# Rungs by the short side of the picture; bitrate caps in kbit/s.
KADR_RUNGS = {
    "1080p": {"short_side": 1080, "video_kbps": 5000, "audio_kbps": 160},
    "720p": {"short_side": 720, "video_kbps": 2800, "audio_kbps": 128},
    "480p": {"short_side": 480, "video_kbps": 1400, "audio_kbps": 96},
    "360p": {"short_side": 360, "video_kbps": 800, "audio_kbps": 96},
}
# What each purpose makes: which rungs, at which x264 preset, and what else.
KADR_PURPOSES = {
    "footage": {
        "rungs": ["480p"],
        "preset": "veryfast",
        # The editor judges the camera's own levels (a quiet lapel mic must sound quiet);
        # normalising them also cost about 4 of the ~29 CPU s per source minute.
        "loudnorm": False,
        "hls": False,
        "poster": True,
        "thumbnails": 0,
        "storyboard": True,
    },
    "review": {
        "rungs": ["720p", "360p"],
        "preset": "veryfast",
        "hls": True,
        "poster": True,
        "thumbnails": 5,
        "storyboard": True,
    },
    "publish": {
        "rungs": ["1080p", "720p", "480p", "360p"],
        "preset": "medium",
        "hls": True,
        "poster": True,
        "thumbnails": 5,
        "storyboard": True,
    },
}
# Who may see a media asset: a dotted path to `f(user, asset) -> bool` owned by the tracker.
KADR_MEDIA_ACCESS = "crew.media.can_view_asset"
# Told when a purpose's job fails for good: a dotted path to `f(asset, purpose, reason)`
# owned by the tracker (it notifies the uploader; the pipeline never imports the tracker).
KADR_MEDIA_FAILED_HOOK = "crew.media.on_media_failed"

# --- Tracker --------------------------------------------------------------------------
KADR_TRAVEL_BUFFER_MINUTES = envint("KADR_TRAVEL_BUFFER_MINUTES", 30)

# --- Logging: everything to stdout/stderr ----------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": envstr("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
