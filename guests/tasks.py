"""Celery tasks: they take ids and call services. They run in the schema of the tenant that
queued them (tenant-schemas-celery); the periodic ones visit the tenants that have work."""

from __future__ import annotations

import logging

from django.utils import timezone

from ciam.celery import app
from console.bulk import bulk_jobs_relay_due_tenants
from guests import services
from guests.models import BulkInvitation
from guests.services.governance import governance_next_due
from tenants.models import TenantWork
from tenants.work import tenant_work_run

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
    """Beat: queue again the bulk uploads whose task was lost, visiting only the tenants the
    public work index names (tenants/work.py)."""
    return bulk_jobs_relay_due_tenants(
        TenantWork.Kind.BULK_INVITATION_RELAY, BulkInvitation, services.bulk_invitation_relay
    )


@app.task
def governance_all() -> dict:
    """Beat: expire invitations, remind sponsors and disable unrenewed guests, visiting only
    the tenants where the public work index says one of these is due."""
    now = timezone.now()

    def visit(tenant):
        counts = services.governance_run(now=now)
        if any(counts.values()):
            logger.info("guests.governance tenant=%s %s", tenant.slug, counts)
        return counts

    done = tenant_work_run(
        TenantWork.Kind.GUEST_GOVERNANCE,
        now=now,
        visit=visit,
        next_due=lambda: governance_next_due(now=now),
    )
    return {"tenants": [tenant.slug for tenant, _counts in done]}
