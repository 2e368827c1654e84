"""Every tenant, and the template schema new tenants are copied from, has the safe default
policy "Require MFA for admins", report-only (conditional_access.services.default_policy_create)."""

from django.db import migrations

ROLES = [
    "global_administrator", "user_administrator", "application_administrator",
    "guest_inviter", "branding_administrator", "security_administrator", "reports_reader",
]  # fmt: skip


def create_default_policy(apps, schema_editor):
    if schema_editor.connection.schema_name == "public":
        return
    Policy = apps.get_model("conditional_access", "ConditionalAccessPolicy")
    Policy.objects.get_or_create(
        name="Require MFA for admins",
        defaults={
            "state": "report_only",
            "users": "selected",
            "include_roles": ROLES,
            "grant": "grant",
            "require_mfa": True,
        },
    )


class Migration(migrations.Migration):
    dependencies = [("conditional_access", "0001_initial")]

    operations = [migrations.RunPython(create_default_policy, migrations.RunPython.noop)]
