"""Invitation redirect URLs: admins who invite choose any URL; members only the tenant's own
places (a registered app's home page or redirect URIs, or My account)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django_tenants.utils import tenant_context

from guests import services
from guests.models import Invitation
from tests.helpers import unique_email
from tests.oidc.helpers import register_app


@pytest.fixture
def members_invite(acme):
    with tenant_context(acme.tenant):
        services.guest_settings_update(actor=acme.admin, invite_policy="members")


def test_a_member_cannot_send_guests_to_a_stranger_site(acme, members_invite):
    member = acme.client(user=acme.member)
    data = {"email": unique_email(), "redirect_url": "https://phishing.example/acme-login"}
    page = member.post("/invite/new/", data)
    assert page.status_code == 200
    assert "of one of this directory&#x27;s apps" in page.content.decode()
    with tenant_context(acme.tenant):
        assert not Invitation.objects.filter(email=data["email"]).exists()


def test_a_member_sends_guests_to_a_registered_app_or_my_account(acme, globex, members_invite):
    app = register_app(acme, redirect_uri="https://portal.acme.example/callback")
    with tenant_context(acme.tenant):
        app.application.home_url = "https://portal.acme.example/start"
        app.application.save(update_fields=["home_url"])
    globex_app = register_app(globex, redirect_uri="https://globex.example/callback")
    member = acme.client(user=acme.member)
    allowed = [
        "https://portal.acme.example/start",
        "https://portal.acme.example/start/projects/7",
        "https://portal.acme.example/callback",
        f"http://{acme.host}/account/",
    ]
    refused = [
        "https://portal.acme.example/startle",  # not under the home page
        "https://portal.acme.example.evil.example/start",
        globex_app.redirect_uri,  # another tenant's app
        f"http://{globex.host}/account/",  # another tenant's My account
        f"http://{acme.host}/console/",
    ]
    for url in allowed + refused:
        email = unique_email()
        member.post("/invite/new/", {"email": email, "redirect_url": url})
        with tenant_context(acme.tenant):
            created = Invitation.objects.filter(email=email).exists()
        assert created == (url in allowed), url


def test_admins_who_invite_choose_any_url(acme):
    with tenant_context(acme.tenant):
        invitation = services.invitation_create(
            invited_by=acme.admin, email=unique_email(), redirect_url="https://anywhere.example/"
        )
        assert invitation.redirect_url == "https://anywhere.example/"


def test_an_api_caller_uses_the_url_rule_of_the_admin_it_acts_for(acme, members_invite):
    with tenant_context(acme.tenant):
        with pytest.raises(ValidationError) as caught:
            services.invitation_create(
                invited_by_label="app x",
                on_behalf_of=acme.member,
                email=unique_email(),
                redirect_url="https://anywhere.example/",
            )
        assert "redirect_url" in caught.value.message_dict
        services.invitation_create(
            invited_by_label="app x",
            on_behalf_of=acme.admin,
            email=unique_email(),
            redirect_url="https://anywhere.example/",
        )
