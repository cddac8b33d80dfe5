"""Secrets never reach a log: source tokens in /hook/<token> paths, and any secret of
core/secrets.py wherever it appears, in Django's request warnings (caplog),
and the access lines of a real runserver and a real gunicorn process."""

import os
import subprocess
import sys
import uuid

import pytest
import requests
from django.conf import settings

from core.log_filters import REDACTED, redact
from core.secrets import SecretKind, secret_issue
from tests.http import free_port, port_open
from tests.services import ARTIFACTS, test_database_url, wait_until

UNKNOWN = "wsr_" + "unknownTokenThatIsLongEnough0123456789abcd"


def test_redact_keeps_only_the_visible_prefix_of_a_hook_token():
    line = f'"POST /hook/{UNKNOWN}/ HTTP/1.1" 401 57 and /hook/{UNKNOWN}?x=1'
    assert redact(line) == (
        f'"POST /hook/wsr_unknownT{REDACTED}/ HTTP/1.1" 401 57 and /hook/wsr_unknownT{REDACTED}?x=1'
    )
    assert redact("/hook/short") == f"/hook/{REDACTED}"
    assert redact("GET /people/?q=hook 200") == "GET /people/?q=hook 200"


@pytest.mark.parametrize("kind", list(SecretKind))
def test_redact_keeps_only_the_visible_prefix_of_a_secret_of_any_kind_anywhere(kind):
    issued = secret_issue(kind)
    secret, kept = issued.secret, issued.visible_prefix + REDACTED
    lines = {
        f"GET /api/v1/people/?key={secret}&q=1 401": f"GET /api/v1/people/?key={kept}&q=1 401",
        f"POST /hook/{secret} 200": f"POST /hook/{kept} 200",
        f"GET /invite/{secret}/ 200": f"GET /invite/{kept}/ 200",
        f"Authorization: Bearer {secret}": f"Authorization: Bearer {kept}",
        f"q=Bearer%20{secret}%0A": f"q=Bearer%20{kept}%0A",
        f'{{"writeKey": "{secret}"}}': f'{{"writeKey": "{kept}"}}',
    }
    for line, expected in lines.items():
        assert redact(line) == expected
        assert redact(expected) == expected
    short = kind.prefix + "abc"
    assert redact(f"key={short}&x") == f"key={REDACTED}&x"
    # A prefix alone is not a secret: a message naming the kind stays readable.
    assert redact(f"Send a key ({kind.prefix}…)") == f"Send a key ({kind.prefix}…)"


RESET_TOKEN = "cz5rht-0123456789abcdef0123456789abcdef"


def test_redact_removes_a_password_reset_token_and_keeps_the_rest_of_the_path():
    line = f'"GET /accounts/reset/MQ/{RESET_TOKEN}/ HTTP/1.1" 302 0 "https://x/accounts/reset/MQ/{RESET_TOKEN}"'
    assert redact(line) == (
        f'"GET /accounts/reset/MQ/{REDACTED}/ HTTP/1.1" 302 0 "https://x/accounts/reset/MQ/{REDACTED}"'
    )
    assert redact(f"/accounts/reset%2FMQ%2F{RESET_TOKEN}") == f"/accounts/reset%2FMQ%2F{REDACTED}"
    assert redact(redact(line)) == redact(line)
    # Where the link redirects to, and the pages around it, carry no token and stay readable.
    for kept in [
        '"GET /accounts/reset/MQ/set-password/ HTTP/1.1" 200',
        '"POST /accounts/password-reset/ HTTP/1.1" 302',
        '"GET /accounts/reset/done/ HTTP/1.1" 200',
    ]:
        assert redact(kept) == kept


@pytest.mark.django_db
def test_djangos_unauthorized_warning_names_the_hook_path_without_its_token(client, caplog):
    response = client.post(f"/hook/{UNKNOWN}", b"{}", content_type="application/json")
    assert response.status_code == 401
    assert f"Unauthorized: /hook/wsr_unknownT{REDACTED}" in caplog.text
    assert UNKNOWN not in caplog.text
    assert all(UNKNOWN not in r.getMessage() for r in caplog.records)


def serve(name: str, args: list[str], stream: str) -> tuple[subprocess.Popen, str, object]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "DJANGO_DEBUG": "1",
        "INGEST_STREAM": stream,
        "PYTHONUNBUFFERED": "1",
    }
    ARTIFACTS.mkdir(exist_ok=True)
    log = open(ARTIFACTS / f"{name}.log", "w+b")  # noqa: SIM115 - closed by the caller
    proc = subprocess.Popen(
        [arg.replace("PORT", str(port)) for arg in args],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    wait_until(lambda: port_open(port) or proc.poll() is not None, f"{name} to listen", 60)
    return proc, f"http://127.0.0.1:{port}", log


SERVERS = {
    # gunicorn reads gunicorn.conf.py from the repository root, as it does in production.
    "gunicorn": [
        sys.executable,
        "-m",
        "gunicorn",
        "windsor.wsgi",
        "--bind",
        "127.0.0.1:PORT",
        "--workers",
        "1",
        "--access-logfile",
        "-",
    ],
    "runserver": [sys.executable, "manage.py", "runserver", "127.0.0.1:PORT", "--noreload"],
}


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server", sorted(SERVERS))
def test_a_real_servers_access_log_has_no_hook_token(server, token):
    stream = f"test:ingest:{uuid.uuid4().hex}"
    proc, url, log = serve(f"log-redaction-{server}", SERVERS[server], stream)
    try:
        body = b'{"batch": [{"type": "event", "event": "E", "userId": "u"}]}'
        headers = {"Content-Type": "application/json"}
        assert requests.post(f"{url}/hook/{token}", data=body, headers=headers).status_code == 200
        assert requests.post(f"{url}/hook/{UNKNOWN}", data=body, headers=headers).status_code == 401
        reset = requests.get(f"{url}/accounts/reset/MQ/{RESET_TOKEN}/", allow_redirects=False)
        assert reset.status_code == 200  # an unknown account's link: the "invalid link" page
        # A server logs a request after answering it: wait for the line before stopping it.
        log_path = ARTIFACTS / f"log-redaction-{server}.log"
        wait_until(lambda: b"GET /accounts/reset/" in log_path.read_bytes(), "the reset line", 20)
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.seek(0)
        output = log.read().decode()
        log.close()
        import redis

        redis.Redis.from_url(settings.CELERY_BROKER_URL).delete(stream, f"{stream}:drain-pending")
    assert "POST /hook/" in output, output
    assert token not in output and UNKNOWN not in output, output
    assert f"/hook/{token[:12]}{REDACTED}" in output
    assert f"/hook/wsr_unknownT{REDACTED}" in output
    assert RESET_TOKEN not in output and f"/accounts/reset/MQ/{REDACTED}/" in output
