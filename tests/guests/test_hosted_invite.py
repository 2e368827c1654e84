"""Members invite from the hosted pages when "who can invite" lets them; link tokens never
reach a log line."""

from __future__ import annotations

import logging

from django_tenants.utils import tenant_context

from guests import services
from guests.models import Invitation
from tests.helpers import unique_email


def test_member_may_invite_only_when_the_setting_allows_members(acme):
    member = acme.client(user=acme.member)
    data = {"email": unique_email(), "redirect_url": f"http://{acme.host}/account/"}
    refused = member.post("/invite/new/", data)
    assert refused.status_code == 403  # default: only admins with the Guest inviter role
    assert "You cannot invite guests" in refused.content.decode()
    with tenant_context(acme.tenant):
        assert not Invitation.objects.filter(email=data["email"]).exists()
        services.guest_settings_update(actor=acme.admin, invite_policy="members")
    page = member.post("/invite/new/", data).content.decode()
    assert "Invitation sent" in page
    with tenant_context(acme.tenant):
        invitation = Invitation.objects.get(email=data["email"])
        assert invitation.invited_by == acme.member
        assert list(invitation.sponsors.all()) == [acme.member]


def test_hosted_invite_page_needs_a_signed_in_user(acme):
    response = acme.client().get("/invite/new/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_link_tokens_never_reach_the_logs(acme, caplog):
    with tenant_context(acme.tenant):
        invitation = services.invitation_create(
            invited_by=acme.admin, email=unique_email(), redirect_url="https://a.example/"
        )
        services.invitation_revoke(invitation=invitation, actor=acme.admin)
    token = invitation.redeem_url.rstrip("/").rsplit("/", 1)[1]
    with caplog.at_level(logging.DEBUG):
        assert acme.client().get(f"/invite/{token}/").status_code == 404
        assert acme.client().post(f"/invite/{token}/code/").status_code == 404
        # Control: any other page not found is logged with its path.
        assert acme.client().get("/no-such-page-here/").status_code == 404
    assert "/no-such-page-here/" in caplog.text
    assert token not in caplog.text
