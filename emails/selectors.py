from __future__ import annotations

from datetime import datetime

from django.db.models import Min

from emails.models import OutboxEmail


def outbox_relay_next_due() -> datetime | None:
    """When the relay next has something to look at in this tenant: the moment the oldest
    queued row's task counts as lost; None when nothing is queued."""
    from emails.services import OUTBOX_STALE_AFTER

    oldest = OutboxEmail.objects.filter(status=OutboxEmail.Status.QUEUED).aggregate(
        oldest=Min("queued_at")
    )["oldest"]
    return oldest + OUTBOX_STALE_AFTER if oldest else None
