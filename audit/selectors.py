from __future__ import annotations

import ipaddress

from django.db.models import Q, QuerySet
from django.utils import timezone

from audit.models import AuditEvent, SignInEvent


def audit_event_list() -> QuerySet[AuditEvent]:
    return AuditEvent.objects.all()


def sign_in_event_list(
    *,
    search: str = "",
    result: str = "",
    method: str = "",
    days: int | None = None,
    policy: str = "",
    policy_result: str = "",
) -> QuerySet[SignInEvent]:
    return sign_in_events_filter(
        SignInEvent.objects.select_related("user"), search=search, result=result,
        method=method, days=days, policy=policy, policy_result=policy_result,
    )  # fmt: skip


def sign_in_events_filter(
    events: QuerySet[SignInEvent], *, search: str, result: str, method: str, days: int | None,
    policy: str = "", policy_result: str = "",
) -> QuerySet[SignInEvent]:  # fmt: skip
    """The sign-in log's filters (the console's page and its CSV exports): the search
    matches the address typed, the user's email and name, the app, or an IP address whole;
    `policy` (a conditional access policy's name) and `policy_result` (block, grant,
    not_applied) match the policies the sign-in was evaluated against."""
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


def recent_audit_events(limit: int = 10) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.all()[:limit]


def recent_sign_ins_of(user, *, limit: int = 10) -> list[SignInEvent]:
    """The user's latest sign-in log rows, newest first (the console's user page)."""
    return list(SignInEvent.objects.filter(user=user).order_by("-occurred_at", "-id")[:limit])


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def log_retention_get():
    """The tenant's log retention; the defaults (30 days of sign-ins, 180 of audit) until an
    admin saves."""
    from audit.models import LogRetention

    return LogRetention.objects.filter(pk=1).first() or LogRetention()
