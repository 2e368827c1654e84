"""The provider's nightly maintenance: codes, tokens and signing keys past their time."""

from __future__ import annotations

from ciam.celery import app


@app.task
def tokens_cleanup_all() -> dict:
    """Beat (daily): queue the cleanup of every active tenant, read from the public tenant
    table (no schema is asked here); each task first looks whether its tenant has anything
    to delete (oidc.services.tokens_cleanup_condition)."""
    from tenants.work import active_tenants_queue

    return {"tenants": active_tenants_queue(tenant_tokens_cleanup)}


@app.task(acks_late=True, reject_on_worker_lost=True)
def tenant_tokens_cleanup() -> dict[str, int]:
    """Delete this tenant's codes, tokens and keys past their time (the schema the task was
    queued in), if it has any: one look at each table's index otherwise."""
    from django.utils import timezone

    from oidc import services
    from tenants.selectors import schema_has

    now = timezone.now()
    if not schema_has(services.tokens_cleanup_condition(), {"now": now}):
        return {}
    return services.tokens_cleanup(now=now)
