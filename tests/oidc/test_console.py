"""Console: App registrations and signing keys, with role checks and tenant isolation."""

from __future__ import annotations

import re

from django_tenants.utils import tenant_context

from tests.oidc.conftest import Flow, register_app

FORM = {
    "name": "Contoso portal",
    "app_type": "web",
    "redirect_uris": "https://portal.example/callback\nhttp://localhost:3000/callback",
    "post_logout_redirect_uris": "https://portal.example/",
    "is_first_party": "on",
    "access_token_lifetime": "3600",
    "id_token_lifetime": "3600",
    "refresh_token_lifetime": "1209600",
}


def test_admin_registers_an_app_and_sees_the_secret_once(acme):
    from oidc.models import Application

    client = acme.client(user=acme.admin)
    response = client.post("/console/apps/new/", FORM)
    with tenant_context(acme.tenant):
        application = Application.objects.get(name="Contoso portal")
    url = f"/console/apps/{application.public_id}/"
    assert response.status_code == 303 and response["Location"] == url
    page = client.get(url)
    assert "no-store" in page["Cache-Control"]
    page = page.content.decode()
    secret = re.search(r'id="new-secret" readonly value="([^"]+)"', page).group(1)
    assert f"http://{acme.host}/o" in page  # quickstart authority
    assert application.client_id in page
    assert "ConfidentialClientApplication" in page
    # Reloading shows the app without the secret and registers nothing more.
    again = client.get(url).content.decode()
    assert secret not in again and 'id="new-secret"' not in again
    with tenant_context(acme.tenant):
        assert Application.objects.filter(name="Contoso portal").count() == 1
        assert application.secrets.count() == 1
    token = Flow(acme).api.post(
        "/o/token/",
        {"grant_type": "client_credentials", "client_id": application.client_id,
         "client_secret": secret},
    )  # fmt: skip
    assert token.json()["error"] == "unauthorized_client"  # a web app, but the secret was right


def test_permission_checkboxes_are_laid_out_as_checkboxes_with_their_labels(acme):
    page = acme.client(user=acme.admin).get("/console/apps/new/").content.decode()
    boxes = re.findall(r'<input type="checkbox" name="api_permissions"[^>]*>', page)
    assert len(boxes) >= 2
    for box in boxes:  # Bootstrap places the box beside its label only with this class
        assert 'class="form-check-input"' in box
        box_id = re.search(r'id="([^"]+)"', box).group(1)
        assert f'<label class="form-check-label" for="{box_id}">' in page


def test_wildcard_and_plain_http_redirects_are_refused_with_field_errors(acme):
    client = acme.client(user=acme.admin)
    response = client.post(
        "/console/apps/new/",
        {**FORM, "redirect_uris": "https://*.portal.example/cb\nhttp://portal.example/cb"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "wildcards are not allowed" in page
    assert "http is allowed only for localhost" in page
    assert "https://*.portal.example/cb" in page  # what the admin typed is kept


def test_app_list_searches_and_filters(acme):
    register_app(acme, name="Alpha web")
    register_app(acme, app_type="daemon", name="Beta daemon")
    client = acme.client(user=acme.admin)
    page = client.get("/console/apps/", {"q": "alpha"}).content.decode()
    assert "Alpha web" in page and "Beta daemon" not in page
    page = client.get("/console/apps/", {"type": "daemon"}, HTTP_HX_REQUEST="true").content
    assert b"Beta daemon" in page and b"Alpha web" not in page and b"<html" not in page


def test_secret_rotation_from_the_console(acme):
    daemon = register_app(acme, app_type="daemon", name="Sync job")
    client = acme.client(user=acme.admin)
    url = f"/console/apps/{daemon.application.public_id}/"
    rotated = client.post(url + "secrets/", {"description": "2027"})
    assert rotated.status_code == 303 and rotated["Location"] == url
    shown = client.get(url).content.decode()
    new_secret = re.search(r'id="new-secret" readonly value="([^"]+)"', shown)
    assert new_secret
    assert new_secret.group(1) not in client.get(url).content.decode()
    with tenant_context(acme.tenant):
        assert daemon.application.secrets.count() == 2  # reloading made no third one
    third = client.post(url + "secrets/", {"description": "too many"})
    assert third.status_code == 400 and b"at most two secrets" in third.content
    flow = Flow(acme)
    grant = {"grant_type": "client_credentials"}
    assert flow.token(daemon, grant, secret=new_secret.group(1))[0] == 200
    with tenant_context(acme.tenant):
        old = daemon.application.secrets.exclude(description="2027").get()
    client.post(url + f"secrets/{old.public_id}/revoke/")
    assert flow.token(daemon, grant)[0] == 401


def test_edit_and_delete_an_app(acme):
    web = register_app(acme, name="Old name")
    client = acme.client(user=acme.admin)
    url = f"/console/apps/{web.application.public_id}/"
    response = client.post(url + "edit/", {**FORM, "name": "New name", "app_type": "daemon"})
    assert response.status_code == 303
    with tenant_context(acme.tenant):
        web.application.refresh_from_db()
        assert web.application.name == "New name"
        assert web.application.app_type == "web"  # the type never changes
    tokens = Flow(acme, user=acme.member)
    web.redirect_uri = "https://portal.example/callback"
    body = tokens.sign_in(web)
    client.post(url + "delete/")
    assert client.get(url).status_code == 404
    userinfo = acme.client().get(
        "/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {body['access_token']}"
    )
    assert userinfo.status_code == 401


def test_app_roles_from_the_console(acme):
    web = register_app(acme, name="Roles app")
    client = acme.client(user=acme.admin)
    url = f"/console/apps/{web.application.public_id}/"
    client.post(url + "roles/", {"value": "Orders.Approve", "display_name": "Approver"})
    with tenant_context(acme.tenant):
        role = web.application.roles.get()
    client.post(url + f"roles/{role.public_id}/assign/", {"email": acme.member.email})
    unknown = client.post(url + f"roles/{role.public_id}/assign/", {"email": "nobody@x.test"})
    assert unknown.status_code == 400 and b"No user with this email" in unknown.content
    page = client.get(url).content.decode()
    assert "Orders.Approve" in page and acme.member.email in page
    client.post(url + f"roles/{role.public_id}/users/{acme.member.public_id}/unassign/")
    with tenant_context(acme.tenant):
        assert not role.users.exists()


def test_members_and_other_admins_cannot_reach_app_registrations(acme):
    assert acme.client(user=acme.member).get("/console/apps/").status_code == 403
    assert acme.client().get("/console/apps/").status_code == 302


def test_apps_of_another_tenant_are_invisible(acme, globex):
    acme_app = register_app(acme, name="Acme secret app")
    client = globex.client(user=globex.admin)
    assert b"Acme secret app" not in client.get("/console/apps/").content
    assert client.get(f"/console/apps/{acme_app.application.public_id}/").status_code == 404
    # The acme admin's session means nothing on globex's host.
    cross = acme.client(user=acme.admin)
    cross.defaults["HTTP_HOST"] = globex.host
    assert cross.get("/console/apps/").status_code == 302


def test_rotation_from_the_console_publishes_the_new_key_before_it_signs(acme):
    client = acme.client(user=acme.admin)
    before = {k["kid"] for k in client.get("/o/.well-known/jwks.json").json()["keys"]}
    assert client.post("/console/apps/signing-keys/rotate/").status_code == 303
    after = {k["kid"] for k in client.get("/o/.well-known/jwks.json").json()["keys"]}
    assert before < after
    page = client.get("/console/apps/signing-keys/").content.decode()
    assert "published" in page and "signing" in page
