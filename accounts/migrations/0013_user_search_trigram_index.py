"""The console's Users search reads a pg_trgm index (accounts.models.user_search_text) when
the server has the extension: created in the public schema once, the index in each tenant
schema. Without the extension the search still works, by reading every user."""

from django.db import migrations

INDEX = "user_search_trgm"
# accounts.models.user_search_text(), as the index must have it (the queries match it).
EXPRESSION = (
    "(\"email\" || ' ' || LOWER(\"display_name\") || ' ' || LOWER(\"first_name\") || ' ' || "
    'LOWER("last_name"))'
)


def index_create(apps, schema_editor):
    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
            if cursor.fetchone() is None:
                return
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
        cursor.execute(
            f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "accounts_user" '
            f"USING gin (({EXPRESSION}) public.gin_trgm_ops)"
        )


def index_drop(apps, schema_editor):
    schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0012_user_language"),
    ]

    operations = [migrations.RunPython(index_create, index_drop, elidable=False)]
