"""Settings read in a fresh interpreter with a given environment, for the tests of what a deploy
gets."""

import json
import os
import subprocess
import sys

from django.conf import settings

NAMES = [
    "DEBUG",
    "EMBEDDED",
    "WINDSOR_SIGNUP",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_PROXY_SSL_HEADER",
    "WINDSOR_PROXY_COUNT",
    "CACHES",
    "EMAIL_BACKEND",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
]
SECRET = "s" * 10 + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
# Variables of the machine or CI that would make every case "configured".
CLEARED = {
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "INGEST_REDIS_URL",
    "CACHE_URL",
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DJANGO_CSRF_TRUSTED_ORIGINS",
    "DJANGO_STATIC_ROOT",
    "WINDSOR_SIGNUP",
    "WINDSOR_PROXY_COUNT",
    "EMAIL_URL",
}


def settings_with(tmp_path, **env: str) -> dict:
    base = {
        k: v
        for k, v in os.environ.items()
        if k not in CLEARED and not k.startswith("DJANGO_SECURE")
    }
    base["WINDSOR_VAR_DIR"] = str(tmp_path)
    code = (
        "import json, windsor.settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {NAMES!r}}}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=settings.BASE_DIR,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)
