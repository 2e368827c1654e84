from __future__ import annotations

from datetime import datetime

from emails.models import OutboxEmail
from tenants.selectors import active_tenant_schemas_where


def tenants_with_lost_emails(*, now: datetime) -> list[str]:
    """Schemas of the tenants where an outbox email waits for a task that was lost (what
    outbox_relay would queue again)."""
    from emails.services import OUTBOX_STALE_AFTER

    return active_tenant_schemas_where(
        f"EXISTS (SELECT 1 FROM {{schema}}.{OutboxEmail._meta.db_table} "
        "WHERE status = %(queued)s AND queued_at <= %(stale)s)",
        {"queued": OutboxEmail.Status.QUEUED, "stale": now - OUTBOX_STALE_AFTER},
    )
