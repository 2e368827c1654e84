"""Celery tasks of accounts: they take ids and call services, in the schema of the tenant
that queued them; the periodic ones visit only the tenants that have work."""

from __future__ import annotations

import logging

from django.utils import timezone

from ciam.celery import app
from tenants.models import TenantWork
from tenants.work import tenant_work_run

logger = logging.getLogger(__name__)


@app.task
def deleted_users_purge_all() -> dict:
    """Beat: purge the users deleted DELETED_KEEP_DAYS ago or more, visiting only the tenants
    the public work index names (tenants/work.py)."""
    from accounts import lifecycle

    now = timezone.now()

    def visit(tenant):
        count = lifecycle.deleted_users_purge(now=now)
        logger.info("accounts.deleted_users_purged tenant=%s count=%d", tenant.slug, count)
        return count

    done = tenant_work_run(
        TenantWork.Kind.DELETED_USERS_PURGE,
        now=now,
        visit=visit,
        next_due=lifecycle.deleted_users_purge_next_due,
    )
    return {
        "tenants": [tenant.slug for tenant, _count in done],
        "purged": sum(count for _tenant, count in done),
    }


@app.task(acks_late=True, reject_on_worker_lost=True)
def user_import_process(import_id: int) -> None:
    """Create the next chunk of an import's users with their welcome emails, then queue itself
    again behind them (console.bulk): the progress moves, a crash resumes where it stopped."""
    from accounts import imports

    if imports.user_import_process_chunk(import_id=import_id):
        imports.user_import_enqueue(import_id)


@app.task
def user_import_relay_all() -> dict:
    """Beat: queue again the imports whose task was lost (broker down at upload), visiting
    only the tenants the public work index names (tenants/work.py)."""
    from accounts import imports
    from accounts.models import UserImport
    from console.bulk import bulk_jobs_relay_due_tenants

    return bulk_jobs_relay_due_tenants(
        TenantWork.Kind.USER_IMPORT_RELAY, UserImport, imports.user_import_relay
    )
