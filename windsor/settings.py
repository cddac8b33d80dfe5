"""Windsor settings: one module; what differs between machines comes from the environment.

With nothing set this is the embedded default: SQLite and a generated secret key in ``var/``,
Celery tasks run in-process, no Redis. ``DATABASE_URL`` and ``CELERY_BROKER_URL`` turn it into the
production stack (PostgreSQL, Redis, Celery workers).
"""

import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WINDSOR_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _generated_secret_key() -> str:
    # Kept on disk so sessions survive restarts of the embedded default.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = _env_bool("DJANGO_DEBUG", default="DATABASE_URL" not in os.environ)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY") or (_generated_secret_key() if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]").split(",")
    if h.strip()
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_htmx",
    "django_prometheus",
    "accounts",
    "people",
    "feed",
    "ingest",
    "ops",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.WorkspaceMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
]

ROOT_URLCONF = "windsor.urls"
WSGI_APPLICATION = "windsor.wsgi.application"
ASGI_APPLICATION = "windsor.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{VAR_DIR / 'windsor.sqlite3'}",
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the dashboard read while the in-process worker writes.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "people:list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

SESSION_COOKIE_SECURE = _env_bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# --- Celery -----------------------------------------------------------------------------------
# No broker configured means the embedded default: tasks run in the calling process.
CELERY_BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
CELERY_BEAT_SCHEDULE = {
    # Safety net: drains the durable inbox (and the Redis queue) even when no request arrives.
    "drain-ingest": {"task": "ingest.tasks.drain_ingest", "schedule": 5.0},
}

# --- Ingest -----------------------------------------------------------------------------------
# The ingest queue lives in Redis next to the broker unless told otherwise; empty = embedded.
INGEST_REDIS_URL = os.environ.get(
    "INGEST_REDIS_URL", CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""
)
INGEST_MAX_MESSAGE_BYTES = 32 * 1024
INGEST_MAX_REQUEST_BYTES = 500 * 1024
INGEST_MAX_BATCH_MESSAGES = 2500
# The Redis Stream (and prefix of the ingest keys): tests use their own so workers stay out.
INGEST_STREAM = os.environ.get("INGEST_STREAM", "windsor:ingest")
INGEST_BATCH_SIZE = int(os.environ.get("INGEST_BATCH_SIZE", "500"))
# Per-source rate limit in messages per second; 0 turns it off (the default).
INGEST_RATE_LIMIT_PER_SECOND = int(os.environ.get("INGEST_RATE_LIMIT_PER_SECOND", "0"))
# A request falls back to the database inbox when Redis does not answer within this many seconds.
INGEST_REDIS_TIMEOUT = float(os.environ.get("INGEST_REDIS_TIMEOUT", "1.0"))
# Entries a worker took but did not acknowledge for this long are taken over by another worker;
# after this many deliveries they go to the dead-letter table instead.
INGEST_CLAIM_IDLE_SECONDS = float(os.environ.get("INGEST_CLAIM_IDLE_SECONDS", "60"))
INGEST_MAX_DELIVERIES = int(os.environ.get("INGEST_MAX_DELIVERIES", "10"))
# One drain task stops after this long and hands over to a fresh one.
INGEST_DRAIN_SECONDS = float(os.environ.get("INGEST_DRAIN_SECONDS", "30"))
# A drain that finds a backlog wakes one more drain at most this often (0: never), so a burst
# spreads over all workers.
INGEST_FANOUT_SECONDS = float(os.environ.get("INGEST_FANOUT_SECONDS", "1"))
# Rejected messages kept per source for the Sources page and admin (the newest ones).
INGEST_REJECTIONS_KEPT = int(os.environ.get("INGEST_REJECTIONS_KEPT", "500"))
# How long a process trusts a token it has checked (a revocation elsewhere takes this long to
# reach it); 0 checks the database on every request.
INGEST_TOKEN_CACHE_SECONDS = float(os.environ.get("INGEST_TOKEN_CACHE_SECONDS", "5"))
# `make bench` only: exposes /bench/bare, a do-nothing view to compare the ingest path with.
INGEST_BENCH_VIEWS = _env_bool("WINDSOR_BENCH_VIEWS", default=False)

# --- Operations -------------------------------------------------------------------------------
# /metrics answers a bearer token, or clients on these networks (requests relayed by a proxy
# need the token). An empty list allows the token only.
WINDSOR_METRICS_TOKEN = os.environ.get("WINDSOR_METRICS_TOKEN", "")
WINDSOR_METRICS_ALLOWED_NETWORKS = [
    ipaddress.ip_network(n.strip(), strict=False)
    for n in os.environ.get("WINDSOR_METRICS_ALLOWED_NETWORKS", "127.0.0.1/32,::1/128").split(",")
    if n.strip()
]

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("WINDSOR_LOG_LEVEL", "WARNING")},
}
