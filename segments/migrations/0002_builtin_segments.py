"""The built-in segments (segments/builtin.py) for the workspaces made before segments; new ones
get them from the post_save receiver of segments/apps.py."""

from django.db import migrations


def builtins_add(apps, schema_editor) -> None:
    from segments.builtin import BUILTINS

    Workspace = apps.get_model("accounts", "Workspace")
    Segment = apps.get_model("segments", "Segment")
    rows = [
        Segment(
            workspace_id=workspace_id,
            builtin=key,
            name=spec["name"],
            description=spec["description"],
            filter=spec["filter"],
            visibility="team",
        )
        for workspace_id in Workspace.objects.values_list("pk", flat=True).iterator()
        for key, spec in BUILTINS.items()
    ]
    Segment.objects.bulk_create(rows, batch_size=1000, ignore_conflicts=True)


class Migration(migrations.Migration):
    dependencies = [("segments", "0001_initial")]

    operations = [migrations.RunPython(builtins_add, migrations.RunPython.noop)]
