"""Console: App registrations and signing keys, with role checks and tenant isolation."""

from __future__ import annotations

import re

from django_tenants.utils import tenant_context

from tests.oidc.helpers import APP_FORM, Flow, register_app


def test_admin_registers_an_app_and_sees_the_secret_once(acme):
    from oidc.models import Application

    client = acme.client(user=acme.admin)
    response = client.post("/console/apps/new/", APP_FORM)
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
    page = acme.client(user=acme.admin).get("/console/apps/new/?type=daemon").content.decode()
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
        {**APP_FORM, "redirect_uris": "https://*.portal.example/cb\nhttp://portal.example/cb"},
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
    response = client.post(url + "edit/", {**APP_FORM, "name": "New name", "app_type": "daemon"})
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


def test_registration_asks_each_type_only_for_what_it_needs(acme):
    from oidc.models import Application

    client = acme.client(user=acme.admin)
    web = client.get("/console/apps/new/").content.decode()
    for field in ("id_name", "id_redirect_uris", "id_id_token_hours", "id_refresh_token_days"):
        assert f'id="{field}"' in web
    assert 'name="api_permissions"' not in web and ">Register</button>" in web
    assert '<a href="?type=daemon">' in web  # the type is chosen by a link: no script needed
    daemon = client.get("/console/apps/new/?type=daemon").content.decode()
    assert 'name="app_type" value="daemon"' in daemon
    for absent in ("id_redirect_uris", "id_id_token_hours", "id_refresh_token_days", "id_home_url"):
        assert f'id="{absent}"' not in daemon
    assert 'name="api_permissions"' in daemon and 'id="id_access_token_hours"' in daemon

    response = client.post(
        "/console/apps/new/",
        {"app_type": "spa", "name": "Shop SPA", "redirect_uris": "https://shop.example/",
         "access_token_hours": "1", "id_token_hours": "1", "refresh_token_days": "1"},
    )  # fmt: skip
    assert response.status_code == 303
    page = client.get(response["Location"]).content.decode()
    assert "Client secrets" not in page and 'id="new-secret"' not in page
    with tenant_context(acme.tenant):
        spa = Application.objects.get(name="Shop SPA")
        assert spa.app_type == "spa" and not spa.secrets.exists()


def test_lifetimes_are_entered_in_hours_and_days(acme):
    from oidc.models import Application

    client = acme.client(user=acme.admin)
    form = {
        **APP_FORM,
        "access_token_hours": "0.5",
        "id_token_hours": "2",
        "refresh_token_days": "30",
    }
    response = client.post("/console/apps/new/", form)
    with tenant_context(acme.tenant):
        application = Application.objects.get(name="Contoso portal")
    assert application.access_token_lifetime == 1800
    assert application.id_token_lifetime == 7200
    assert application.refresh_token_lifetime == 30 * 86400
    page = client.get(response["Location"]).content.decode()
    assert "access 0.5 h, ID 2 h, refresh (absolute) 30 days" in page
    edit = client.get(f"/console/apps/{application.public_id}/edit/").content.decode()
    assert 'name="access_token_hours" value="0.5"' in edit
    too_long = client.post("/console/apps/new/", {**form, "name": "Other", "id_token_hours": "25"})
    assert (
        too_long.status_code == 200 and 'id="id_id_token_hours_error"' in too_long.content.decode()
    )


def test_copy_buttons_come_from_a_static_script_and_the_values_stay_text(acme):
    web = register_app(acme, name="Copy app")
    response = acme.client(user=acme.admin).get(f"/console/apps/{web.application.public_id}/")
    page = response.content.decode()
    assert f'<code id="client-id">{web.client_id}</code>' in page
    assert re.search(r'<button type="button"[^>]*data-copy="client-id"[^>]*hidden>', page)
    assert re.search(r'<button type="button"[^>]*data-copy="snippet-msal-python"[^>]*hidden>', page)
    script = re.search(r'<script src="/static/js/copy.js" nonce="([^"]+)" defer></script>', page)
    assert script and f"'nonce-{script.group(1)}'" in response["Content-Security-Policy"]
    assert "<script>" not in page and " onclick=" not in page
    # The quickstart says MSAL wants https; this test directory's issuer is http.
    assert "MSAL accepts only an https authority." in page
    assert "This directory's issuer is http" in page
