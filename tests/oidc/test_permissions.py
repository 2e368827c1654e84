"""Application permissions: only admins holding the roles a permission stands for grant it,
and an app never does more than the admin who granted it may (SECURITY items 34, 49)."""

from __future__ import annotations

import json

from django.contrib.auth import get_user_model
from django_tenants.utils import tenant_context

from accounts.roles import AdminRole
from guests import services as guest_services
from tests.helpers import unique_email
from tests.oidc.helpers import Flow, register_app

DAEMON_FORM = {
    "name": "Directory sync",
    "app_type": "daemon",
    "access_token_hours": "1",
    "id_token_hours": "1",
    "refresh_token_days": "14",
}


def make_admin(world, *roles):
    with tenant_context(world.tenant):
        return get_user_model().objects.create_user(
            email=unique_email("admin", f"{world.tenant.slug}.test"), admin_roles=list(roles)
        )


def app_token(world, app) -> str:
    status, body = Flow(world).token(app, {"grant_type": "client_credentials"})
    assert status == 200, body
    return body["access_token"]


def invite(world, token, **fields):
    body = {
        "invitedUserEmailAddress": unique_email(),
        "inviteRedirectUrl": "https://portal.partner.example/",
        **fields,
    }
    return world.client().post(
        "/api/v1/invitations",
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def test_an_application_administrator_cannot_grant_directory_permissions(acme):
    from oidc.models import Application

    app_admin = make_admin(acme, AdminRole.APPLICATION_ADMINISTRATOR)
    client = acme.client(user=app_admin)
    for permission, roles in [
        ("User.Read.All", "User administrator or Global administrator"),
        ("User.Invite.All", "Guest inviter or User administrator or Global administrator"),
    ]:
        response = client.post("/console/apps/new/", {**DAEMON_FORM, "api_permissions": permission})
        assert response.status_code == 200
        assert f"Granting {permission} needs the {roles} role." in response.content.decode()
    with tenant_context(acme.tenant):
        assert not Application.objects.filter(name="Directory sync").exists()

    # Nor by editing an app it registered without permissions.
    plain = register_app(acme, app_type="daemon", name="Plain job")
    page = client.post(
        f"/console/apps/{plain.application.public_id}/edit/",
        {**DAEMON_FORM, "api_permissions": "User.Read.All"},
    )
    assert "Granting User.Read.All needs" in page.content.decode()
    with tenant_context(acme.tenant):
        assert Application.objects.get(pk=plain.application.pk).api_permissions == []


def test_each_role_grants_the_permissions_it_holds_and_each_grant_is_audited(acme):
    from audit.models import AuditEvent
    from oidc.models import Application

    inviter = make_admin(acme, AdminRole.GUEST_INVITER, AdminRole.APPLICATION_ADMINISTRATOR)
    client = acme.client(user=inviter)
    refused = client.post(
        "/console/apps/new/",
        {**DAEMON_FORM, "api_permissions": ["User.Invite.All", "User.Read.All"]},
    )
    assert "Granting User.Read.All needs" in refused.content.decode()
    response = client.post(
        "/console/apps/new/", {**DAEMON_FORM, "api_permissions": "User.Invite.All"}
    )
    assert response.status_code in (201, 303)
    with tenant_context(acme.tenant):
        application = Application.objects.get(name="Directory sync")
        assert application.api_permissions == ["User.Invite.All"]
        grant = AuditEvent.objects.get(
            action="app.permission.grant", target_id=str(application.public_id)
        )
        assert grant.actor_id == inviter.public_id
        assert grant.after == {"permission": "User.Invite.All"}


def test_an_application_administrator_cannot_mint_a_secret_for_an_app_with_permissions(acme):
    daemon = register_app(acme, app_type="daemon", permissions=["User.Read.All"], name="HR")
    app_admin = make_admin(acme, AdminRole.APPLICATION_ADMINISTRATOR)
    client = acme.client(user=app_admin)
    url = f"/console/apps/{daemon.application.public_id}/secrets/"
    response = client.post(url, {"description": "mine"})
    assert response.status_code == 400
    assert "This app holds User.Read.All: a new secret needs the User administrator" in (
        response.content.decode()
    )
    with tenant_context(acme.tenant):
        assert daemon.application.secrets.count() == 1

    # Editing the app's name keeps the permission a Global administrator granted.
    edit = client.post(
        f"/console/apps/{daemon.application.public_id}/edit/",
        {**DAEMON_FORM, "name": "HR renamed", "api_permissions": "User.Read.All"},
    )
    assert edit.status_code in (302, 303)
    reader = app_token(acme, daemon)
    assert (
        acme.client().get("/api/v1/users", HTTP_AUTHORIZATION=f"Bearer {reader}").status_code == 200
    )


def test_a_permission_stops_working_when_its_granter_loses_the_role(acme):
    user_admin = make_admin(acme, AdminRole.USER_ADMINISTRATOR)
    with tenant_context(acme.tenant):
        from oidc.services import application_create

        application, secret = application_create(
            actor=user_admin, name="HR", app_type="daemon", redirect_uris="",
            post_logout_redirect_uris="", is_first_party=True, access_token_lifetime=3600,
            id_token_lifetime=3600, refresh_token_lifetime=86400,
            api_permissions=["User.Read.All"],
        )  # fmt: skip
    from tests.oidc.helpers import RegisteredApp

    token = app_token(acme, RegisteredApp(application, secret, ""))
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert acme.client().get("/api/v1/users", **headers).status_code == 200
    with tenant_context(acme.tenant):
        user_admin.admin_roles = [AdminRole.APPLICATION_ADMINISTRATOR]
        user_admin.save(update_fields=["admin_roles"])
    refused = acme.client().get("/api/v1/users", **headers)
    assert refused.status_code == 403
    assert "not in force" in refused.json()["error"]["message"]


def test_an_app_invites_members_only_on_a_user_administrators_grant(acme):
    inviter = make_admin(acme, AdminRole.GUEST_INVITER)
    with tenant_context(acme.tenant):
        from oidc.services import application_create

        application, secret = application_create(
            actor=inviter, name="CRM", app_type="daemon", redirect_uris="",
            post_logout_redirect_uris="", is_first_party=True, access_token_lifetime=3600,
            id_token_lifetime=3600, refresh_token_lifetime=86400,
            api_permissions=["User.Invite.All"],
        )  # fmt: skip
    from tests.oidc.helpers import RegisteredApp

    token = app_token(acme, RegisteredApp(application, secret, ""))
    assert invite(acme, token).status_code == 201
    member = invite(acme, token, invitedUserType="Member")
    assert member.status_code == 400
    assert member.json()["error"]["field"] == "invitedUserType"
    assert "inviteRedeemUrl" not in member.json()

    granted_by_global = register_app(
        acme, app_type="daemon", permissions=["User.Invite.All"], name="HR"
    )
    response = invite(acme, app_token(acme, granted_by_global), invitedUserType="Member")
    assert response.status_code == 201 and response.json()["invitedUserType"] == "Member"


def test_an_apps_invitations_obey_who_can_invite(acme):
    app = register_app(acme, app_type="daemon", permissions=["User.Invite.All"], name="CRM")
    token = app_token(acme, app)
    with tenant_context(acme.tenant):
        guest_services.guest_settings_update(actor=acme.admin, invite_policy="no_one")
    refused = invite(acme, token)
    assert refused.status_code == 403
    assert "turned off" in refused.json()["error"]["message"]


def test_an_api_key_invites_with_its_creators_authority(acme):
    from guests.models import Invitation

    user_admin = make_admin(acme, AdminRole.USER_ADMINISTRATOR)
    with tenant_context(acme.tenant):
        _key, key = guest_services.api_key_create(actor=user_admin, name="Portal")
    assert invite(acme, key, invitedUserType="Member").status_code == 201
    with tenant_context(acme.tenant):
        user_admin.admin_roles = []
        user_admin.save(update_fields=["admin_roles"])
        before = Invitation.objects.count()
    refused = invite(acme, key)
    assert refused.status_code == 403
    assert "set it up again" in refused.json()["error"]["message"]
    with tenant_context(acme.tenant):
        assert Invitation.objects.count() == before
