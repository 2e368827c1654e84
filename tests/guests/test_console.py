"""The console's Guests pages: roles, isolation, list, resend, revoke, settings, users list."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from accounts.roles import AdminRole
from audit.models import AuditEvent
from emails.models import OutboxEmail
from guests import services
from guests.models import GuestSettings, Invitation
from tests.guests.helpers import invite
from tests.helpers import unique_email


def test_member_without_an_admin_role_gets_403(acme):
    with tenant_context(acme.tenant):
        before = Invitation.objects.count()  # other tests may have committed invitations
    member = acme.client(user=acme.member)
    assert member.get("/console/guests/").status_code == 403
    response = member.post(
        "/console/guests/invite/", {"email": unique_email(), "redirect_url": "https://a.example/"}
    )
    assert response.status_code == 403
    with tenant_context(acme.tenant):
        assert Invitation.objects.count() == before


def test_guest_inviter_invites_but_not_when_no_one_may(acme):
    with tenant_context(acme.tenant):
        inviter = get_user_model().objects.create_user(
            email="inviter@acme.test", admin_roles=[AdminRole.GUEST_INVITER]
        )
    client = acme.client(user=inviter)
    data = {
        "email": "first@partner.example",
        "redirect_url": "https://a.example/",
        "user_type": "guest",
    }
    assert client.post("/console/guests/invite/", data).status_code == 302
    with tenant_context(acme.tenant):
        services.guest_settings_update(actor=acme.admin, invite_policy="no_one")
    refused = client.post("/console/guests/invite/", {**data, "email": "second@partner.example"})
    assert refused.status_code == 403
    assert "not allowed to invite" in refused.content.decode()
    with tenant_context(acme.tenant):
        invited = Invitation.objects.filter(
            email__in=["first@partner.example", "second@partner.example"]
        )
        assert list(invited.values_list("email", flat=True)) == ["first@partner.example"]
    # A Guest inviter may not change the guest settings, and is not offered to.
    assert client.get("/console/guests/settings/").status_code == 403
    assert "/console/guests/settings/" not in client.get("/console/guests/").content.decode()
    admin_page = acme.client(user=acme.admin).get("/console/guests/").content.decode()
    assert "/console/guests/settings/" in admin_page


def test_invite_form_shows_errors_next_to_fields_and_keeps_values(acme):
    with tenant_context(acme.tenant):
        services.guest_settings_update(
            actor=acme.admin, domain_mode="deny", domains=["rival.example"]
        )
    client = acme.client(user=acme.admin)
    response = client.post(
        "/console/guests/invite/",
        {
            "email": "spy@rival.example",
            "redirect_url": "https://a.example/",
            "display_name": "Spy",
            "user_type": "guest",
        },
    )
    page = response.content.decode()
    assert response.status_code == 200
    assert "Invitations to rival.example are blocked." in page
    assert 'value="Spy"' in page and 'aria-invalid="true"' in page


def test_list_searches_filters_and_paginates(acme):
    # Scoped by a search for this test's own domains: other tests commit invitations too.
    for number in range(27):
        invite(acme, f"bulk{number:02d}@listing.example")
    revoked = invite(acme, "gone@other-listing.example")
    with tenant_context(acme.tenant):
        services.invitation_revoke(invitation=revoked, actor=acme.admin)
    client = acme.client(user=acme.admin)
    first = client.get("/console/guests/", {"q": "listing.example"}).content.decode()
    assert "Page 1 of 2" in first and "28 results" in first
    page = client.get("/console/guests/", {"q": "other-listing"}).content.decode()
    assert "gone@other-listing.example" in page and "bulk01@listing.example" not in page
    page = client.get("/console/guests/", {"status": "Revoked", "q": "listing"}).content.decode()
    assert "gone@other-listing.example" in page and "1 result" in page
    page = client.get("/console/guests/", {"inviter": "nobody"}).content.decode()
    assert "No invitations match." in page
    page = client.get("/console/guests/", {"since": "2999-01-01"}).content.decode()
    assert "No invitations match." in page
    page = client.get("/console/guests/", {"since": "2000-02-30", "q": "listing.example"})
    assert "28 results" in page.content.decode()  # an impossible date is ignored, not a 500
    fragment = client.get("/console/guests/", {"q": "bulk05@listing"}, HTTP_HX_REQUEST="true")
    assert (
        "<html" not in fragment.content.decode()
        and "bulk05@listing.example" in fragment.content.decode()
    )


def test_invitations_are_isolated_between_tenants(acme, globex):
    invitation = invite(acme, "secret@partner.example")
    globex_admin = globex.client(user=globex.admin)
    assert "secret@partner.example" not in globex_admin.get("/console/guests/").content.decode()
    detail = f"/console/guests/invitations/{invitation.public_id}/"
    assert globex_admin.get(detail).status_code == 404
    assert globex_admin.post(detail + "revoke/").status_code == 404
    assert acme.client(user=acme.admin).get(detail).status_code == 200


def test_resend_replaces_the_link_and_queues_a_new_email(acme):
    invitation = invite(acme)
    old_token = invitation.redeem_url.rstrip("/").rsplit("/", 1)[1]
    client = acme.client(user=acme.admin)
    response = client.post(f"/console/guests/invitations/{invitation.public_id}/resend/")
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        assert OutboxEmail.objects.filter(invitation=invitation, kind="invitation").count() == 2
        assert AuditEvent.objects.filter(action="invitation.resend").exists()
    assert acme.client().get(f"/invite/{old_token}/").status_code == 404


def test_revoke_makes_the_link_useless(acme):
    invitation = invite(acme)
    token = invitation.redeem_url.rstrip("/").rsplit("/", 1)[1]
    client = acme.client(user=acme.admin)
    client.post(f"/console/guests/invitations/{invitation.public_id}/revoke/")
    page = client.get(f"/console/guests/invitations/{invitation.public_id}/").content.decode()
    assert "Revoked" in page
    assert acme.client().get(f"/invite/{token}/").status_code == 404
    with tenant_context(acme.tenant):
        assert AuditEvent.objects.filter(action="invitation.revoke").exists()


def test_guest_settings_save_and_are_audited(acme):
    with tenant_context(acme.tenant):  # tests that commit may have audited changes already
        earlier = list(
            AuditEvent.objects.filter(action="guest_settings.update").values_list("pk", flat=True)
        )
    client = acme.client(user=acme.admin)
    response = client.post(
        "/console/guests/settings/",
        {
            "invite_policy": "members",
            "domain_mode": "allow",
            "domains": "Partner.example\n@supplier.example",
            "default_expiry_days": "10",
            "max_expiry_days": "20",
            "terms_text": "",
            "terms_url": "",
            "access_days": "90",
        },
    )
    assert response.status_code == 302
    with tenant_context(acme.tenant):
        saved = GuestSettings.objects.get()
        assert saved.invite_policy == "members"
        assert saved.domains == ["partner.example", "supplier.example"]
        assert (saved.default_expiry_days, saved.max_expiry_days, saved.access_days) == (10, 20, 90)
        (event,) = AuditEvent.objects.filter(action="guest_settings.update").exclude(pk__in=earlier)
        assert event.after["invite_policy"] == "members"
    bad = client.post(
        "/console/guests/settings/",
        {
            "invite_policy": "members",
            "domain_mode": "any",
            "default_expiry_days": "40",
            "max_expiry_days": "30",
            "access_days": "0",
        },
    )
    assert bad.status_code == 200
    assert 'aria-invalid="true"' in bad.content.decode()


def test_users_list_shows_guest_type_state_sponsor_and_dates(acme):
    invitation = invite(acme, "shown@partner.example")
    with tenant_context(acme.tenant):
        guest = services.invitation_accept(invitation=invitation)
    client = acme.client(user=acme.admin)
    page = client.get("/console/users/", {"type": "guest"}).content.decode()
    assert "shown@partner.example" in page and "Guest · Accepted" in page
    assert acme.admin.email in page
    detail = client.get(f"/console/users/{guest.public_id}/").content.decode()
    assert "Sponsor" in detail and acme.admin.email in detail and "Renew guest access" in detail


def test_the_guest_user_link_shows_only_to_admins_who_may_open_users(acme):
    invitation = invite(acme)
    with tenant_context(acme.tenant):
        guest = services.invitation_accept(invitation=invitation, address_proven=True)
        inviter = get_user_model().objects.create_user(
            email=unique_email(), admin_roles=[AdminRole.GUEST_INVITER]
        )
    path = f"/console/guests/invitations/{invitation.public_id}/"
    user_page = f"/console/users/{guest.public_id}/"
    as_inviter = acme.client(user=inviter).get(path).content.decode()
    assert "Accepted" in as_inviter and user_page not in as_inviter
    assert acme.client(user=inviter).get(user_page).status_code == 403
    assert user_page in acme.client(user=acme.admin).get(path).content.decode()


def test_the_guests_page_leads_a_user_administrator_to_the_inactive_guests(acme):
    """Entra's inactive guests report: Users, filtered to guests with no sign-in for 90 days
    (those who never signed in since they were invited that long ago included)."""
    import re
    from datetime import timedelta

    from django.utils import timezone

    User = get_user_model()
    with tenant_context(acme.tenant):
        idle = User.objects.create_user(email=unique_email("idle"), user_type="guest")
        active = User.objects.create_user(email=unique_email("active"), user_type="guest")
        User.objects.filter(pk__in=[idle.pk, active.pk]).update(
            date_joined=timezone.now() - timedelta(days=200)
        )
        User.objects.filter(pk=active.pk).update(last_login=timezone.now() - timedelta(days=3))
    client = acme.client(acme.admin)
    page = client.get("/console/guests/").content.decode()
    since = (timezone.now() - timedelta(days=90)).date().isoformat()
    link = re.search(r'href="([^"]+)">Inactive guests \(no sign-in for 90 days\)</a>', page)
    assert link and link.group(1) == (
        f"/console/users/?type=guest&amp;inactive_since={since}&amp;sort=last_login"
    )
    listed = client.get(link.group(1).replace("&amp;", "&")).content.decode()
    assert idle.email in listed and active.email not in listed
    # A Guest inviter does not read the directory: no link.
    with tenant_context(acme.tenant):
        inviter = User.objects.create_user(
            email=unique_email("inviter"), admin_roles=[AdminRole.GUEST_INVITER]
        )
    assert "Inactive guests" not in acme.client(inviter).get("/console/guests/").content.decode()
