"""A SAML IdP keeps every signing certificate of its metadata (a key rollover lists two):
saml_certificate becomes the list saml_certificates, holding the certificate saved so far."""

import django.contrib.postgres.fields
from django.db import migrations, models


def certificate_to_list(apps, schema_editor):
    IdentityProvider = apps.get_model("federation", "IdentityProvider")
    for provider in IdentityProvider.objects.exclude(saml_certificate=""):
        provider.saml_certificates = [provider.saml_certificate]
        provider.save(update_fields=["saml_certificates"])


def list_to_certificate(apps, schema_editor):
    IdentityProvider = apps.get_model("federation", "IdentityProvider")
    for provider in IdentityProvider.objects.exclude(saml_certificates=[]):
        provider.saml_certificate = provider.saml_certificates[0]
        provider.save(update_fields=["saml_certificate"])


class Migration(migrations.Migration):

    dependencies = [
        ("federation", "0005_builtin_social_and_saml_mfa"),
    ]

    operations = [
        migrations.AddField(
            model_name="identityprovider",
            name="saml_certificates",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.TextField(), blank=True, default=list, size=None
            ),
        ),
        migrations.RunPython(certificate_to_list, list_to_certificate),
        migrations.RemoveField(
            model_name="identityprovider",
            name="saml_certificate",
        ),
    ]
