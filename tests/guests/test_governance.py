"""Governance with a moved clock: invitations expire, sponsors are warned a week ahead,
unrenewed guests are disabled; every change is audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from emails.models import OutboxEmail
from guests import services
from guests.models import GuestProfile, Invitation
from guests.services.governance import governance_due
from guests.tasks import governance_all
from tests.helpers import fresh_world, unique_email
from tests.mail import body_text

pytestmark = [pytest.mark.server]


def invite(world, email=None):
    with tenant_context(world.tenant):
        return services.invitation_create(
            invited_by=world.admin, email=email or unique_email(), redirect_url="https://a.example/"
        )


def test_invitations_expire_after_their_expiry(db):
    acme = fresh_world("Governance")  # counts only its own invitations
    invitation = invite(acme)
    token = invitation.redeem_url.rstrip("/").rsplit("/", 1)[1]
    with tenant_context(acme.tenant):
        assert services.governance_run(now=timezone.now() + timedelta(days=6))["expired"] == 0
        counts = services.governance_run(now=timezone.now() + timedelta(days=7, minutes=1))
        assert counts["expired"] == 1
        invitation.refresh_from_db()
        assert invitation.status == "Expired"
        assert AuditEvent.objects.filter(
            action="invitation.expire", actor_label="governance"
        ).exists()
    assert acme.client().get(f"/invite/{token}/").status_code == 404
    page = acme.client(user=acme.admin).get("/console/guests/", {"status": "Expired"})
    assert invitation.email in page.content.decode()


def test_guests_are_disabled_when_access_ends_unless_renewed(db):
    acme = fresh_world("Governance")  # counts only its own guests
    start = timezone.now()
    with tenant_context(acme.tenant):
        services.guest_settings_update(actor=acme.admin, access_days=30)
        kept = services.invitation_accept(invitation=invite(acme), now=start)
        dropped = services.invitation_accept(invitation=invite(acme), now=start)
        assert GuestProfile.objects.get(user=dropped).access_expires_at == start + timedelta(
            days=30
        )

        counts = services.governance_run(now=start + timedelta(days=24))
        assert counts == {"expired": 0, "reminded": 2, "disabled": 0}
        reminders = OutboxEmail.objects.filter(kind="sponsor_reminder", to=acme.admin.email)
        assert {r.payload["guest_email"] for r in reminders} == {kept.email, dropped.email}
        # Reminded once, not on every run.
        assert services.governance_run(now=start + timedelta(days=25))["reminded"] == 0

        services.guest_access_renew(user=kept, actor=acme.admin, now=start + timedelta(days=26))
        counts = services.governance_run(now=start + timedelta(days=31))
        assert counts["disabled"] == 1
        User = get_user_model()
        assert not User.objects.get(pk=dropped.pk).is_active
        assert User.objects.get(pk=kept.pk).is_active
        assert AuditEvent.objects.filter(
            action="guest.disable", target_label=dropped.email
        ).exists()

    detail = acme.client(user=acme.admin).get(f"/console/users/{dropped.public_id}/")
    assert "Access expired without renewal" in detail.content.decode()
    response = acme.client(user=acme.admin).post(
        f"/console/guests/users/{dropped.public_id}/renew/"
    )
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        assert get_user_model().objects.get(pk=dropped.pk).is_active
        assert AuditEvent.objects.filter(action="guest.renew").count() == 2


def test_beat_task_emails_the_sponsor_a_week_before_access_ends(
    acme_committed, celery_worker_process, mailbox
):
    with tenant_context(acme_committed.tenant):
        invitation = invite(acme_committed)
        guest = services.invitation_accept(invitation=invitation)
        ends = timezone.now() + timedelta(days=3)
        GuestProfile.objects.filter(user=guest).update(access_expires_at=ends)
        # What a service that sets an end of access writes with it: the tenant is due for
        # governance in the public work index (tenants/work.py).
        governance_due(access_expires_at=ends)
        Invitation.objects.filter(pk=invitation.pk).update(status="Accepted")
    governance_all.delay()  # queued from the public schema, as beat does
    messages = mailbox.wait_for(acme_committed.admin.email)
    reminder = [m for m in messages if guest.email in m["Subject"]]
    assert len(reminder) == 1
    assert "Acme Corporation" in reminder[0]["Subject"]
    assert f"http://acme.localhost/invite/guests/{guest.public_id}/renew/" in body_text(reminder[0])


def test_the_sponsor_renews_from_the_link_in_the_reminder_and_nobody_else_may(acme, globex):
    with tenant_context(acme.tenant):
        services.guest_settings_update(actor=acme.admin, access_days=30)
        services.guest_settings_update(actor=acme.admin, invite_policy="members")
        invitation = services.invitation_create(
            invited_by=acme.member,
            email=unique_email(),
            redirect_url=f"http://{acme.host}/account/",
        )
        guest = services.invitation_accept(invitation=invitation)
        GuestProfile.objects.filter(user=guest).update(
            access_expires_at=timezone.now() - timedelta(hours=1)
        )
        services.governance_run()
        assert not get_user_model().objects.get(pk=guest.pk).is_active
        outsider = get_user_model().objects.create_user(email="outsider@acme.test")
    url = f"/invite/guests/{guest.public_id}/renew/"
    assert acme.client(user=outsider).post(url).status_code == 403
    assert globex.client(user=globex.admin).post(url).status_code == 404
    page = acme.client(user=acme.member).post(url).content.decode()
    assert "Access renewed." in page
    with tenant_context(acme.tenant):
        profile = GuestProfile.objects.select_related("user").get(user=guest)
        assert profile.user.is_active
        assert profile.access_expires_at > timezone.now() + timedelta(days=29)
