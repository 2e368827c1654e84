"""pg_trgm in the public schema of every deployment, made with the shared migrations: tenant
schemas' search indexes use its operator class (accounts migration 0013), so a database
that receives a tenant (tenants/moves.py) has it before the tenant's schema arrives. A
server without the extension's files keeps working without it (the search reads every
user)."""

from django.db import migrations


def extension_create(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        if cursor.fetchone() is not None:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")


class Migration(migrations.Migration):
    dependencies = [
        ("tenants", "0006_tenant_work"),
    ]

    operations = [migrations.RunPython(extension_create, migrations.RunPython.noop, elidable=False)]
