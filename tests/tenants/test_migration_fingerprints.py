"""The migrations recorded in each schema are read a bounded number of schemas a statement:
one statement over every schema locks two relations a schema until it ends, and at 10,000
tenants that is more than PostgreSQL's shared lock table holds by default."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants import migration_executor
from tenants.migration_executor import migration_fingerprint, schema_fingerprints


def test_fingerprints_are_read_a_few_schemas_a_statement(acme, globex, monkeypatch):
    schemas = [acme.tenant.schema_name, globex.tenant.schema_name, "no_such_schema"]
    at_once = schema_fingerprints(schemas)
    assert at_once[acme.tenant.schema_name] == migration_fingerprint()
    assert at_once[globex.tenant.schema_name] == migration_fingerprint()
    assert at_once["no_such_schema"] is None

    monkeypatch.setattr(migration_executor, "FINGERPRINT_SCHEMAS_PER_STATEMENT", 1)
    with CaptureQueriesContext(connection) as queries:
        assert schema_fingerprints(schemas) == at_once
    reads = [q["sql"] for q in queries if "string_agg" in q["sql"]]
    assert len(reads) == 2  # one statement per existing schema, none for the missing one
    assert all("UNION ALL" not in sql for sql in reads)
