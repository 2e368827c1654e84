from __future__ import annotations

from allauth.account.models import EmailAddress
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery

from emails.models import OutboxEmail
from guests.models import ApiKey, BulkInvitation, GuestProfile, Invitation


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
