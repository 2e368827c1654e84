from __future__ import annotations

import ipaddress

from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import AuditEvent, SignInEvent


def audit_event_list(*, search: str = "", action: str = "") -> QuerySet[AuditEvent]:
    events = AuditEvent.objects.all()
    if search:
        events = events.filter(Q(actor_label__icontains=search) | Q(target_label__icontains=search))
    if action:
        events = events.filter(action=action)
    return events


def sign_in_event_list(
    *, search: str = "", result: str = "", method: str = "", days: int | None = None,
    policy: str = "", policy_result: str = "",
) -> QuerySet[SignInEvent]:  # fmt: skip
    events = SignInEvent.objects.select_related("user")
    if search:
        matches = (
            Q(email_typed__icontains=search)
            | Q(user_email__icontains=search)
            | Q(user_name__icontains=search)
            | Q(app_name__icontains=search)
        )
        if _is_ip_address(search):
            matches |= Q(ip_address=search)
        events = events.filter(matches)
    if result:
        events = events.filter(result=result)
    if method:
        events = events.filter(method=method)
    if policy or policy_result:
        # A conditional access policy (by name) and its result: block, grant, not_applied.
        entry = {"name": policy} if policy else {}
        if policy_result:
            entry["result"] = policy_result
        events = events.filter(policies__contains=[entry])
    if days:
        events = events.filter(occurred_at__gte=timezone.now() - timezone.timedelta(days=days))
    return events


def recent_sign_ins_of(user, *, limit: int = 10) -> list[SignInEvent]:
    """The user's latest sign-in log rows, newest first (the console's user page)."""
    return list(SignInEvent.objects.filter(user=user).order_by("-occurred_at", "-id")[:limit])


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True
