"""Email bombing through the guests pages: every action that sends an email is limited per
invited address and per IP address (resends also per admin), with a message next to the
action, counted per tenant."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from accounts.roles import AdminRole
from emails.models import OutboxEmail
from guests import services
from guests.models import Invitation
from tests.helpers import unique_email

TOO_MANY = "Too many emails were sent to this address, from your network or by you"
TOO_MANY_CODES = "Too many codes were sent to this address or from your network"


def invitation_emails_to(world, email) -> int:
    with tenant_context(world.tenant):
        return OutboxEmail.objects.filter(
            to__iexact=email, kind=OutboxEmail.Kind.INVITATION
        ).count()


def invite(world, email=None) -> Invitation:
    with tenant_context(world.tenant):
        return services.invitation_create(
            invited_by=world.admin,
            email=email or unique_email(),
            redirect_url="https://app.acme.example/welcome",
        )


def resend(client, invitation):
    return client.post(f"/console/guests/invitations/{invitation.public_id}/resend/")


def console_invite(client, email):
    return client.post(
        "/console/guests/invite/",
        {
            "email": email,
            "redirect_url": "https://app.acme.example/welcome",
            "user_type": "guest",
            "send_email": "on",
        },
    )


def test_resends_are_limited_per_address_with_a_message_next_to_the_button(acme, globex):
    invitation = invite(acme)
    admin = acme.client(user=acme.admin)
    for _resend in range(3):
        assert resend(admin, invitation).status_code == 302
    refused = resend(admin, invitation)
    page = refused.content.decode()
    assert refused.status_code == 429 and TOO_MANY in page
    assert 'aria-describedby="resend-error"' in page and ">Resend</button>" in page
    assert invitation_emails_to(acme, invitation.email) == 1 + 3
    # Counted per tenant: the same address invited elsewhere is not limited.
    other = invite(globex, invitation.email)
    assert resend(globex.client(user=globex.admin), other).status_code == 302


def test_resends_are_limited_per_admin_and_per_ip_address(acme, settings):
    settings.GUEST_RATE_LIMITS = {
        **settings.GUEST_RATE_LIMITS,
        "invitation_resend": "100/h/key,2/h/user,3/h/ip",
    }
    admin = acme.client(user=acme.admin, REMOTE_ADDR="198.51.100.10")
    for _resend in range(2):
        assert resend(admin, invite(acme)).status_code == 302
    # The same admin from another network: still their own share.
    elsewhere = acme.client(user=acme.admin, REMOTE_ADDR="198.51.100.11")
    assert resend(elsewhere, invite(acme)).status_code == 429
    # Another admin from the first network: that network's share is nearly used.
    with tenant_context(acme.tenant):
        inviter = get_user_model().objects.create_user(
            email=unique_email("inviter", "acme.test"), admin_roles=[AdminRole.GUEST_INVITER]
        )
    colleague = acme.client(user=inviter, REMOTE_ADDR="198.51.100.10")
    assert resend(colleague, invite(acme)).status_code == 302
    assert resend(colleague, invite(acme)).status_code == 429


def revoke_pending(world, email):
    """The admin revokes the pending invitation: the address may be invited again."""
    with tenant_context(world.tenant):
        pending = Invitation.objects.get(email__iexact=email, status=Invitation.Status.PENDING)
        services.invitation_revoke(invitation=pending, actor=world.admin)


def test_console_invitations_are_limited_per_address(acme):
    email = unique_email()
    admin = acme.client(user=acme.admin)
    for _invite in range(3):
        assert console_invite(admin, email).status_code == 302
        revoke_pending(acme, email)
    refused = console_invite(admin, email)
    assert refused.status_code == 429 and TOO_MANY in refused.content.decode()
    assert invitation_emails_to(acme, email) == 3


def bulk_upload(world, client, emails: list[str]) -> str:
    """Upload a CSV of `emails` from the console, let the worker do its work, and return the
    upload's page (its report lists the rows rejected, the worker's included)."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from guests.models import BulkInvitation

    text = "".join(f"{email},Partner,https://app.acme.example/,Hello\n" for email in emails)
    upload = SimpleUploadedFile("partners.csv", text.encode(), content_type="text/csv")
    response = client.post("/console/guests/bulk/", {"file": upload})
    assert response.status_code == 302, response.content[:500]
    with tenant_context(world.tenant):
        bulk = BulkInvitation.objects.get(public_id=response["Location"].rstrip("/").split("/")[-1])
        while services.bulk_invitation_process_chunk(bulk_id=bulk.pk):  # what the worker does
            pass
    return client.get(response["Location"]).content.decode()


def test_bulk_uploads_are_limited_per_address_on_the_counts_of_one_by_one_invitations(acme):
    """Revoking and uploading again would otherwise mail an address as often as an admin
    likes. An address invited twice one by one gets one more invitation from an upload; the
    next upload's report says why it got none, while a fresh address of the same file is
    mailed."""
    bombed, fresh = unique_email(), unique_email()
    admin = acme.client(user=acme.admin)
    for _invite in range(2):
        assert console_invite(admin, bombed).status_code == 302
        revoke_pending(acme, bombed)
    page = bulk_upload(acme, admin, [bombed.upper(), fresh])
    assert "2 rows: 2 valid, 0 rejected." in page and "too many invitations" not in page
    revoke_pending(acme, bombed)
    revoke_pending(acme, fresh)
    page = bulk_upload(acme, admin, [bombed, fresh])
    assert f"<td>1</td><td>{bombed}</td><td>too many invitations to this address recently</td>" in (
        page
    )
    assert "<td>2</td>" not in page
    assert invitation_emails_to(acme, bombed) == 3
    assert invitation_emails_to(acme, fresh) == 2
    # Nor does the next one-by-one invitation get through.
    refused = console_invite(admin, bombed)
    assert refused.status_code == 429 and TOO_MANY in refused.content.decode()


def test_member_invitations_from_the_hosted_pages_are_limited_per_address_and_ip(acme, settings):
    settings.GUEST_RATE_LIMITS = {
        **settings.GUEST_RATE_LIMITS,
        "hosted_invitation": "2/h/key,3/h/ip",
    }
    with tenant_context(acme.tenant):
        services.guest_settings_update(actor=acme.admin, invite_policy="members")
    member = acme.client(user=acme.member, REMOTE_ADDR="198.51.100.20")
    email = unique_email()
    data = {"email": email, "redirect_url": f"http://{acme.host}/account/"}
    for _invite in range(2):
        assert "Invitation sent" in member.post("/invite/new/", data).content.decode()
        revoke_pending(acme, email)
    refused = member.post("/invite/new/", data)
    assert refused.status_code == 429 and TOO_MANY in refused.content.decode()
    assert invitation_emails_to(acme, email) == 2

    other = {**data, "email": unique_email()}
    assert member.post("/invite/new/", other).status_code == 200  # the network's third
    assert member.post("/invite/new/", {**data, "email": unique_email()}).status_code == 429


def test_api_invitations_with_an_email_are_limited_per_address(acme):
    with tenant_context(acme.tenant):
        _key, secret = services.api_key_create(actor=acme.admin, name="Partner portal")
    email = unique_email()
    body = {
        "invitedUserEmailAddress": email,
        "inviteRedirectUrl": "https://app.acme.example/welcome",
        "sendInvitationMessage": True,
        "resetRedemption": True,
    }

    def post():
        return acme.client().post(
            "/api/v1/invitations",
            data=json.dumps(body),
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {secret}",
        )

    for _invite in range(3):
        assert post().status_code == 201
    refused = post()
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "tooManyRequests"
    assert invitation_emails_to(acme, email) == 3


def test_redemption_codes_are_limited_per_ip_address(acme, settings):
    settings.GUEST_RATE_LIMITS = {
        **settings.GUEST_RATE_LIMITS,
        "redemption_code": "5/30m/key,2/h/ip",
    }
    tokens, emails = [], []
    for _invitation in range(3):
        invitation = invite(acme)
        tokens.append(invitation.redeem_url.rstrip("/").rsplit("/", 1)[1])
        emails.append(invitation.email)
    sender = "198.51.100.30"
    for token in tokens[:2]:
        response = acme.client(REMOTE_ADDR=sender).post(f"/invite/{token}/code/")
        assert response["Location"] == "/invite/code/verify/"
    refused = acme.client(REMOTE_ADDR=sender).post(f"/invite/{tokens[2]}/code/")
    page = refused.content.decode()
    assert refused.status_code == 429 and TOO_MANY_CODES in page
    assert 'aria-describedby="send-code-error"' in page
    with tenant_context(acme.tenant):
        # (Other tests' committed rows may share the tenant: count this test's addresses.)
        sent = OutboxEmail.objects.filter(kind="redemption_code", to__in=emails)
        assert sent.count() == 2
    # The invitee from their own network gets the code.
    response = acme.client(REMOTE_ADDR="198.51.100.31").post(f"/invite/{tokens[2]}/code/")
    assert response["Location"] == "/invite/code/verify/"
