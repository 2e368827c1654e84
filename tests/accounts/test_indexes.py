"""Lookups by email that every sign-in, sign-up and invitation makes can use an index, so
their cost does not grow with the number of users (nor can a flood of guesses make each one
read the whole table)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import connection
from django_tenants.utils import tenant_context


def plan(sql: str, parameters: list) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # a tiny table would be scanned anyway
        cursor.execute("EXPLAIN " + sql, parameters)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_case_insensitive_email_lookups_use_an_index(acme):
    User = get_user_model()
    with tenant_context(acme.tenant):
        sql, parameters = User.objects.filter(
            email__iexact="Someone@Example.org"
        ).query.sql_with_params()
        iexact = plan(sql, list(parameters))
        assert "user_email_upper" in iexact, iexact
        # The password sign-in's own lookup (accounts.backends).
        sign_in = plan(
            f"SELECT * FROM {User._meta.db_table} WHERE LOWER(email) = LOWER(%s)", ["A@b.org"]
        )
        assert "user_email_unique_ci" in sign_in, sign_in
