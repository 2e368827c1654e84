"""Guest governance: expiry of invitations, sponsor reminders, disabling and renewal."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from accounts.services import user_set_enabled
from audit.services import audit_record
from emails.models import OutboxEmail
from emails.services import outbox_add
from guests.models import GuestProfile, Invitation
from guests.services.policy import guest_settings_get

SPONSOR_NOTICE = timedelta(days=7)
# The longest governance leaves a tenant holding guests with an end of access unvisited,
# whatever the index says: a guest enabled again by an admin after their access ended is
# disabled within this.
GOVERNANCE_RECHECK = timedelta(days=1)


def governance_due(*, due_at: datetime | None = None, access_expires_at: datetime | None = None):
    """In the transaction that writes it: governance has something to do in this tenant at
    `due_at` (an invitation's expiry), or before a guest's access ends at `access_expires_at`
    (the sponsor's reminder comes SPONSOR_NOTICE earlier). See tenants/work.py."""
    from tenants.models import TenantWork
    from tenants.work import tenant_work_due

    if access_expires_at is not None:
        due_at = access_expires_at - SPONSOR_NOTICE
    if due_at is not None:
        tenant_work_due(kind=TenantWork.Kind.GUEST_GOVERNANCE, due_at=due_at)


def governance_next_due(*, now: datetime | None = None) -> datetime | None:
    """When governance next has something to do in this tenant (what governance_run would
    change then); None when no pending invitation or guest with an end of access is left."""
    from django.db.models import Min

    now = now or timezone.now()
    moments = [
        Invitation.objects.filter(status=Invitation.Status.PENDING).aggregate(at=Min("expires_at"))[
            "at"
        ],
    ]
    guests = GuestProfile.objects.filter(access_expires_at__isnull=False)
    active = guests.filter(user__is_active=True)
    reminder = active.filter(sponsor_reminded_at__isnull=True).aggregate(
        at=Min("access_expires_at")
    )["at"]
    moments.append(reminder - SPONSOR_NOTICE if reminder else None)
    moments.append(active.aggregate(at=Min("access_expires_at"))["at"])
    if guests.exists():
        moments.append(now + GOVERNANCE_RECHECK)
    moments = [moment for moment in moments if moment is not None]
    return min(moments) if moments else None


def governance_run(*, now: datetime | None = None) -> dict[str, int]:
    """Expire invitations, warn sponsors a week before a guest's access ends, and disable
    guests whose access ended without renewal. Every change is audited."""
    now = now or timezone.now()
    counts = {"expired": 0, "reminded": 0, "disabled": 0}
    for invitation in Invitation.objects.filter(
        status=Invitation.Status.PENDING, expires_at__lte=now
    ).iterator():
        with transaction.atomic():
            updated = Invitation.objects.filter(
                pk=invitation.pk, status=Invitation.Status.PENDING
            ).update(status=Invitation.Status.EXPIRED)
            if updated:
                counts["expired"] += 1
                audit_record(
                    actor="governance",
                    action="invitation.expire",
                    target=invitation,
                    before={"status": Invitation.Status.PENDING},
                    after={"status": Invitation.Status.EXPIRED},
                )
    for profile in GuestProfile.objects.filter(
        access_expires_at__isnull=False,
        access_expires_at__gt=now,
        access_expires_at__lte=now + SPONSOR_NOTICE,
        sponsor_reminded_at__isnull=True,
        user__is_active=True,
    ).select_related("user", "sponsor"):
        with transaction.atomic():
            if profile.sponsor is not None and profile.sponsor.is_active:
                outbox_add(
                    kind=OutboxEmail.Kind.SPONSOR_REMINDER,
                    to=profile.sponsor.email,
                    payload={
                        "guest_email": profile.user.email,
                        "guest_public_id": str(profile.user.public_id),
                        "access_expires_at": profile.access_expires_at.isoformat(),
                        # The sponsor's own language, else the tenant's (guests/emails.py).
                        "language": profile.sponsor.language,
                    },
                    now=now,
                )
            profile.sponsor_reminded_at = now
            profile.save(update_fields=["sponsor_reminded_at"])
            counts["reminded"] += 1
            audit_record(
                actor="governance",
                action="guest.sponsor_reminder",
                target=profile.user,
                after={"sponsor": profile.sponsor.email if profile.sponsor else None},
            )
    for profile in GuestProfile.objects.filter(
        access_expires_at__lte=now, user__is_active=True
    ).select_related("user"):
        with transaction.atomic():
            # Ends the guest's sessions and revokes its apps' tokens too.
            user_set_enabled(
                user=profile.user,
                enabled=False,
                actor="governance",
                reason="access expired",
                action="guest.disable",
            )
            profile.disabled_by_governance_at = now
            profile.save(update_fields=["disabled_by_governance_at"])
            counts["disabled"] += 1
    return counts


@transaction.atomic
def guest_access_renew(*, user, actor, request=None, now: datetime | None = None) -> GuestProfile:
    """A sponsor or admin keeps a guest: access runs for another period, and a guest disabled
    by governance is enabled again."""
    now = now or timezone.now()
    profile = GuestProfile.objects.select_for_update().select_related("user").get(user=user)
    days = guest_settings_get().access_days
    before = {"access_expires_at": _iso(profile.access_expires_at), "is_active": user.is_active}
    profile.access_expires_at = now + timedelta(days=days) if days else None
    profile.sponsor_reminded_at = None
    governance_due(access_expires_at=profile.access_expires_at)
    if profile.disabled_by_governance_at is not None:
        profile.disabled_by_governance_at = None
        profile.user.is_active = True
        profile.user.save(update_fields=["is_active"])
    profile.save()
    audit_record(
        actor=actor,
        action="guest.renew",
        target=profile.user,
        before=before,
        after={
            "access_expires_at": _iso(profile.access_expires_at),
            "is_active": profile.user.is_active,
        },
        request=request,
    )
    return profile


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
