"""Celery tasks of accounts: they take ids and call services, in the schema of the tenant
that queued them; the periodic ones visit only the tenants that have work."""

from __future__ import annotations

import logging

from django.utils import timezone

from ciam.celery import app
from tenants.selectors import each_active_tenant

logger = logging.getLogger(__name__)


@app.task
def deleted_users_purge_all() -> dict:
    """Beat: purge the users deleted DELETED_KEEP_DAYS ago or more, visiting only the tenants
    that have some (found for all tenants in a query per 500)."""
    from accounts import lifecycle, selectors

    now = timezone.now()
    visited, purged = [], 0
    for tenant in each_active_tenant(selectors.tenants_with_users_to_purge(now=now)):
        visited.append(tenant.slug)
        count = lifecycle.deleted_users_purge(now=now)
        purged += count
        logger.info("accounts.deleted_users_purged tenant=%s count=%d", tenant.slug, count)
    return {"tenants": visited, "purged": purged}


@app.task(acks_late=True, reject_on_worker_lost=True)
def user_import_process(import_id: int) -> None:
    """Create the next chunk of an import's users with their welcome emails, then queue itself
    again behind them (console.bulk): the progress moves, a crash resumes where it stopped."""
    from accounts import imports

    if imports.user_import_process_chunk(import_id=import_id):
        imports.user_import_enqueue(import_id)


@app.task
def user_import_relay_all() -> dict:
    """Beat: queue again the imports whose task was lost (broker down at upload)."""
    from accounts import imports, selectors

    now = timezone.now()
    visited, relayed = [], 0
    for tenant in each_active_tenant(selectors.tenants_with_lost_user_imports(now=now)):
        visited.append(tenant.slug)
        relayed += imports.user_import_relay(now=now)
    return {"tenants": visited, "relayed": relayed}
