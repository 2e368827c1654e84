"""Header values of the emails (subjects, display names) never carry a line break, and a
message that cannot be built fails once, with the reason shown to the admin, instead of being
retried forever."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from django_tenants.utils import tenant_context

from emails.models import OutboxEmail
from emails.services import outbox_deliver, outbox_relay
from guests import services
from tenants.models import Tenant
from tests.helpers import unique_email


def test_a_line_break_in_the_tenant_name_is_a_space_in_the_subject(acme, mailbox):
    # A copy of the tenant: the shared acme object keeps its name for the tests after this.
    tenant = Tenant.objects.get(pk=acme.tenant.pk)
    tenant.name = "Acme\r\nBcc: victim@elsewhere.example\r\n"
    tenant.save(update_fields=["name"])
    email = unique_email()
    with tenant_context(tenant):
        invitation = services.invitation_create(
            invited_by=acme.admin, email=email, redirect_url="https://app.acme.example/"
        )
        outbox = invitation.emails.get(kind=OutboxEmail.Kind.INVITATION)
        assert outbox_deliver(outbox_id=outbox.pk) == "sent"
    (message,) = mailbox.wait_for(email)
    assert message["Subject"] == (
        "Acme Bcc: victim@elsewhere.example invited you to access applications within their "
        "organization"
    )
    assert message["Bcc"] is None and mailbox.to("victim@elsewhere.example") == []


def test_a_line_break_in_an_account_email_subject_is_a_space(acme, mailbox):
    email = unique_email()
    with tenant_context(acme.tenant):
        outbox = OutboxEmail.objects.create(
            kind=OutboxEmail.Kind.ACCOUNT,
            to=email,
            payload={"subject": "Acme\rCorp: your code", "text": "Hello", "html": ""},
        )
        assert outbox_deliver(outbox_id=outbox.pk) == "sent"
    (message,) = mailbox.wait_for(email)
    assert message["Subject"] == "Acme Corp: your code"


def test_a_message_that_cannot_be_built_fails_once_with_its_reason_shown(acme, mailbox):
    email = unique_email()
    with tenant_context(acme.tenant):
        invitation = services.invitation_create(
            invited_by=acme.admin, email=email, redirect_url="https://app.acme.example/"
        )
        outbox = invitation.emails.get(kind=OutboxEmail.Kind.INVITATION)
        # A row from before addresses were checked: its recipient would add a header.
        OutboxEmail.objects.filter(pk=outbox.pk).update(to=f"{email}\r\nBcc: x@elsewhere.example")
        assert outbox_deliver(outbox_id=outbox.pk) == "failed"
        # Delivered again (a redelivered task): nothing is tried a second time.
        assert outbox_deliver(outbox_id=outbox.pk) == "failed"
        outbox.refresh_from_db()
        assert outbox.attempts == 1 and outbox.payload == {}
        assert "cannot be built" in outbox.last_error
        # Rows other tests committed in acme are put off until the rollback: the relay must
        # find nothing to send again, this failed row included.
        OutboxEmail.objects.exclude(pk=outbox.pk).filter(status=OutboxEmail.Status.QUEUED).update(
            queued_at=timezone.now() + timedelta(days=1)
        )
        assert outbox_relay(stale_after=timedelta(0)) == 0
    assert mailbox.to(email) == [] and mailbox.to("x@elsewhere.example") == []
    detail = acme.client(user=acme.admin).get(
        f"/console/guests/invitations/{invitation.public_id}/"
    )
    page = detail.content.decode()
    assert "Failed" in page and "cannot be built" in page
