"""The connection's search_path follows the tenant after a transaction rolled back: PostgreSQL
undoes a `SET search_path` made inside a rolled-back transaction, and the next tenant on the
same connection must still see only its own tables."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django_tenants.utils import tenant_context


class RolledBack(Exception):
    pass


def _emails() -> set[str]:
    return set(get_user_model().objects.values_list("email", flat=True))


def _search_path() -> str:
    with connection.cursor() as cursor:
        cursor.execute("SHOW search_path")
        return cursor.fetchone()[0]


def test_another_tenant_after_a_rolled_back_transaction_sees_only_its_own_rows(worlds, committed):
    acme, globex = worlds["acme"], worlds["globex"]
    with tenant_context(acme.tenant):
        with pytest.raises(RolledBack), transaction.atomic():
            assert "admin@acme.test" in _emails()  # search_path set inside the transaction
            raise RolledBack
        backend = connection.connection
    with tenant_context(globex.tenant):
        assert connection.connection is backend  # the same database connection
        emails = _emails()
        assert "admin@globex.test" in emails
        assert "admin@acme.test" not in emails
        assert _search_path().split(",")[0].strip() == globex.tenant.schema_name
    with tenant_context(acme.tenant):
        with pytest.raises(RolledBack), transaction.atomic():
            assert "admin@acme.test" in _emails()
            raise RolledBack
        # Same tenant again, after its rolled-back transaction.
        emails = _emails()
        assert "admin@acme.test" in emails
        assert "admin@globex.test" not in emails
        assert _search_path().split(",")[0].strip() == acme.tenant.schema_name
