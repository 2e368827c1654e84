from django.db import migrations, models

# Rows written before these columns existed take them from their user while it still exists.
BACKFILL = """
UPDATE accounts_signinevent AS event
SET user_public_id = person.public_id,
    user_email = person.email,
    user_name = COALESCE(NULLIF(person.display_name, ''),
                         TRIM(person.first_name || ' ' || person.last_name))
FROM accounts_user AS person
WHERE event.user_id = person.id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_sign_in_log_export"),
    ]

    operations = [
        migrations.AddField(
            model_name="signinevent",
            name="user_email",
            field=models.CharField(blank=True, max_length=254),
        ),
        migrations.AddField(
            model_name="signinevent",
            name="user_name",
            field=models.CharField(blank=True, max_length=256),
        ),
        migrations.AddField(
            model_name="signinevent",
            name="user_public_id",
            field=models.UUIDField(blank=True, null=True),
        ),
        migrations.RunSQL(BACKFILL, reverse_sql=migrations.RunSQL.noop),
    ]
