"""The relay finds the tenants with an email whose task was lost in a query per 500 tenants
and visits only those: at 10,000 tenants a relay every minute must not switch to 10,000
schemas."""

from __future__ import annotations

from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tenants.utils import tenant_context

from emails.models import OutboxEmail
from emails.selectors import tenants_with_lost_emails
from emails.services import OUTBOX_STALE_AFTER
from emails.tasks import outbox_relay_all
from guests import services
from tests.helpers import unique_email


def nothing_lost(*worlds) -> None:
    """Within the test's transaction: whatever earlier tests left queued is settled."""
    for world in worlds:
        with tenant_context(world.tenant):
            OutboxEmail.objects.filter(status=OutboxEmail.Status.QUEUED).update(
                status=OutboxEmail.Status.SENT
            )


def lost_email(world) -> OutboxEmail:
    """An invitation email in `world` whose task was lost: queued longer ago than the relay
    waits."""
    with tenant_context(world.tenant):
        invitation = services.invitation_create(
            invited_by=world.admin, email=unique_email(), redirect_url="https://g.example/"
        )
        lost = OutboxEmail.objects.get(invitation=invitation)
        OutboxEmail.objects.filter(pk=lost.pk).update(
            queued_at=timezone.now() - OUTBOX_STALE_AFTER - timedelta(seconds=1)
        )
    return lost


def test_the_relay_visits_only_tenants_with_an_email_whose_task_was_lost(acme, globex):
    nothing_lost(acme, globex)
    schemas = {acme.tenant.schema_name, globex.tenant.schema_name}
    assert not schemas & set(tenants_with_lost_emails(now=timezone.now()))

    lost = lost_email(globex)
    found = set(tenants_with_lost_emails(now=timezone.now()))
    assert globex.tenant.schema_name in found
    assert acme.tenant.schema_name not in found

    result = outbox_relay_all()
    assert "globex" in result["tenants"] and "acme" not in result["tenants"]
    assert result["relayed"] >= 1
    with tenant_context(globex.tenant):
        lost.refresh_from_db()
        assert timezone.now() - lost.queued_at < timedelta(minutes=1)  # queued again


def test_finding_the_tenants_with_lost_emails_is_one_query_per_500_tenants(acme, globex):
    nothing_lost(acme, globex)
    with CaptureQueriesContext(connection) as queries:
        tenants_with_lost_emails(now=timezone.now())
    statements = [query["sql"] for query in queries if query["sql"].startswith("SELECT")]
    # The active tenants, then one UNION ALL over their schemas.
    assert len(statements) == 2, statements
    assert statements[1].count("UNION ALL") >= 1


def test_a_schema_the_query_cannot_read_does_not_hide_the_others_lost_emails(acme, globex):
    """A schema without the outbox table (say, mid-migration) is skipped with a warning;
    the other tenants' lost emails are still found."""
    nothing_lost(acme, globex)
    lost_email(globex)
    table = OutboxEmail._meta.db_table
    with connection.cursor() as cursor:  # rolled back with the test
        cursor.execute(f'ALTER TABLE "{acme.tenant.schema_name}".{table} RENAME TO x')
    found = tenants_with_lost_emails(now=timezone.now())
    assert globex.tenant.schema_name in found
    assert acme.tenant.schema_name not in found
