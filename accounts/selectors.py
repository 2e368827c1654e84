from __future__ import annotations

import ipaddress

from django.db import connection
from django.db.models import Max, Q, QuerySet
from django.utils import timezone

from accounts.models import SignInEvent, SignUpAttribute, UserFlow


def user_flow_get() -> UserFlow:
    """The current tenant's user flow (the public schema, and a tenant without a row, get the
    defaults). Not kept in a shared cache: it is one indexed row, read only by sign-in and
    sign-up pages, and a cache would outlive rolled-back changes."""
    if connection.schema_name == "public":
        return UserFlow()
    return UserFlow.objects.first() or UserFlow()


def user_flow_for(request) -> UserFlow:
    """user_flow_get(), read once per request."""
    flow = getattr(request, "_user_flow", None)
    if flow is None:
        flow = user_flow_get()
        request._user_flow = flow
    return flow


def sign_up_attributes(flow: UserFlow) -> list[SignUpAttribute]:
    return list(flow.attributes.all()) if flow.pk else []


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
