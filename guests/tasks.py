"""Celery tasks: they take ids and call services. They run in the schema of the tenant that
queued them (tenant-schemas-celery); the periodic ones visit the tenants that have work."""

from __future__ import annotations

import logging

from django.utils import timezone

from ciam.celery import app
from guests import selectors, services
from tenants.selectors import each_active_tenant

logger = logging.getLogger(__name__)


@app.task(acks_late=True, reject_on_worker_lost=True)
def bulk_invitation_process(bulk_id: int) -> None:
    """Create the next chunk of a bulk upload's invitations, committed with their outbox rows,
    then queue itself again behind that chunk's delivery tasks: emails go out while the rest
    is created, the progress bar moves, and a crash resumes where it stopped."""
    if services.bulk_invitation_process_chunk(bulk_id=bulk_id):
        services.bulk_invitation_enqueue(bulk_id)


@app.task
def bulk_invitation_relay_all() -> dict:
    """Beat: queue again the bulk uploads whose task was lost, visiting only the tenants that
    have some (found for all tenants in a query per 500)."""
    now = timezone.now()
    schemas = selectors.tenants_with_lost_bulk_uploads(now=now)
    relayed, visited = 0, []
    for tenant in each_active_tenant(schemas):
        visited.append(tenant.slug)
        relayed += services.bulk_invitation_relay(now=now)
    return {"tenants": visited, "relayed": relayed}


@app.task
def governance_all() -> dict:
    """Beat: expire invitations, remind sponsors and disable unrenewed guests, visiting only
    the tenants where one of these is due."""
    now = timezone.now()
    schemas = selectors.tenants_with_governance_due(now=now)
    visited = []
    for tenant in each_active_tenant(schemas):
        visited.append(tenant.slug)
        counts = services.governance_run(now=now)
        if any(counts.values()):
            logger.info("guests.governance tenant=%s %s", tenant.slug, counts)
    return {"tenants": visited}
