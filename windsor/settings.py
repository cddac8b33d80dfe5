"""Windsor settings: one module; what differs between machines comes from the environment.

With nothing set this is the embedded default: SQLite and a generated secret key in ``var/``,
Celery tasks run in-process, no Redis, debug on, open signup. ``DATABASE_URL`` and
``CELERY_BROKER_URL`` turn it into the production stack (PostgreSQL, Redis, Celery workers).

Setting any deployment variable (``DEPLOYMENT_VARIABLES``) leaves the embedded default: debug is
then off unless ``DJANGO_DEBUG`` says otherwise, so a deploy that forgets ``DJANGO_DEBUG`` is not
served in debug. With debug off, cookies are secure, HSTS is sent, plain http is redirected to
https and ``X-Forwarded-Proto`` from the proxy is trusted; each has its own opt-out (README).
"""

import ipaddress
import os
import secrets
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured

from core.email_url import email_settings

# Every variable is read through django-environ. It takes a value that starts with "$" for the
# name of another variable, and a secret key or token may start with one: each "$" is escaped
# here and unescaped by it (escape_proxy), so values are read as written.
env = environ.Env()
env.escape_proxy = True
env.ENVIRON = {name: value.replace("$", r"\$") for name, value in os.environ.items()}

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env.str("WINDSOR_VAR_DIR", default=str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def _generated_secret_key() -> str:
    # Kept on disk so sessions survive restarts of the embedded default.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


# Any one of these means somebody is deploying Windsor, not trying it with `make run`.
DEPLOYMENT_VARIABLES = (
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "INGEST_REDIS_URL",
    "CACHE_URL",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "DJANGO_STATIC_ROOT",
)
EMBEDDED = not any(env.str(name, default="") for name in DEPLOYMENT_VARIABLES)
DEBUG = env.bool("DJANGO_DEBUG", default=EMBEDDED)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="") or (_generated_secret_key() if DEBUG else "")
if not SECRET_KEY:
    raise RuntimeError("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off.")

# Comma-separated; spaces around the commas and empty entries are ignored.
ALLOWED_HOSTS = [
    h
    for h in env.list(
        "DJANGO_ALLOWED_HOSTS", cast=str.strip, default=["127.0.0.1", "localhost", "[::1]"]
    )
    if h
]
CSRF_TRUSTED_ORIGINS = [
    o for o in env.list("DJANGO_CSRF_TRUSTED_ORIGINS", cast=str.strip, default=[]) if o
]

INSTALLED_APPS = [
    "csp",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "django_prometheus",
    "core",
    "accounts",
    "people",
    "feed",
    "segments",
    "ingest",
    "ops",
    "api",
]

MIDDLEWARE = [
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # /v1/... and /hook/: straight to the ingest view (no session, CSRF, user or HTML there).
    "ingest.middleware.IngestShortcutMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.WorkspaceMiddleware",
    # django-prometheus's, with the method label bounded (ops/middleware.py).
    "ops.middleware.BoundedPrometheusAfterMiddleware",
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
                "accounts.context_processors.team",
            ],
        },
    },
]

DATABASES = {
    "default": {
        **env.db_url_config(
            env.str("DATABASE_URL", default="") or f"sqlite:///{VAR_DIR / 'windsor.sqlite3'}"
        ),
        "CONN_MAX_AGE": env.int("DATABASE_CONN_MAX_AGE", default=60),
        "CONN_HEALTH_CHECKS": True,
    }
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
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
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
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
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

# --- Accounts -----------------------------------------------------------------------------------
# Who may create an account: `open` (anyone), `invite` (only someone holding a pending invitation
# link, accounts/team.py), `closed` (nobody; existing accounts still accept invitations). Trying
# Windsor locally is open; a deployment is not.
WINDSOR_SIGNUP = env.str("WINDSOR_SIGNUP", default="open" if EMBEDDED else "invite").strip().lower()
if WINDSOR_SIGNUP not in {"open", "invite", "closed"}:
    raise ImproperlyConfigured("WINDSOR_SIGNUP must be open, invite or closed.")

# Login and signup throttles (accounts/throttle.py): (attempts, window in seconds).
# Failed logins per account: stops online password guessing against one person.
THROTTLE_LOGIN_FAILURES_PER_ACCOUNT = (5, 15 * 60)
# Failed logins per client IP: stops one machine trying many accounts (one office behind a NAT
# mistyping passwords stays well under it).
THROTTLE_LOGIN_FAILURES_PER_IP = (20, 15 * 60)
# Signup submissions per client IP and per email: account creation and email probing.
THROTTLE_SIGNUPS_PER_IP = (10, 60 * 60)
THROTTLE_SIGNUPS_PER_EMAIL = (3, 60 * 60)

# Password-reset requests per client IP and per email typed: mail bombing and email probing.
THROTTLE_RESETS_PER_IP = (10, 60 * 60)
THROTTLE_RESETS_PER_EMAIL = (3, 60 * 60)

# Invitation mails (accounts/invitation_limits.py): (mails, window in seconds). New invitations per
# workspace: a burst of them is spam sent in the workspace's name. Mails to one address from any
# workspace, new or re-sent: mail bombing. Re-sends of one invitation, each at least
# INVITATION_RESEND_INTERVAL seconds after the last mail of it.
THROTTLE_INVITATIONS_PER_WORKSPACE = (20, 60 * 60)
THROTTLE_INVITATION_MAILS_PER_ADDRESS = (5, 24 * 60 * 60)
THROTTLE_RESENDS_PER_INVITATION = (5, 24 * 60 * 60)
INVITATION_RESEND_INTERVAL = 10 * 60

# --- Email ----------------------------------------------------------------------------------------
# Invitations and password resets. EMAIL_URL (core/email_url.py) picks SMTP; with none set the
# embedded default prints mails (the console backend) and a deployment sends none: a reset link
# printed to a deployment's logs would let whoever reads them into the account.
globals().update(email_settings(env.str("EMAIL_URL", default=""), embedded=EMBEDDED))
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Windsor <windsor@localhost>")
# A password-reset link works this long (Django's default is three days).
PASSWORD_RESET_TIMEOUT = 60 * 60 * 2

# --- Error reports -----------------------------------------------------------------------------
# The debug error page and mails to ADMINS hide passwords inside URLs (core/error_reports.py).
DEFAULT_EXCEPTION_REPORTER_FILTER = "core.error_reports.UrlCredentialsHidingFilter"

# --- Caches -------------------------------------------------------------------------------------
# Throttle counters must be shared by every web process: Redis in production (CACHE_URL, else the
# broker's Redis), process memory in the embedded default (one runserver process).
_broker = env.str("CELERY_BROKER_URL", default="")
CACHE_URL = env.str("CACHE_URL", default=_broker if _broker.startswith("redis") else "")
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "windsor",
            "TIMEOUT": 300,
        }
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- Security -----------------------------------------------------------------------------------
# Production (debug off) is https behind a proxy that sets X-Forwarded-Proto; each default has an
# opt-out for a plain-http run (README, "Production").
SECURE_DEFAULTS = not DEBUG
SESSION_COOKIE_SECURE = SECURE_DEFAULTS and env.bool("DJANGO_SECURE_COOKIES", default=True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = SECURE_DEFAULTS and env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
# Senders POST: a redirect loses the body (and a sender treats it as a failed delivery), so the
# ingest paths answer on http too; probes of the health paths come from inside the network.
SECURE_REDIRECT_EXEMPT = [r"^v1/", r"^hook/", r"^healthz/?$", r"^readyz/?$", r"^metrics/?$"]
SECURE_HSTS_SECONDS = (
    env.int("DJANGO_SECURE_HSTS_SECONDS", default=365 * 24 * 3600) if SECURE_DEFAULTS else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https")
    if SECURE_DEFAULTS and env.bool("DJANGO_SECURE_PROXY_SSL_HEADER", default=True)
    else None
)
# How many proxies in front of Windsor append to X-Forwarded-For: the client IP for the throttles
# is that many entries from the right. 0 (the default) ignores the header and counts REMOTE_ADDR:
# without a proxy that overwrites or appends to it, X-Forwarded-For is whatever the client wrote,
# and trusting it would give each guess a fresh address. Behind a proxy, set it (README).
WINDSOR_PROXY_COUNT = env.int("WINDSOR_PROXY_COUNT", default=0)
if WINDSOR_PROXY_COUNT < 0:
    raise ImproperlyConfigured("WINDSOR_PROXY_COUNT must be 0 or more.")
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
# Only our own scripts and stylesheets, in debug too (so the tests see the same policy). Avatars
# are senders' image URLs, hence any http(s) image.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "https:", "http:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# --- Celery -----------------------------------------------------------------------------------
# No broker configured means the embedded default: tasks run in the calling process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
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
INGEST_REDIS_URL = env.str(
    "INGEST_REDIS_URL", default=CELERY_BROKER_URL if CELERY_BROKER_URL.startswith("redis") else ""
)
INGEST_MAX_MESSAGE_BYTES = 32 * 1024
INGEST_MAX_REQUEST_BYTES = 500 * 1024
INGEST_MAX_BATCH_MESSAGES = 2500
# The Redis Stream (and prefix of the ingest keys): tests use their own so workers stay out.
INGEST_STREAM = env.str("INGEST_STREAM", default="windsor:ingest")
INGEST_BATCH_SIZE = env.int("INGEST_BATCH_SIZE", default=500)
# A drain reads about this many batches' worth of the stream at once and cuts it into batches of
# one workspace where it can (ingest/drain.py `batches`).
INGEST_READ_BATCHES = env.int("INGEST_READ_BATCHES", default=4)
# Per-source rate limit in messages per second; 0 turns it off (the default).
INGEST_RATE_LIMIT_PER_SECOND = env.int("INGEST_RATE_LIMIT_PER_SECOND", default=0)
# The same, for what browsers send (requests with an Origin header: analytics.js, whose key every
# visitor can read), on by default; 0 turns it off. analytics.js retries a 429 later.
INGEST_BROWSER_RATE_LIMIT_PER_SECOND = env.int("INGEST_BROWSER_RATE_LIMIT_PER_SECOND", default=500)
# A request falls back to the database inbox when Redis does not answer within this many seconds.
INGEST_REDIS_TIMEOUT = env.float("INGEST_REDIS_TIMEOUT", default=1.0)
# Entries a worker took but did not acknowledge for this long are taken over by another worker;
# after this many deliveries they go to the dead-letter table instead.
INGEST_CLAIM_IDLE_SECONDS = env.float("INGEST_CLAIM_IDLE_SECONDS", default=60.0)
INGEST_MAX_DELIVERIES = env.int("INGEST_MAX_DELIVERIES", default=10)
# One drain task stops after this long and hands over to a fresh one.
INGEST_DRAIN_SECONDS = env.float("INGEST_DRAIN_SECONDS", default=30.0)
# A drain that finds a backlog wakes one more drain at most this often (0: never), so a burst
# spreads over all workers.
INGEST_FANOUT_SECONDS = env.float("INGEST_FANOUT_SECONDS", default=1.0)
# A batch that creates more new ids than this locks the workspace's id creation as a whole
# instead of each id (people/locking.py): every key lock takes a slot of PostgreSQL's shared lock
# table. 0: four times the server's max_locks_per_transaction (256 on a default server).
INGEST_NEW_KEYS_LOCKED = env.int("INGEST_NEW_KEYS_LOCKED", default=0)
# Rejected messages kept per source for the Sources page and admin (the newest ones).
INGEST_REJECTIONS_KEPT = env.int("INGEST_REJECTIONS_KEPT", default=500)
# The most ids one person gathers (people/id_limit.py): a link that would take a person past it
# is not applied (the message is still stored) and is recorded on the person and the source.
WINDSOR_PERSON_IDS_MAX = env.int("WINDSOR_PERSON_IDS_MAX", default=1000)
# How long a process trusts a token it has checked (a revocation elsewhere takes this long to
# reach it); 0 checks the database on every request.
INGEST_TOKEN_CACHE_SECONDS = env.float("INGEST_TOKEN_CACHE_SECONDS", default=5.0)

# --- Operations -------------------------------------------------------------------------------
# /metrics answers a bearer token, or clients on these networks (requests relayed by a proxy
# need the token). An empty list allows the token only.
WINDSOR_METRICS_TOKEN = env.str("WINDSOR_METRICS_TOKEN", default="")
WINDSOR_METRICS_ALLOWED_NETWORKS = [
    ipaddress.ip_network(n.strip(), strict=False)
    for n in env.list("WINDSOR_METRICS_ALLOWED_NETWORKS", default=["127.0.0.1/32", "::1/128"])
    if n.strip()
]

# Ingest authenticates its own way (ingest/authentication.py); the Read API (api/) sets its
# classes on its views. JSON only: the API's docs page is the browsable view.
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "api.errors.api_exception_handler",
}

# --- Read API -----------------------------------------------------------------------------------
# Requests per API key (per member and workspace for a signed-in browser), counted in the shared
# cache; empty turns the throttle off.
API_RATE_LIMIT = env.str("WINDSOR_API_RATE_LIMIT", default="600/minute")
SPECTACULAR_SETTINGS = {
    "TITLE": "Windsor Read API",
    "DESCRIPTION": (
        "Read-only access to a workspace's people, groups and events. Authenticate with a "
        "workspace API key (`Authorization: Bearer wak_…`, created on the API keys page by an "
        "owner or admin), or with the signed-in browser's session. Lists are newest first and "
        "paginated by cursor: follow `next` and `previous`. Errors are JSON "
        '`{"code": …, "message": …}`.'
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Only the Read API: the ingest endpoints follow Segment's contract, documented in the README.
    "SCHEMA_PATH_PREFIX": r"/api/v1",
    "PREPROCESSING_HOOKS": ["api.schema.only_read_api"],
    # Swagger UI's files from the sidecar package, served by our own static files: no CDN, so
    # the docs work offline and under the Content-Security-Policy's script-src 'self'.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # No syntax colours: two of the stock theme's fall below AA contrast on its dark code blocks.
    "SWAGGER_UI_SETTINGS": {
        "persistAuthorization": False,
        "tryItOutEnabled": True,
        "syntaxHighlight": {"activated": False},
    },
}

# Source tokens travel in /hook/<token> paths: every logger that writes a path redacts them
# (core/log_filters.py; gunicorn's own loggers get it from gunicorn.conf.py).
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_tokens": {"()": "core.log_filters.TokenRedactingFilter"}},
    "formatters": {
        "django.server": {
            "()": "django.utils.log.ServerFormatter",
            "format": "[{server_time}] {message}",
            "style": "{",
        }
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["redact_tokens"]},
        # runserver's access lines, as Django's default logging writes them, redacted.
        "django.server": {
            "level": "INFO",
            "class": "logging.StreamHandler",
            "formatter": "django.server",
            "filters": ["redact_tokens"],
        },
    },
    "loggers": {
        # "Unauthorized: /hook/<token>" and the like; filtered where they are made, so that
        # every handler they propagate to (Django's own console one too) sees them redacted.
        "django.request": {"filters": ["redact_tokens"]},
        "django.server": {
            "handlers": ["django.server"],
            "level": "INFO",
            "propagate": False,
            "filters": ["redact_tokens"],
        },
    },
    "root": {"handlers": ["console"], "level": env.str("WINDSOR_LOG_LEVEL", default="WARNING")},
}
