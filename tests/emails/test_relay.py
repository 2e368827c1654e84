"""The relay finds the tenants with an email whose task may be lost in the public work index
(tenants/work.py) and visits only those: at 10,000 tenants a relay every minute must not
switch to 10,000 schemas, nor read them."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from emails.models import OutboxEmail
from emails.services import OUTBOX_STALE_AFTER
from emails.tasks import outbox_relay_all
from guests import services
from tenants.models import TenantWork
from tests.helpers import unique_email, work_due_tenants, work_index_clear, work_index_later

RELAY = TenantWork.Kind.OUTBOX_RELAY


def nothing_lost(*worlds) -> None:
    """Within the test's transaction: whatever earlier tests left queued is settled."""
    work_index_clear()
    for world in worlds:
        with tenant_context(world.tenant):
            OutboxEmail.objects.filter(status=OutboxEmail.Status.QUEUED).update(
                status=OutboxEmail.Status.SENT
            )


def lost_email(world) -> OutboxEmail:
    """An invitation email in `world` whose task was lost: queued longer ago than the relay
    waits."""
    late = OUTBOX_STALE_AFTER + timedelta(seconds=1)
    with tenant_context(world.tenant):
        invitation = services.invitation_create(
            invited_by=world.admin, email=unique_email(), redirect_url="https://g.example/"
        )
        lost = OutboxEmail.objects.get(invitation=invitation)
        OutboxEmail.objects.filter(pk=lost.pk).update(queued_at=timezone.now() - late)
    work_index_later(world, RELAY, late)
    return lost


def test_writing_an_email_marks_its_tenant_in_the_index_in_the_same_transaction(acme, globex):
    nothing_lost(acme, globex)
    with tenant_context(globex.tenant):
        services.invitation_create(
            invited_by=globex.admin, email=unique_email(), redirect_url="https://g.example/"
        )
    # Not committed yet (the test's transaction): the index row is already there with it.
    (row,) = TenantWork.objects.filter(kind=RELAY)
    assert row.tenant_id == globex.tenant.pk
    assert row.due_at - timezone.now() > OUTBOX_STALE_AFTER - timedelta(seconds=30)
    # Not due before its task could be lost.
    assert "globex" not in work_due_tenants(RELAY)


def test_the_relay_visits_only_tenants_with_an_email_whose_task_was_lost(acme, globex):
    nothing_lost(acme, globex)
    assert not {"acme", "globex"} & work_due_tenants(RELAY)

    lost = lost_email(globex)
    assert work_due_tenants(RELAY) == {"globex"}

    result = outbox_relay_all()
    assert result["tenants"] == ["globex"]
    assert result["relayed"] == 1
    with tenant_context(globex.tenant):
        lost.refresh_from_db()
        assert timezone.now() - lost.queued_at < timedelta(minutes=1)  # queued again
    # Still queued: the relay looks again once this task could be lost in turn.
    row = TenantWork.objects.get(tenant=globex.tenant, kind=RELAY)
    assert row.due_at == lost.queued_at + OUTBOX_STALE_AFTER
    assert not work_due_tenants(RELAY)


def test_the_index_row_is_cleared_once_nothing_is_queued(acme, globex):
    nothing_lost(acme, globex)
    lost = lost_email(globex)
    with tenant_context(globex.tenant):
        OutboxEmail.objects.filter(pk=lost.pk).update(status=OutboxEmail.Status.SENT)
    result = outbox_relay_all()
    assert result == {"tenants": ["globex"], "relayed": 0}
    assert not TenantWork.objects.filter(kind=RELAY).exists()


def test_a_tenant_whose_relay_fails_stays_due_and_the_others_are_visited(acme, globex):
    """A schema the relay cannot read (say, mid-migration) is logged and left due; the other
    tenants' lost emails are still relayed."""
    from django.db import connection

    nothing_lost(acme, globex)
    lost_email(acme)
    lost_email(globex)
    table = OutboxEmail._meta.db_table
    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute(f'ALTER TABLE "{acme.tenant.schema_name}".{table} RENAME TO x')
    result = outbox_relay_all()
    assert result["tenants"] == ["globex"]
    assert "acme" in work_due_tenants(RELAY)
