"""Fill `Person.search_text` for the people stored before it existed, in batches.

Each batch of BATCH people (by id, current and merged alike) is read and written in its own
transaction, so a large table is never locked whole and a stopped migration resumes where it
stood (rows already filled are skipped: `search_text` is "" only where it was never computed or
the person has nothing to find). Measured: docs/operations.md. The text is computed by
people/search_text.py, as the worker computes it, from the columns and traits already stored.
"""

from django.db import migrations, transaction

BATCH = 2000


def backfill(apps, schema_editor) -> None:
    from people.search_text import search_text_of, search_texts_write, search_traits_clean

    Workspace = apps.get_model("accounts", "Workspace")
    Person = apps.get_model("people", "Person")
    for workspace_id, keys in Workspace.objects.values_list("pk", "search_traits"):
        keys = search_traits_clean(keys or [])
        last = 0
        while True:
            with transaction.atomic(using=schema_editor.connection.alias):
                rows = list(
                    Person.objects.filter(workspace_id=workspace_id, pk__gt=last, search_text="")
                    .order_by("pk")
                    .values_list("pk", "name", "email", "phone", "traits")[:BATCH]
                )
                if not rows:
                    break
                last = rows[-1][0]
                people = []
                for pk, name, email, phone, traits in rows:
                    text = search_text_of(
                        name=name,
                        email=email,
                        phone=phone,
                        traits=traits if isinstance(traits, dict) else {},
                        keys=keys,
                    )
                    if text:
                        people.append((pk, text))
                search_texts_write(people, Person)


class Migration(migrations.Migration):
    # One transaction per batch, not one for the whole table.
    atomic = False

    dependencies = [
        ("accounts", "0007_workspace_search_traits"),
        ("people", "0013_person_search_text"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop, elidable=True)]
