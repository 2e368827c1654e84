from __future__ import annotations

import ipaddress
from typing import Any

from django.conf import settings

from audit.models import AuditEvent


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


def client_ip(request) -> str | None:
    """The client's address. With TRUSTED_PROXY_COUNT = n, the n-th entry from the right of
    X-Forwarded-For (what our outermost proxy saw; entries left of it are whatever the client
    claimed); otherwise, or when the header is short or malformed, the peer address."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= count:
            try:
                return str(ipaddress.ip_address(hops[-count]))
            except ValueError:
                pass
    return request.META.get("REMOTE_ADDR") or None
