from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db.models import Count, Q, QuerySet

from audit.models import AuditEvent


def directory_summary() -> dict[str, int]:
    User = get_user_model()
    return User.objects.aggregate(
        users=Count("id"),
        members=Count("id", filter=Q(user_type=User.UserType.MEMBER)),
        guests=Count("id", filter=Q(user_type=User.UserType.GUEST)),
        admins=Count("id", filter=~Q(admin_roles=[])),
        disabled=Count("id", filter=Q(is_active=False)),
    )


def app_count() -> int:
    from oidc.models import Application

    return Application.objects.count()


def recent_audit_events(limit: int = 10) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.all()[:limit]


def user_list(*, search: str = "", user_type: str = "", state: str = "") -> QuerySet:
    User = get_user_model()
    # Guests carry their lifecycle (state, sponsor, invited and accepted dates) beside the user.
    users = User.objects.order_by("email").select_related("guest_profile__sponsor")
    if search:
        users = users.filter(
            Q(email__icontains=search)
            | Q(display_name__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
        )
    if user_type:
        users = users.filter(user_type=user_type)
    if state == "active":
        users = users.filter(is_active=True)
    elif state == "disabled":
        users = users.filter(is_active=False)
    return users
