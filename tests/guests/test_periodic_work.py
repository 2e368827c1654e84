"""The beat tasks find the tenants that have work in a query per 500 tenants and visit only
those: at 10,000 tenants a relay every minute must not switch to 10,000 schemas."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from emails.models import OutboxEmail
from emails.services import OUTBOX_STALE_AFTER
from guests import services
from guests.models import BulkInvitation, GuestProfile, Invitation
from guests.selectors import tenants_with_governance_due, tenants_with_lost_bulk_uploads
from guests.tasks import bulk_invitation_relay_all, governance_all
from tests.helpers import unique_email


def nothing_due(*worlds) -> None:
    """Within the test's transaction: whatever earlier tests left is settled."""
    for world in worlds:
        with tenant_context(world.tenant):
            OutboxEmail.objects.filter(status=OutboxEmail.Status.QUEUED).update(
                status=OutboxEmail.Status.SENT
            )
            BulkInvitation.objects.filter(status=BulkInvitation.Status.PROCESSING).update(
                status=BulkInvitation.Status.DONE
            )
            Invitation.objects.filter(status=Invitation.Status.PENDING).update(
                expires_at=timezone.now() + timedelta(days=30)
            )
            GuestProfile.objects.update(access_expires_at=None)


def lost_bulk_upload(world) -> BulkInvitation:
    """A bulk upload in `world` whose task was lost: still processing longer ago than the
    relay waits."""
    with tenant_context(world.tenant):
        bulk = BulkInvitation.objects.create(created_by=world.admin, file_name="lost.csv")
        BulkInvitation.objects.filter(pk=bulk.pk).update(
            created_at=timezone.now() - OUTBOX_STALE_AFTER - timedelta(seconds=1)
        )
    return bulk


def test_the_relay_visits_only_tenants_with_a_bulk_upload_whose_task_was_lost(acme, globex):
    nothing_due(acme, globex)
    schemas = {acme.tenant.schema_name, globex.tenant.schema_name}
    assert not schemas & set(tenants_with_lost_bulk_uploads(now=timezone.now()))

    lost_bulk_upload(globex)
    found = set(tenants_with_lost_bulk_uploads(now=timezone.now()))
    assert globex.tenant.schema_name in found
    assert acme.tenant.schema_name not in found

    result = bulk_invitation_relay_all()
    assert "globex" in result["tenants"] and "acme" not in result["tenants"]
    assert result["relayed"] >= 1


def test_governance_visits_only_tenants_where_something_is_due(acme, globex):
    nothing_due(acme, globex)
    schemas = {acme.tenant.schema_name, globex.tenant.schema_name}
    assert not schemas & set(tenants_with_governance_due(now=timezone.now()))

    with tenant_context(acme.tenant):
        invitation = services.invitation_create(
            invited_by=acme.admin, email=unique_email(), redirect_url="https://a.example/"
        )
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    assert set(tenants_with_governance_due(now=timezone.now())) & schemas == {
        acme.tenant.schema_name
    }
    # A guest whose access ends within the sponsor's week makes globex due too.
    with tenant_context(globex.tenant):
        other = services.invitation_create(
            invited_by=globex.admin, email=unique_email(), redirect_url="https://g.example/"
        )
        guest = services.invitation_accept(invitation=other)
        GuestProfile.objects.filter(user=guest).update(
            access_expires_at=timezone.now() + timedelta(days=3)
        )
    assert schemas <= set(tenants_with_governance_due(now=timezone.now()))

    result = governance_all()
    assert {"acme", "globex"} <= set(result["tenants"])
    with tenant_context(acme.tenant):
        invitation.refresh_from_db()
        assert invitation.status == Invitation.Status.EXPIRED
    with tenant_context(globex.tenant):
        assert GuestProfile.objects.get(user=guest).sponsor_reminded_at is not None
        # Reminded once: the tenant is no longer due for this guest.
    assert globex.tenant.schema_name not in tenants_with_governance_due(now=timezone.now())


def test_finding_the_tenants_with_work_is_one_query_per_500_tenants(acme, globex):
    nothing_due(acme, globex)
    for selector in (tenants_with_lost_bulk_uploads, tenants_with_governance_due):
        with CaptureQueriesContext(connection) as queries:
            selector(now=timezone.now())
        statements = [query["sql"] for query in queries if query["sql"].startswith("SELECT")]
        # The active tenants, then one UNION ALL over their schemas.
        assert len(statements) == 2, statements
        assert statements[1].count("UNION ALL") >= 1


def test_a_schema_the_query_cannot_read_does_not_hide_the_others_work(acme, globex):
    """A schema without the bulk upload table (say, mid-migration) is skipped with a warning;
    the other tenants' lost uploads are still found."""
    nothing_due(acme, globex)
    lost_bulk_upload(globex)
    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute(f'ALTER TABLE "{acme.tenant.schema_name}".guests_bulkinvitation RENAME TO x')
    found = tenants_with_lost_bulk_uploads(now=timezone.now())
    assert globex.tenant.schema_name in found
    assert acme.tenant.schema_name not in found
