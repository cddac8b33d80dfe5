import json
import secrets
import shlex
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.models import Membership
from accounts.services import source_create, source_for_token, workspace_create

DEV_EMAIL = "admin@example.com"


class Command(BaseCommand):
    help = (
        "Make sure a local login, a workspace and a Segment source exist, and print how to use "
        "them. Credentials for this machine are kept in var/ (git-ignored)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--base-url", default="http://127.0.0.1:8000")

    @transaction.atomic
    def handle(self, *args, base_url: str, **options) -> None:
        state_path = Path(settings.VAR_DIR) / "dev_login.json"
        state = json.loads(state_path.read_text()) if state_path.exists() else {}

        User = get_user_model()
        user = User.objects.filter(username=DEV_EMAIL).first()
        if user is None or "password" not in state:
            state["password"] = secrets.token_urlsafe(12)
            user = user or User(username=DEV_EMAIL, email=DEV_EMAIL)
            user.is_staff = True
            user.is_superuser = True
            user.set_password(state["password"])
            user.save()

        membership = Membership.objects.filter(user=user).select_related("workspace").first()
        if membership is None:
            workspace = workspace_create(name="My startup", owner=user)
        else:
            workspace = membership.workspace

        source = source_for_token(state.get("token", ""))
        if source is None or source.workspace_id != workspace.pk:
            state["token"] = source_create(
                workspace=workspace, name="Segment", created_by=user
            ).token
        state_path.write_text(json.dumps(state))
        state_path.chmod(0o600)

        body = json.dumps(
            {
                "userId": "user-123",
                "traits": {"name": "John Doe", "email": "john@example.com"},
            }
        )
        curl = (
            f"curl -sS -u {shlex.quote(state['token'] + ':')} "
            f"-H 'Content-Type: application/json' -d {shlex.quote(body)} {base_url}/v1/identify"
        )
        self.stdout.write(
            "\n".join(
                [
                    "",
                    "Windsor is ready.",
                    f"  Open:      {base_url}/",
                    f"  Log in:    {DEV_EMAIL} / {state['password']}",
                    f"  Workspace: {workspace.name}",
                    f"  Token:     {state['token']}",
                    "  Send an identify:",
                    f"    {curl}",
                    "",
                ]
            )
        )
