"""The contract between our SQL and django-oauth-toolkit's tables (oidc.library_tables): an
upgrade of the library that adds a required column, or renames one we write, fails here
rather than at the first sign-in."""

from __future__ import annotations

import pytest
from django.db import connection
from django_tenants.utils import tenant_context

from oidc.library_tables import INSERTS


def _columns(table: str, *, required_only: bool) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s"
            + (" AND is_nullable = 'NO' AND column_default IS NULL AND is_identity = 'NO'"
               if required_only else ""),
            [connection.schema_name, table],
        )  # fmt: skip
        return {row[0] for row in cursor.fetchall()}


@pytest.mark.parametrize(
    ("model", "values"), INSERTS, ids=lambda value: getattr(value, "__name__", "")
)
def test_our_inserts_write_every_column_the_library_requires(acme, model, values):
    written = {model._meta.get_field(field).column for field in values}
    with tenant_context(acme.tenant):
        required = _columns(model._meta.db_table, required_only=True)
        existing = _columns(model._meta.db_table, required_only=False)
    assert required, "no columns found: wrong schema?"
    assert required <= written, f"{model.__name__}: not written: {sorted(required - written)}"
    assert written <= existing, f"{model.__name__}: no such columns: {sorted(written - existing)}"
