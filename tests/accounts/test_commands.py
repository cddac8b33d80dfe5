import json
from io import StringIO
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management import call_command

from accounts.models import Membership, Source, Workspace
from accounts.services import source_for_token


def run(*args: str) -> list[str]:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue().strip().splitlines()


def test_create_source_makes_what_is_missing_and_prints_the_token_last(db):
    lines = run("create_source", "--workspace", "Acme", "--name", "Segment", "--owner", "A@x.io")
    token = lines[-1]
    source = source_for_token(token)
    assert source is not None and source.name == "Segment"
    assert source.workspace.name == "Acme"
    user = get_user_model().objects.get(username="a@x.io")
    assert Membership.objects.get(user=user).role == Membership.Role.OWNER
    assert not Source.objects.filter(token_hash=token).exists()

    again = run("create_source", "--workspace", "Acme", "--name", "Server")
    assert again[-1] != token
    assert Workspace.objects.count() == 1
    assert Source.objects.count() == 2


def test_dev_setup_prints_a_working_login_and_token_and_keeps_them(db, settings, tmp_path, client):
    settings.VAR_DIR = tmp_path
    output = "\n".join(run("dev_setup", "--base-url", "http://127.0.0.1:8000"))
    state = json.loads(Path(tmp_path / "dev_login.json").read_text())
    assert state["password"] in output and state["token"] in output
    assert "curl" in output and "http://127.0.0.1:8000/v1/identify" in output
    assert client.login(username="admin@example.com", password=state["password"])
    assert source_for_token(state["token"]) is not None

    # A second run reuses the same login and token instead of piling up sources.
    run("dev_setup")
    assert json.loads(Path(tmp_path / "dev_login.json").read_text()) == state
    assert Source.objects.count() == 1
