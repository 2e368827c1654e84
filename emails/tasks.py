"""Celery tasks: they take ids and call services. They run in the schema of the tenant that
queued them (tenant-schemas-celery); the relay visits the tenants that have work."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import get_connection
from django.db import connection
from django.utils import timezone

from ciam.celery import app
from emails import selectors, services
from tenants.models import TenantWork
from tenants.selectors import tenant_url
from tenants.work import tenant_work_run

# Tries of one email before it is shown failed: the first and MAX_ATTEMPTS - 1 retries.
MAX_ATTEMPTS = 6
SMTP_TIMEOUT_SECONDS = 30


class OutboxDeliverTask(app.Task):
    def on_failure(self, exc, task_id, args, kwargs, einfo) -> None:
        # Celery gave up retrying (max_retries): the admin sees the emails failed. Any other
        # error (the database, say) leaves the rows queued for the relay.
        if isinstance(exc, services.TransientDeliveryError):
            services.outbox_give_up(outbox_ids=exc.outbox_ids)


@app.task(
    bind=True,
    base=OutboxDeliverTask,
    # A worker that dies mid-send leaves the message on the queue; the row lock and status
    # check make the second run send nothing already sent.
    acks_late=True,
    reject_on_worker_lost=True,
    # SMTP 4xx or a broken connection: tried again after an exponential, fully jittered wait.
    autoretry_for=(services.TransientDeliveryError,),
    max_retries=MAX_ATTEMPTS - 1,
    retry_backoff=settings.EMAIL_RETRY_SECONDS,
    retry_backoff_max=settings.EMAIL_RETRY_MAX_SECONDS,
    retry_jitter=True,
)
def outbox_deliver(self, outbox_ids: list[int]) -> None:
    """Send queued outbox emails over one SMTP connection.

    A retry runs the same ids again: those already sent or failed are skipped, so only the
    ones that were refused for now are tried (their attempts are counted in the row)."""
    # A relay that stops answering must not hold the outbox row's lock forever.
    smtp = get_connection(timeout=settings.EMAIL_TIMEOUT or SMTP_TIMEOUT_SECONDS)
    base_url = tenant_url(connection.tenant, "")
    retry_ids, error_text = [], ""
    try:
        for outbox_id in outbox_ids:
            try:
                services.outbox_deliver(outbox_id=outbox_id, connection_=smtp, base_url=base_url)
            except services.TransientDeliveryError as error:
                retry_ids.append(outbox_id)
                error_text = str(error)
                smtp.close()  # a broken or refusing session: start the next one afresh
    finally:
        smtp.close()
    if retry_ids:
        if self.request.retries < self.max_retries:
            services.outbox_retry_later(outbox_ids=retry_ids, seconds=_longest_wait(self))
        raise services.TransientDeliveryError(error_text, outbox_ids=retry_ids)


def _longest_wait(task) -> int:
    """The longest wait Celery's backoff can pick before the next try (full jitter picks
    between zero and this; celery.utils.time.get_exponential_backoff_interval)."""
    factor = int(max(1.0, task.retry_backoff))
    return min(task.retry_backoff_max, factor * 2**task.request.retries)


@app.task
def outbox_relay_all() -> dict:
    """Beat: queue again the emails whose task was lost, visiting only the tenants the public
    work index names (tenants/work.py)."""
    now = timezone.now()
    done = tenant_work_run(
        TenantWork.Kind.OUTBOX_RELAY,
        now=now,
        visit=lambda tenant: services.outbox_relay(now=now),
        next_due=selectors.outbox_relay_next_due,
    )
    return {
        "tenants": [tenant.slug for tenant, _relayed in done],
        "relayed": sum(relayed for _tenant, relayed in done),
    }
