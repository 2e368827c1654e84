"""Celery tasks: they take ids and call services. They run in the schema of the tenant that
queued them (tenant-schemas-celery); the periodic ones visit the tenants that have work."""

from __future__ import annotations

import logging
import random
from datetime import timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection
from django.utils import timezone

from ciam.celery import app
from guests import selectors, services
from guests.models import OutboxEmail
from tenants.selectors import each_active_tenant, tenant_url

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 6
SMTP_TIMEOUT_SECONDS = 30


def retry_delay(attempt: int) -> float:
    """Exponential backoff with full jitter, capped: attempt 1 waits up to one base period."""
    base = settings.GUEST_EMAIL_RETRY_SECONDS
    ceiling = min(base * 2 ** (attempt - 1), base * 2**MAX_ATTEMPTS)
    return ceiling / 2 + random.uniform(0, ceiling / 2)


@app.task(acks_late=True, reject_on_worker_lost=True)
def outbox_deliver(outbox_ids: list[int]) -> None:
    """Send queued outbox emails over one SMTP connection.

    acks_late + reject_on_worker_lost: a worker that dies mid-send leaves the message on the
    queue; the row lock and status check make the second run send nothing already sent.
    Retry state (attempts) lives in the row, so it survives a worker crash too.
    """
    # A relay that stops answering must not hold the outbox row's lock forever.
    smtp = get_connection(timeout=settings.EMAIL_TIMEOUT or SMTP_TIMEOUT_SECONDS)
    base_url = tenant_url(connection.tenant, "")
    try:
        for outbox_id in outbox_ids:
            try:
                services.outbox_deliver(outbox_id=outbox_id, connection_=smtp, base_url=base_url)
            except services.TransientDeliveryError:
                _schedule_retry(outbox_id)
                smtp.close()  # a broken or refusing session: start the next one afresh
    finally:
        smtp.close()


def _schedule_retry(outbox_id: int) -> None:
    outbox = OutboxEmail.objects.get(pk=outbox_id)
    if outbox.attempts >= MAX_ATTEMPTS:
        services.outbox_give_up(outbox_id=outbox_id)
        logger.warning("guests.outbox.gave_up attempts=%d", outbox.attempts)
        return
    delay = retry_delay(outbox.attempts)
    # The relay leaves rows alone until their retry is due (and then some).
    OutboxEmail.objects.filter(pk=outbox_id).update(
        queued_at=timezone.now() + timedelta(seconds=delay)
    )
    outbox_deliver.apply_async([[outbox_id]], countdown=delay)


@app.task(acks_late=True, reject_on_worker_lost=True)
def bulk_invitation_process(bulk_id: int) -> None:
    """Create the next chunk of a bulk upload's invitations, committed with their outbox rows,
    then queue itself again behind that chunk's delivery tasks: emails go out while the rest
    is created, the progress bar moves, and a crash resumes where it stopped."""
    if services.bulk_invitation_process_chunk(bulk_id=bulk_id):
        services.bulk_invitation_enqueue(bulk_id)


@app.task
def outbox_relay_all() -> dict:
    """Beat: queue again the emails and bulk uploads whose task was lost, visiting only the
    tenants that have some (found for all tenants in a query per 500)."""
    now = timezone.now()
    schemas = selectors.tenants_with_lost_tasks(now=now)
    relayed, visited = 0, []
    for tenant in each_active_tenant(schemas):
        visited.append(tenant.slug)
        relayed += services.outbox_relay(now=now) + services.bulk_invitation_relay(now=now)
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
