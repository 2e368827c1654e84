import uuid

from django.db import migrations, models


def public_ids_fill(apps, schema_editor):
    DomainReservation = apps.get_model("domains", "DomainReservation")
    for reservation in DomainReservation.objects.filter(public_id__isnull=True):
        reservation.public_id = uuid.uuid4()
        reservation.save(update_fields=["public_id"])


class Migration(migrations.Migration):
    dependencies = [
        ("domains", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="domainreservation",
            name="public_id",
            field=models.UUIDField(editable=False, null=True),
        ),
        migrations.RunPython(public_ids_fill, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="domainreservation",
            name="public_id",
            field=models.UUIDField(default=uuid.uuid4, editable=False, unique=True),
        ),
        migrations.AddField(
            model_name="domainreservation",
            name="released_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="domainreservation",
            name="released_by",
            field=models.CharField(blank=True, max_length=254),
        ),
    ]
