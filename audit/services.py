from __future__ import annotations

from typing import Any

from audit.models import AuditEvent
from ciam.http import client_ip


def audit_record(
    *,
    actor,
    action: str,
    target: Any = None,
    target_type: str = "",
    target_label: str = "",
    before: dict | None = None,
    after: dict | None = None,
    request=None,
) -> AuditEvent:
    """Write one audit row in the current schema. Call it from the service that made the change."""
    actor_is_user = actor is not None and getattr(actor, "is_authenticated", False)
    target_id = ""
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = str(getattr(target, "public_id", None) or target.pk)
        target_label = target_label or str(target)
    return AuditEvent.objects.create(
        actor_id=getattr(actor, "public_id", None) if actor_is_user else None,
        actor_label=(actor.email if actor_is_user else str(actor or "system"))[:254],
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_label=target_label[:254],
        before=before,
        after=after,
        ip_address=client_ip(request) if request is not None else None,
        request_id=getattr(request, "request_id", "") if request is not None else "",
    )
