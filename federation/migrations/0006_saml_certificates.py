"""A SAML IdP keeps every signing certificate of its metadata (a key rollover lists two):
saml_certificate becomes the list saml_certificates, holding the certificate saved so far.

The column is added without a default, filled, then made NOT NULL (docs/scale-out.md,
"Migrations at 10,000 tenants"): adding it with its default at once costs PostgreSQL about
half a second a schema on a 10,000-tenant catalog, this way about 10 ms."""

import django.contrib.postgres.fields
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("federation", "0005_builtin_social_and_saml_mfa"),
    ]

    operations = [
        migrations.AddField(
            model_name="identityprovider",
            name="saml_certificates",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.TextField(), blank=True, null=True, size=None
            ),
        ),
        migrations.RunSQL(
            "UPDATE federation_identityprovider SET saml_certificates = CASE "
            "WHEN saml_certificate = '' THEN '{}'::text[] ELSE ARRAY[saml_certificate] END",
            reverse_sql="UPDATE federation_identityprovider "
            "SET saml_certificate = coalesce(saml_certificates[1], '')",
        ),
        migrations.AlterField(
            model_name="identityprovider",
            name="saml_certificates",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.TextField(), blank=True, default=list, size=None
            ),
        ),
        migrations.RemoveField(
            model_name="identityprovider",
            name="saml_certificate",
        ),
    ]
