"""Addresses are stored lower-cased (accounts.models.email_normalize) and looked up by exact
match, as allauth does: one unique index on email replaces the unique index on LOWER(email)
and the index on UPPER(email)."""

import django.db.models.functions.text
from django.db import migrations, models
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower


def lower_case_addresses(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    EmailAddress = apps.get_model("account", "EmailAddress")
    # No two users differ only by case: the unique index on LOWER(email) still holds here.
    User.objects.exclude(email=Lower("email")).update(email=Lower("email"))
    # allauth stores its rows lower-cased; rows written by our code from a user's address may
    # not be. One whose lower-cased twin exists already stays as it is (lookups find the twin).
    twin = EmailAddress.objects.filter(user_id=OuterRef("user_id"), email=Lower(OuterRef("email")))
    verified_elsewhere = EmailAddress.objects.filter(
        verified=True, email=Lower(OuterRef("email"))
    ).exclude(user_id=OuterRef("user_id"))
    (
        EmailAddress.objects.exclude(email=Lower("email"))
        .exclude(Exists(twin))
        .exclude(verified=True, pk__in=EmailAddress.objects.filter(Exists(verified_elsewhere)))
        .update(email=Lower("email"))
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_sign_in_log_moved_to_audit"),
        ("account", "0009_emailaddress_unique_primary_email"),
    ]

    operations = [
        migrations.RunPython(lower_case_addresses, migrations.RunPython.noop),
        migrations.RemoveIndex(model_name="user", name="user_email_upper"),
        migrations.RemoveConstraint(model_name="user", name="user_email_unique_ci"),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(fields=("email",), name="user_email_unique"),
        ),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.CheckConstraint(
                condition=models.Q(("email", django.db.models.functions.text.Lower("email"))),
                name="user_email_lower_case",
            ),
        ),
    ]
