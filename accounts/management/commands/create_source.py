from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.models import Membership, Workspace
from accounts.services import source_create, workspace_create


class Command(BaseCommand):
    help = (
        "Create a source (and its workspace and owner if missing); "
        "the new token is the last line of the output."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True)
        parser.add_argument("--name", required=True)
        parser.add_argument("--owner", help="email of the workspace owner to create or attach")

    @transaction.atomic
    def handle(self, *args, workspace: str, name: str, owner: str | None, **options) -> None:
        ws = Workspace.objects.filter(name=workspace).order_by("id").first()
        if ws is None:
            # Through the signup's service; the owner, when given, is attached below.
            ws = workspace_create(name=workspace, owner=None)
            self.stdout.write(f"Created workspace {workspace!r}.")
        if owner:
            user, created = get_user_model().objects.get_or_create(
                username=owner.lower(), defaults={"email": owner.lower()}
            )
            if created:
                user.set_unusable_password()
                user.save()
                self.stdout.write(f"Created user {owner} (set a password with changepassword).")
            Membership.objects.get_or_create(
                user=user, workspace=ws, defaults={"role": Membership.Role.OWNER}
            )
        issued = source_create(workspace=ws, name=name)
        self.stdout.write(f"Created source {name!r} (prefix {issued.source.token_prefix}).")
        self.stdout.write(issued.token)
