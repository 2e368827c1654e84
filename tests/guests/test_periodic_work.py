"""The guests' beat tasks find the tenants that have work in the public work index
(tenants/work.py) and visit only those: at 10,000 tenants a relay every minute must not switch
to 10,000 schemas, nor read them."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from emails.models import OutboxEmail
from emails.services import OUTBOX_STALE_AFTER
from guests import services
from guests.models import BulkInvitation, GuestProfile, Invitation
from guests.services.governance import GOVERNANCE_RECHECK, SPONSOR_NOTICE
from guests.tasks import bulk_invitation_relay_all, governance_all
from tenants.models import TenantWork
from tests.helpers import unique_email, work_due_tenants, work_index_clear, work_index_later

RELAY = TenantWork.Kind.BULK_INVITATION_RELAY
GOVERNANCE = TenantWork.Kind.GUEST_GOVERNANCE


def nothing_due(*worlds) -> None:
    """Within the test's transaction: whatever earlier tests left is settled."""
    work_index_clear()
    for world in worlds:
        with tenant_context(world.tenant):
            OutboxEmail.objects.filter(status=OutboxEmail.Status.QUEUED).update(
                status=OutboxEmail.Status.SENT
            )
            BulkInvitation.objects.filter(status=BulkInvitation.Status.PROCESSING).update(
                status=BulkInvitation.Status.DONE
            )
            Invitation.objects.filter(status=Invitation.Status.PENDING).update(
                status=Invitation.Status.REVOKED
            )
            GuestProfile.objects.update(access_expires_at=None)


def lost_bulk_upload(world) -> BulkInvitation:
    """A bulk upload in `world` whose task was lost: still processing longer ago than the
    relay waits."""
    late = OUTBOX_STALE_AFTER + timedelta(seconds=1)
    with tenant_context(world.tenant):
        bulk = services.bulk_invitation_start(
            actor=world.admin,
            data=f"{unique_email()}\n".encode(),
            file_name="lost.csv",
            default_redirect_url="https://g.example/",
        )
        BulkInvitation.objects.filter(pk=bulk.pk).update(created_at=timezone.now() - late)
    work_index_later(world, RELAY, late)
    return bulk


def test_the_relay_visits_only_tenants_with_a_bulk_upload_whose_task_was_lost(acme, globex):
    nothing_due(acme, globex)
    assert not {"acme", "globex"} & work_due_tenants(RELAY)

    bulk = lost_bulk_upload(globex)
    assert work_due_tenants(RELAY) == {"globex"}

    result = bulk_invitation_relay_all()
    assert result == {"tenants": ["globex"], "relayed": 1}
    # Still processing: looked at again every run, as before the index.
    assert "globex" in work_due_tenants(RELAY)

    with tenant_context(globex.tenant):
        BulkInvitation.objects.filter(pk=bulk.pk).update(status=BulkInvitation.Status.DONE)
    assert bulk_invitation_relay_all() == {"tenants": ["globex"], "relayed": 0}
    assert not TenantWork.objects.filter(kind=RELAY).exists()  # cleared: nothing left


def test_governance_visits_only_tenants_where_something_is_due(acme, globex):
    nothing_due(acme, globex)
    assert not {"acme", "globex"} & work_due_tenants(GOVERNANCE)

    with tenant_context(acme.tenant):
        invitation = services.invitation_create(
            invited_by=acme.admin, email=unique_email(), redirect_url="https://a.example/"
        )
    row = TenantWork.objects.get(tenant=acme.tenant, kind=GOVERNANCE)
    assert row.due_at == invitation.expires_at  # written with the invitation
    with tenant_context(acme.tenant):
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    work_index_later(acme, GOVERNANCE, row.due_at - timezone.now() + timedelta(minutes=1))
    assert work_due_tenants(GOVERNANCE) == {"acme"}

    # A guest whose access ends within the sponsor's week makes globex due too.
    with tenant_context(globex.tenant):
        other = services.invitation_create(
            invited_by=globex.admin, email=unique_email(), redirect_url="https://g.example/"
        )
        guest = services.invitation_accept(invitation=other)
        ends = timezone.now() + timedelta(days=3)
        GuestProfile.objects.filter(user=guest).update(access_expires_at=ends)
    TenantWork.objects.filter(tenant=globex.tenant, kind=GOVERNANCE).update(
        due_at=ends - SPONSOR_NOTICE
    )
    assert work_due_tenants(GOVERNANCE) == {"acme", "globex"}

    result = governance_all()
    assert set(result["tenants"]) == {"acme", "globex"}
    with tenant_context(acme.tenant):
        invitation.refresh_from_db()
        assert invitation.status == Invitation.Status.EXPIRED
    with tenant_context(globex.tenant):
        assert GuestProfile.objects.get(user=guest).sponsor_reminded_at is not None
    # Reminded once: globex is next due when the guest's access ends (or at the daily
    # recheck of tenants holding guests); acme has nothing left.
    assert not work_due_tenants(GOVERNANCE)
    assert not TenantWork.objects.filter(tenant=acme.tenant, kind=GOVERNANCE).exists()
    row = TenantWork.objects.get(tenant=globex.tenant, kind=GOVERNANCE)
    assert timezone.now() < row.due_at <= min(ends, timezone.now() + GOVERNANCE_RECHECK)


def test_a_renewed_guest_is_due_again_a_week_before_the_new_end(acme):
    nothing_due(acme)
    with tenant_context(acme.tenant):
        invitation = services.invitation_create(
            invited_by=acme.admin, email=unique_email(), redirect_url="https://a.example/"
        )
        guest = services.invitation_accept(invitation=invitation)
        Invitation.objects.filter(pk=invitation.pk).update(status=Invitation.Status.REVOKED)
    work_index_clear()
    with tenant_context(acme.tenant):
        profile = services.guest_access_renew(user=guest, actor=acme.admin)
    if profile.access_expires_at is None:  # the tenant keeps guests for good
        assert not TenantWork.objects.filter(kind=GOVERNANCE).exists()
    else:
        row = TenantWork.objects.get(tenant=acme.tenant, kind=GOVERNANCE)
        assert row.due_at == profile.access_expires_at - SPONSOR_NOTICE
