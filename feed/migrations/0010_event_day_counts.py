"""The per-identity, per-event-name, per-day counts of track events (feed.models.EventDayCount)
that behaviour conditions read, and their backfill from the events stored before them.

On PostgreSQL the backfill is one INSERT .. SELECT in the database (the day is the UTC date of
the event's timestamp); the embedded SQLite database is small enough for the ORM. Events stored
while it runs by workers of the previous version would not be counted: migrate with the workers
stopped (docs/operations.md says how long it takes).
"""

import django.db.models.deletion
from django.db import migrations, models

PG_BACKFILL = """
    INSERT INTO feed_eventdaycount (workspace_id, identity_id, name, day, n)
    SELECT workspace_id, identity_id, name, (timestamp AT TIME ZONE 'UTC')::date, count(*)
    FROM feed_event WHERE type = 'track' AND identity_id IS NOT NULL
    GROUP BY 1, 2, 3, 4
"""


def day_counts_backfill(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(PG_BACKFILL)
        return
    from django.db.models import Count
    from django.db.models.functions import TruncDate

    Event = apps.get_model("feed", "Event")
    EventDayCount = apps.get_model("feed", "EventDayCount")
    rows = (
        Event.objects.order_by()
        .filter(type="track", identity__isnull=False)
        .annotate(d=TruncDate("timestamp"))
        .values_list("workspace_id", "identity_id", "name", "d")
        .annotate(n=Count("id"))
    )
    EventDayCount.objects.bulk_create(
        (
            EventDayCount(workspace_id=w, identity_id=i, name=name, day=d, n=n)
            for w, i, name, d, n in rows.iterator()
        ),
        batch_size=1000,
    )


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0006_audit_credential_actions'),
        ('feed', '0009_event_message_key'),
        ('people', '0012_person_ids_unlinked'),
    ]

    operations = [
        migrations.CreateModel(
            name='EventDayCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=255)),
                ('day', models.DateField()),
                ('n', models.BigIntegerField(default=0)),
                ('identity', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='people.identity')),
                ('workspace', models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.workspace')),
            ],
            options={
                'indexes': [models.Index(fields=['workspace', 'name', 'day', 'identity', 'n'], name='event_day_count_name')],
                'constraints': [models.UniqueConstraint(fields=('identity', 'name', 'day'), name='event_day_count_key')],
            },
        ),
        migrations.RunPython(day_counts_backfill, migrations.RunPython.noop),
    ]
