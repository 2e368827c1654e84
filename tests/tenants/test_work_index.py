"""The public work index (tenants/work.py): beat tasks find the tenants with work in one
public query, never in a tenant's schema; a writer's index row is in its own transaction and
the task cannot clear it while the writer is still in flight."""

from __future__ import annotations

import re
import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone
from django_tenants.utils import get_public_schema_name, tenant_context

from emails.models import OutboxEmail
from emails.selectors import outbox_relay_next_due
from emails.services import OUTBOX_STALE_AFTER, outbox_add
from tenants.models import Tenant, TenantWork
from tenants.work import tenant_work_reschedule
from tests.helpers import unique_email, work_due_tenants, work_index_clear, work_index_later


def _beat_tasks():
    from accounts.tasks import deleted_users_purge_all, user_import_relay_all
    from audit.tasks import sign_in_exports_forget_all
    from emails.tasks import outbox_relay_all
    from guests.tasks import bulk_invitation_relay_all, governance_all

    return [
        outbox_relay_all,
        bulk_invitation_relay_all,
        user_import_relay_all,
        governance_all,
        deleted_users_purge_all,
        sign_in_exports_forget_all,
    ]


class Statements:
    """Every statement the connection runs, with the schema it ran in."""

    def __init__(self):
        self.ran: list[tuple[str, str]] = []

    def __call__(self, execute, sql, params, many, context):
        self.ran.append((sql, connection.schema_name))
        return execute(sql, params, many, context)


def tenant_schemas_named(sql: str, schemas: set[str]) -> set[str]:
    names = set(re.findall(r'"([^"]+)"', sql)) | set(re.findall(r"\b([a-z_][a-z0-9_-]*)\.", sql))
    return names & schemas


def test_no_statement_of_a_beat_tasks_discovery_touches_a_tenant_schema(acme, globex):
    """With no work due, each beat task runs its one public query and visits nobody: no
    statement runs in, or names, a tenant's schema, whatever the number of tenants."""
    from tenants.selectors import active_tenants_each

    work_index_clear()
    schemas = set(Tenant.objects.values_list("schema_name", flat=True))
    schemas.discard(get_public_schema_name())
    for task in _beat_tasks():
        statements = Statements()
        with connection.execute_wrapper(statements):
            result = task()
        assert result["tenants"] in ([], 0), (task.name, result)
        assert len(statements.ran) == 1, (task.name, statements.ran)
        ((sql, schema),) = statements.ran
        assert schema == get_public_schema_name(), task.name
        assert TenantWork._meta.db_table in sql
        assert not tenant_schemas_named(sql, schemas), sql
    # The nightly tasks, which concern every tenant, read the public tenant table only.
    statements = Statements()
    with connection.execute_wrapper(statements):
        found = {tenant.slug for tenant in active_tenants_each(batch=1)}
    assert {"acme", "globex"} <= found
    assert all(schema == get_public_schema_name() for _sql, schema in statements.ran)
    assert not any(tenant_schemas_named(sql, schemas) for sql, _schema in statements.ran)


def test_work_written_in_a_tenant_is_found_through_the_index_and_cleared_when_done(acme, globex):
    """The purge: a deletion marks the tenant; the task visits it once due, and deletes the
    row when no deleted user is left."""
    from accounts import lifecycle
    from accounts.tasks import deleted_users_purge_all
    from tests.helpers import make_user

    purge = TenantWork.Kind.DELETED_USERS_PURGE
    work_index_clear()
    with tenant_context(globex.tenant):
        from django.contrib.auth import get_user_model

        get_user_model().objects.filter(deleted_at__isnull=False).delete()
    user = make_user(globex)
    with tenant_context(globex.tenant):
        lifecycle.user_delete(actor=globex.admin, user=user)
    assert TenantWork.objects.get(kind=purge).tenant_id == globex.tenant.pk
    assert deleted_users_purge_all() == {"tenants": [], "purged": 0}  # not due yet

    with tenant_context(globex.tenant):
        get_user_model().objects.filter(pk=user.pk).update(
            deleted_at=timezone.now() - timedelta(days=31)
        )
    work_index_later(globex, purge, timedelta(days=31))
    assert work_due_tenants(purge) == {"globex"}
    assert deleted_users_purge_all() == {"tenants": ["globex"], "purged": 1}
    assert not TenantWork.objects.filter(kind=purge).exists()


def test_suspended_tenants_wait_without_keeping_active_ones_from_their_turn(acme, globex):
    """Rows are read a page at a time: a run limited to one visit still finds the active
    tenant behind a suspended one due earlier; both come, earliest first, once resumed."""
    from tenants.work import tenants_with_work_due

    kind = TenantWork.Kind.GUEST_GOVERNANCE
    work_index_clear()
    now = timezone.now()
    for world, ago in ((acme, 2), (globex, 1)):
        TenantWork.objects.create(tenant=world.tenant, kind=kind, due_at=now - timedelta(hours=ago))
    Tenant.objects.filter(pk=acme.tenant.pk).update(status=Tenant.Status.SUSPENDED)
    assert [t.slug for t in tenants_with_work_due(kind, now=now, limit=1)] == ["globex"]
    assert [t.slug for t in tenants_with_work_due(kind, now=now)] == ["globex"]
    Tenant.objects.filter(pk=acme.tenant.pk).update(status=Tenant.Status.ACTIVE)
    assert [t.slug for t in tenants_with_work_due(kind, now=now)] == ["acme", "globex"]
    assert [t.slug for t in tenants_with_work_due(kind, now=now, limit=1)] == ["acme"]
    assert tenants_with_work_due(kind, now=now - timedelta(hours=3)) == []


def test_the_user_import_relay_finds_a_lost_import_through_the_index(acme):
    from accounts.imports import user_import_start
    from accounts.models import UserImport
    from accounts.tasks import user_import_relay_all

    relay = TenantWork.Kind.USER_IMPORT_RELAY
    work_index_clear()
    late = OUTBOX_STALE_AFTER + timedelta(seconds=1)
    with tenant_context(acme.tenant):
        UserImport.objects.update(status=UserImport.Status.DONE)
        job = user_import_start(actor=acme.admin, data=f"email\n{unique_email()}\n".encode())
        UserImport.objects.filter(pk=job.pk).update(created_at=timezone.now() - late)
    work_index_later(acme, relay, late)
    assert work_due_tenants(relay) == {"acme"}
    assert user_import_relay_all() == {"tenants": ["acme"], "relayed": 1}


def test_work_rolled_back_leaves_no_index_row(acme):
    """The row is written in the work's transaction: both are kept, or neither."""
    work_index_clear()
    with tenant_context(acme.tenant), pytest.raises(RuntimeError), transaction.atomic():
        outbox_add(kind=OutboxEmail.Kind.ACCOUNT, to=unique_email(), payload={})
        assert TenantWork.objects.filter(kind=TenantWork.Kind.OUTBOX_RELAY).exists()
        raise RuntimeError("the request failed after writing its email")
    assert not TenantWork.objects.exists()


@pytest.fixture
def acme_work_settled(worlds, committed):
    """acme with committed data: no queued email and no relay row, before and after."""
    acme = worlds["acme"]

    def settle():
        with tenant_context(acme.tenant):
            OutboxEmail.objects.filter(status=OutboxEmail.Status.QUEUED).update(
                status=OutboxEmail.Status.SENT
            )
        TenantWork.objects.filter(tenant=acme.tenant, kind=TenantWork.Kind.OUTBOX_RELAY).delete()

    settle()
    yield acme
    settle()


def test_the_task_cannot_clear_the_row_of_a_writer_still_in_flight(acme_work_settled):
    """A writer that found the row due already holds it shared until it commits; the task
    waits for it, then sees its email and keeps the row. Without the lock the task would see
    no queued email, delete the row, and the email written next would be unknown to the
    relay for good."""
    acme = acme_work_settled
    relay = TenantWork.Kind.OUTBOX_RELAY
    TenantWork.objects.create(tenant=acme.tenant, kind=relay, due_at=timezone.now())
    written, commit, finished = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def writer():
        try:
            with tenant_context(acme.tenant), transaction.atomic():
                outbox_add(kind=OutboxEmail.Kind.ACCOUNT, to=unique_email(), payload={})
                written.set()
                commit.wait(10)
        except BaseException as error:  # noqa: BLE001 (reported to the test thread)
            errors.append(error)
        finally:
            connections.close_all()

    def task():
        try:
            with tenant_context(acme.tenant):
                tenant_work_reschedule(
                    kind=relay, tenant=acme.tenant, next_due=outbox_relay_next_due
                )
        except BaseException as error:  # noqa: BLE001
            errors.append(error)
        finally:
            finished.set()
            connections.close_all()

    writing = threading.Thread(target=writer)
    writing.start()
    assert written.wait(10)
    rescheduling = threading.Thread(target=task)
    rescheduling.start()
    time.sleep(0.5)
    assert not finished.is_set(), "the task did not wait for the writer in flight"
    commit.set()
    writing.join(10)
    rescheduling.join(10)
    assert not errors, errors
    row = TenantWork.objects.get(tenant=acme.tenant, kind=relay)
    with tenant_context(acme.tenant):
        queued = OutboxEmail.objects.get(status=OutboxEmail.Status.QUEUED)
    assert row.due_at == queued.queued_at + OUTBOX_STALE_AFTER
