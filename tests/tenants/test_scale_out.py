"""What docs/scale-out.md claims for a sharded deployment (Citus schema-based sharding), as
far as this code can check it: during a representative run (requests in two tenants, the
beat tasks with work in both, what their tasks do in each tenant, the operators' tenant
counts) no statement names two tenant schemas, and every public table read or written from a
tenant's schema is listed in tenants.sharding.REFERENCE_TABLES."""

from __future__ import annotations

import re
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, tenant_context

from tenants.models import Tenant, TenantWork
from tenants.sharding import REFERENCE_TABLES, public_only_tables
from tests.helpers import PASSWORD, sign_in, tenant_client, unique_email, work_index_clear


class Statements:
    """Every statement the connection runs, with the schema it ran in."""

    def __init__(self):
        self.ran: list[tuple[str, str]] = []

    def __call__(self, execute, sql, params, many, context):
        self.ran.append((sql, connection.schema_name))
        return execute(sql, params, many, context)


def _names(sql: str) -> set[str]:
    quoted = set(re.findall(r'"([^"]+)"', sql))
    return quoted | set(re.findall(r"\b([a-z_][a-z0-9_-]*)\b", sql))


def _work_in(world) -> None:
    """Work of every kind the index knows, due now, written through the services."""
    from accounts import lifecycle
    from accounts.imports import user_import_start
    from audit.services import sign_in_export_start
    from emails.models import OutboxEmail
    from emails.services import outbox_add
    from guests import services
    from tests.helpers import make_user

    user = make_user(world)
    with tenant_context(world.tenant):
        outbox_add(kind=OutboxEmail.Kind.ACCOUNT, to=unique_email(), payload={})
        services.invitation_create(
            invited_by=world.admin, email=unique_email(), redirect_url="https://a.example/"
        )
        lifecycle.user_delete(actor=world.admin, user=user)
        sign_in_export_start(actor=world.admin, filters={})
        services.bulk_invitation_start(
            actor=world.admin,
            data=f"{unique_email()}\n".encode(),
            default_redirect_url="https://a.example/",
        )
        user_import_start(actor=world.admin, data=f"email\n{unique_email()}\n".encode())
    TenantWork.objects.filter(tenant=world.tenant).update(
        due_at=timezone.now() - timedelta(seconds=1)
    )


def _representative_run(acme, globex) -> list[tuple[str, str]]:
    from accounts.tasks import deleted_users_purge_all, user_import_relay_all
    from audit.services import log_cutoff, logs_prune
    from audit.tasks import prune_condition, sign_in_exports_forget_all
    from emails.tasks import outbox_relay_all
    from guests.tasks import bulk_invitation_relay_all, governance_all
    from insights.services import tenant_roll_up
    from insights.tasks import work_condition, work_parameters
    from tenants.selectors import active_tenants_each, schema_has, tenant_user_counts

    work_index_clear()
    for world in (acme, globex):
        _work_in(world)
    statements = Statements()
    with connection.execute_wrapper(statements):
        for world in (acme, globex):
            anonymous = tenant_client(world)
            assert anonymous.get("/accounts/login/").status_code == 200
            assert sign_in(anonymous, world.admin.email, PASSWORD).status_code == 302
            assert anonymous.get("/o/.well-known/openid-configuration").status_code == 200
            assert anonymous.get("/o/.well-known/jwks.json").status_code == 200
            admin = world.client(world.admin)
            assert admin.get("/console/").status_code == 200
            assert admin.get("/console/users/").status_code == 200
        for task in (
            outbox_relay_all,
            bulk_invitation_relay_all,
            user_import_relay_all,
            governance_all,
            deleted_users_purge_all,
            sign_in_exports_forget_all,
        ):
            visited = task()["tenants"]
            if isinstance(visited, int):  # the export clean-up counts them
                assert visited >= 2, task.name
            else:
                assert {"acme", "globex"} <= set(visited), (task.name, visited)
        # The nightly tasks: the public tenant table, then each tenant's own task.
        for tenant in active_tenants_each():
            if tenant.pk not in (acme.tenant.pk, globex.tenant.pk):
                continue
            with tenant_context(tenant):
                if schema_has(work_condition(), work_parameters()):
                    tenant_roll_up()
                if schema_has(prune_condition(), {"today": log_cutoff(0)}):
                    logs_prune()
        tenant_user_counts([acme.tenant, globex.tenant])
    return statements.ran


def test_no_statement_names_two_tenant_schemas_and_tenants_read_only_reference_tables(acme, globex):
    ran = _representative_run(acme, globex)
    public = get_public_schema_name()
    schemas = set(Tenant.objects.values_list("schema_name", flat=True)) - {public}
    public_tables = public_only_tables()
    in_tenants: set[str] = set()
    visited = set()
    for sql, schema in ran:
        names = _names(sql)
        named = (names & schemas) | ({schema} if schema != public else set())
        assert len(named) <= 1, f"{sorted(named)}: {sql}"
        if named:
            visited |= named
            in_tenants |= names & public_tables
    assert {acme.tenant.schema_name, globex.tenant.schema_name} <= visited
    assert in_tenants, "the run read no public table from a tenant: the check saw nothing"
    assert in_tenants <= set(REFERENCE_TABLES), in_tenants - set(REFERENCE_TABLES)


def test_the_reference_tables_are_public_tables():
    """The list names tables that exist once, in the public schema (not tenant tables, not
    tables that are gone)."""
    assert set(REFERENCE_TABLES) <= public_only_tables()
    assert len(set(REFERENCE_TABLES)) == len(REFERENCE_TABLES)
