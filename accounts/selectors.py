from __future__ import annotations

import ipaddress

from django.db import connection
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from accounts.models import SignInEvent, SignUpAttribute, UserFlow
from ciam.process_cache import ProcessCache

# The user flow as the hosted pages see it, per tenant schema, kept by each process until a
# flow or one of its attributes changes (accounts.apps wires the invalidation to saves).
_hosted_flows = ProcessCache("accounts:user-flow-generation", keep_in_transactions=False)


def user_flow_get() -> UserFlow:
    """The current tenant's user flow, read from the database (the public schema, and a
    tenant without a row, get the defaults). The console edits this one."""
    if connection.schema_name == "public":
        return UserFlow()
    return UserFlow.objects.first() or UserFlow()


def user_flow_for(request) -> UserFlow:
    """The user flow the hosted pages follow: kept by the process (no query per page), read
    once per request. Treat it as read-only: other requests share it."""
    flow = getattr(request, "_user_flow", None)
    if flow is None:
        schema = connection.schema_name
        flow = _hosted_flows.get(schema)
        if flow is None:
            flow = user_flow_get()
            _hosted_flows.set(schema, flow)
        request._user_flow = flow
    return flow


def user_flow_cache_invalidate() -> None:
    """A user flow or one of its attributes changed: hosted pages follow it at once here, and
    in the other processes within a second of the commit."""
    _hosted_flows.invalidate()


def sign_up_attributes(flow: UserFlow) -> list[SignUpAttribute]:
    if not flow.pk:
        return []
    attributes = getattr(flow, "_sign_up_attributes", None)
    if attributes is None:
        attributes = list(flow.attributes.all())
        flow._sign_up_attributes = attributes
    return attributes


def sign_up_attribute_get(public_id) -> SignUpAttribute | None:
    return SignUpAttribute.objects.filter(public_id=public_id).first()


def sign_in_event_list(
    *, search: str = "", result: str = "", method: str = "", days: int | None = None
) -> QuerySet[SignInEvent]:
    events = SignInEvent.objects.select_related("user")
    if search:
        matches = Q(email_typed__icontains=search) | Q(app_name__icontains=search)
        if _is_ip_address(search):
            matches |= Q(ip_address=search)
        events = events.filter(matches)
    if result:
        events = events.filter(result=result)
    if method:
        events = events.filter(method=method)
    if days:
        events = events.filter(occurred_at__gte=timezone.now() - timezone.timedelta(days=days))
    return events


def apps_signed_in_to(user) -> list[dict]:
    """The apps this user signed in to (from the sign-in log), most recent first."""
    return list(
        SignInEvent.objects.filter(user=user, result=SignInEvent.Result.SUCCESS)
        .exclude(app_id="")
        .values("app_id")
        .annotate(app_name=Max("app_name"), last_at=Max("occurred_at"))
        .order_by("-last_at")
    )


def _is_ip_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def sign_in_event_list_for_user(user) -> QuerySet[SignInEvent]:
    return SignInEvent.objects.filter(user=user)


def user_session_list(user) -> list:
    """The user's sessions that are still alive, in one query (allauth's purge_and_list asks
    the session store once per session)."""
    from allauth.usersessions.models import UserSession
    from django.contrib.sessions.models import Session

    alive = Session.objects.filter(expire_date__gt=timezone.now()).values("session_key")
    return list(
        UserSession.objects.filter(user=user, session_key__in=alive).order_by("-created_at")
    )
