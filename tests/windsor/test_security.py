"""Headers every page gets: the Content-Security-Policy, no-store where a token is shown, https."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

TEMPLATES = Path(settings.BASE_DIR) / "templates"


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    directives = (d.strip().split() for d in header.split(";") if d.strip())
    return {d[0]: d[1:] for d in directives}


@pytest.mark.parametrize("path", ["/accounts/login/", "/people/", "/feed/", "/sources/", "/admin/"])
def test_pages_run_only_scripts_and_styles_of_our_own_origin(owner_client, workspace, path):
    owner_client.get("/")  # signed in, a workspace: every page renders
    response = owner_client.get(path, follow=True)
    assert response.status_code == 200
    assert b"{#" not in response.content  # a template comment spread over lines is printed
    csp = policy(response)
    assert csp["script-src"] == ["'self'"]
    assert csp["style-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["frame-ancestors"] == ["'none'"]


def test_no_template_has_inline_scripts_handlers_or_styles():
    found = []
    for template in TEMPLATES.rglob("*.html"):
        text = template.read_text()
        for pattern in (
            r"<script(?![^>]*\bsrc=)",
            r"\son[a-z]+\s*=",
            r"\sstyle\s*=",
            r"<style",
            r"javascript:",
            r"hx-on",
            r"hx-trigger=\"[^\"]*\[",  # an htmx event filter is evaluated as code
        ):
            found += [f"{template.relative_to(TEMPLATES)}: {m}" for m in re.findall(pattern, text)]
    assert found == []


def test_a_response_that_shows_a_token_is_never_stored(owner_client, issued):
    added = owner_client.post(reverse("sources:add"), {"name": "Segment", "kind": "segment"})
    rotated = owner_client.post(reverse("sources:rotate", args=[issued.source.pk]))
    for response in (added, rotated):
        assert response.context["issued"].token.encode() in response.content
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]


@pytest.fixture
def production_https(settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_HSTS_SECONDS = 3600


def test_production_redirects_pages_to_https_but_not_senders(client, token, production_https):
    page = client.get("/accounts/login/")
    assert page.status_code == 301
    assert page["Location"] == "https://testserver/accounts/login/"
    # Behind the proxy, https requests are served and get HSTS.
    served = client.get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert served.status_code == 200
    assert served["Strict-Transport-Security"].startswith("max-age=3600")

    # A redirected POST loses its body: senders that post over http are answered, not redirected.
    body = b'{"batch": [{"type": "track", "event": "E", "userId": "u1"}]}'
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    batch = client.post("/v1/batch", body, content_type="application/json", **auth)
    assert batch.status_code == 200
    hook = client.post(f"/hook/{token}", b"{}", content_type="application/json")
    assert hook.status_code != 301


@pytest.mark.parametrize("path", ["healthz", "readyz", "metrics", "v1/batch", "hook/abc"])
def test_health_and_ingest_paths_are_exempt_from_the_https_redirect(path):
    assert any(re.search(pattern, path) for pattern in settings.SECURE_REDIRECT_EXEMPT)


def test_check_deploy_passes_with_production_settings(tmp_path):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(
            ("DJANGO_DEBUG", "DJANGO_SECURE", "DJANGO_ALLOW_ASYNC", "WINDSOR_SIGNUP")
        )
    }
    env.update(
        DJANGO_SECRET_KEY="check-deploy-" + "x7Kq9vLm2Pz" * 5,
        DJANGO_ALLOWED_HOSTS="windsor.example.com",
        DJANGO_STATIC_ROOT=str(tmp_path),
        WINDSOR_VAR_DIR=str(tmp_path),
        # Without one, the check warns that no mail can be sent (accounts.W001).
        EMAIL_URL="smtp+tls://mail.example.com:587",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
