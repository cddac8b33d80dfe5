from django.db import migrations, models


class Migration(migrations.Migration):
    """The type of the message that linked an id; feed 0006 fills it for ids linked before."""

    dependencies = [("people", "0005_analyze_early")]

    operations = [
        migrations.AddField(
            model_name="identity",
            name="linked_by_type",
            field=models.CharField(blank=True, max_length=10),
        ),
    ]
