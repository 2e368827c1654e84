from __future__ import annotations

from datetime import datetime

from allauth.account.models import EmailAddress
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from emails.models import OutboxEmail
from guests.models import ApiKey, BulkInvitation, GuestProfile, Invitation
from tenants.selectors import active_tenant_schemas_where


def email_is_verified(*, user) -> bool:
    """Whether `user`'s own address was proven (a link, a code, an earlier redemption)."""
    return EmailAddress.objects.filter(user=user, email=user.email, verified=True).exists()


def invitation_list() -> QuerySet[Invitation]:
    """Invitations with the delivery state of their latest invitation email."""
    latest_email = OutboxEmail.objects.filter(
        invitation=OuterRef("pk"), kind=OutboxEmail.Kind.INVITATION
    ).order_by("-created_at", "-id")
    return Invitation.objects.annotate(
        delivery_status=Subquery(latest_email.values("status")[:1]),
        delivery_error=Subquery(latest_email.values("last_error")[:1]),
    )


def invitation_get(public_id) -> Invitation | None:
    return invitation_list().filter(public_id=public_id).first()


def invitation_emails(invitation: Invitation) -> QuerySet[OutboxEmail]:
    return OutboxEmail.objects.filter(
        invitation=invitation, kind=OutboxEmail.Kind.INVITATION
    ).order_by("-created_at", "-id")


def bulk_invitation_get(public_id) -> BulkInvitation | None:
    return BulkInvitation.objects.filter(public_id=public_id).first()


def bulk_delivery_counts(bulk: BulkInvitation) -> dict[str, int]:
    return OutboxEmail.objects.filter(
        invitation__bulk=bulk, kind=OutboxEmail.Kind.INVITATION
    ).aggregate(
        sent=Count("id", filter=Q(status=OutboxEmail.Status.SENT)),
        failed=Count("id", filter=Q(status=OutboxEmail.Status.FAILED)),
        queued=Count("id", filter=Q(status=OutboxEmail.Status.QUEUED)),
    )


def bulk_invitation_list(limit: int = 10) -> QuerySet[BulkInvitation]:
    return BulkInvitation.objects.defer("pending_rows", "rejected_rows")[:limit]


def guest_profile_for(user) -> GuestProfile | None:
    return GuestProfile.objects.select_related("sponsor").filter(user=user).first()


def api_key_list() -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(revoked_at__isnull=True)


def tenants_with_lost_bulk_uploads(*, now: datetime) -> list[str]:
    """Schemas of the tenants where a bulk upload waits for a task that was lost (what
    bulk_invitation_relay would queue again)."""
    from emails.services import OUTBOX_STALE_AFTER

    return active_tenant_schemas_where(
        f"EXISTS (SELECT 1 FROM {{schema}}.{BulkInvitation._meta.db_table} "
        "WHERE status = %(processing)s AND created_at <= %(stale)s)",
        {"processing": BulkInvitation.Status.PROCESSING, "stale": now - OUTBOX_STALE_AFTER},
    )


def tenants_with_governance_due(*, now: datetime) -> list[str]:
    """Schemas of the tenants with an invitation to expire, a sponsor to remind or a guest to
    disable (a superset of what governance_run changes: it checks each row again)."""
    from django.contrib.auth import get_user_model

    from guests.services.governance import SPONSOR_NOTICE

    condition = (
        f"EXISTS (SELECT 1 FROM {{schema}}.{Invitation._meta.db_table} "
        "WHERE status = %(pending)s AND expires_at <= %(now)s) "
        f"OR EXISTS (SELECT 1 FROM {{schema}}.{GuestProfile._meta.db_table} profile "
        f"JOIN {{schema}}.{get_user_model()._meta.db_table} account "
        "ON account.id = profile.user_id WHERE account.is_active "
        "AND profile.access_expires_at <= %(notice_end)s "
        "AND (profile.sponsor_reminded_at IS NULL OR profile.access_expires_at <= %(now)s))"
    )
    return active_tenant_schemas_where(
        condition,
        {
            "pending": Invitation.Status.PENDING,
            "now": now,
            "notice_end": now + SPONSOR_NOTICE,
        },
    )
