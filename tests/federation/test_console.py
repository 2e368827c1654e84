"""Console > Identity providers: who may use it, what it stores and shows, the audit trail."""

from __future__ import annotations

import pytest
from django_tenants.utils import tenant_context

from audit.models import AuditEvent
from federation.models import IdentityProvider
from federation.services import client_secret_of
from tests.federation.helpers import SECRET, create_provider
from tests.helpers import make_user

LIST = "/console/identity-providers/"


def _oidc_form(**changes) -> dict:
    form = {
        "name": "Contoso",
        "discovery_url": "https://login.contoso.example/",
        "client_id": "contoso-client",
        "client_secret": SECRET,
        "scopes": "",
        "claim_email": "email",
        "claim_given_name": "given_name",
        "claim_family_name": "family_name",
        "enabled": "on",
    }
    form.update(changes)
    return form


def _security_admin(world):
    return make_user(world, admin_roles=["security_administrator"])


def test_security_admin_adds_an_oidc_provider_and_sees_the_redirect_uri_never_the_secret(acme):
    client = acme.client(_security_admin(acme))

    response = client.post(f"{LIST}new/openid_connect/", _oidc_form())

    assert response.status_code == 303
    with tenant_context(acme.tenant):
        provider = IdentityProvider.objects.get(name="Contoso")
        assert provider.discovery_url == (
            "https://login.contoso.example/.well-known/openid-configuration"
        )
        assert SECRET not in provider.client_secret_sealed
        assert client_secret_of(provider) == SECRET
        assert provider.scopes == "openid profile email"
        assert provider.trust_verified_email is False
        event = AuditEvent.objects.get(action="identity_provider.create")
    assert SECRET not in str(event.after) and event.after["client_id"] == "contoso-client"
    detail = client.get(response["Location"])
    assert detail.status_code == 200
    page = detail.content.decode()
    assert f"/accounts/oidc/{provider.slug}/login/callback/" in page
    assert SECRET not in page
    listing = client.get(LIST).content.decode()
    assert "Contoso" in listing and SECRET not in listing
    edit = client.get(f"{LIST}{provider.public_id}/edit/").content.decode()
    assert SECRET not in edit


def test_editing_without_a_secret_keeps_it_and_a_new_one_replaces_it(acme):
    provider = create_provider(acme, name="Keep")
    client = acme.client(_security_admin(acme))
    url = f"{LIST}{provider.public_id}/edit/"

    form = _oidc_form(name="Kept", client_secret="", discovery_url=provider.discovery_url)
    assert client.post(url, form).status_code == 303
    with tenant_context(acme.tenant):
        provider.refresh_from_db()
        assert provider.name == "Kept" and client_secret_of(provider) == SECRET

    form = _oidc_form(
        name="Kept", client_secret="a-new-secret", discovery_url=provider.discovery_url
    )
    assert client.post(url, form).status_code == 303
    with tenant_context(acme.tenant):
        provider.refresh_from_db()
        assert client_secret_of(provider) == "a-new-secret"
        event = AuditEvent.objects.filter(action="identity_provider.update").first()
    assert event.after == {"client_secret": "replaced"}
    assert "a-new-secret" not in str(event.before) + str(event.after)


def test_discovery_over_http_on_a_public_host_is_refused(acme):
    client = acme.client(_security_admin(acme))

    response = client.post(
        f"{LIST}new/openid_connect/", _oidc_form(discovery_url="http://idp.example/")
    )

    assert response.status_code == 400
    assert "Use an https URL." in response.content.decode()


def test_microsoft_asks_for_an_entra_tenant_and_github_for_no_discovery(acme):
    client = acme.client(_security_admin(acme))

    page = client.get(f"{LIST}new/microsoft/").content.decode()
    assert "Entra tenant id" in page and "Discovery URL" not in page
    response = client.post(
        f"{LIST}new/microsoft/",
        {"name": "Microsoft", "entra_tenant": "contoso.onmicrosoft.com", "client_id": "m",
         "client_secret": "s", "enabled": "on"},
    )  # fmt: skip
    assert response.status_code == 303
    assert "Discovery URL" not in client.get(f"{LIST}new/github/").content.decode()
    with tenant_context(acme.tenant):
        microsoft = IdentityProvider.objects.get(kind="microsoft")
    assert microsoft.issuer == "https://login.microsoftonline.com/contoso.onmicrosoft.com/v2.0"
    detail = client.get(f"{LIST}{microsoft.public_id}/").content.decode()
    assert "/accounts/microsoft/login/callback/" in detail


def test_test_connection_says_in_plain_words_what_is_wrong(acme):
    from tests.server import free_port

    provider = create_provider(acme, discovery_url=f"http://127.0.0.1:{free_port()}/")
    client = acme.client(_security_admin(acme))

    response = client.post(f"{LIST}{provider.public_id}/test/")

    assert response.status_code == 200
    page = response.content.decode()
    assert "Connection test failed" in page
    assert "Could not connect to 127.0.0.1" in page


def test_disabling_keeps_the_provider_and_removes_its_button(acme):
    provider = create_provider(acme, name="Button IdP")
    client = acme.client(_security_admin(acme))
    assert "Sign in with Button IdP" in acme.client().get("/accounts/login/").content.decode()

    response = client.post(f"{LIST}{provider.public_id}/enabled/", {})

    assert response.status_code == 303
    assert "Button IdP" not in acme.client().get("/accounts/login/").content.decode()
    login = acme.client().post(f"/accounts/oidc/{provider.slug}/login/")
    assert login.status_code == 404
    with tenant_context(acme.tenant):
        assert AuditEvent.objects.filter(
            action="identity_provider.update", after={"enabled": False}
        ).exists()


def test_deleting_asks_first_and_is_audited(acme):
    provider = create_provider(acme, name="Doomed")
    client = acme.client(_security_admin(acme))
    url = f"{LIST}{provider.public_id}/delete/"

    assert client.get(url).status_code == 200
    assert client.post(url).status_code == 303

    with tenant_context(acme.tenant):
        assert not IdentityProvider.objects.filter(pk=provider.pk).exists()
        event = AuditEvent.objects.get(action="identity_provider.delete")
    assert event.before["name"] == "Doomed" and SECRET not in str(event.before)


@pytest.mark.parametrize("roles", [[], ["user_administrator"], ["reports_reader"]])
def test_only_security_and_global_administrators_may_open_the_pages(acme, roles):
    provider = create_provider(acme)
    client = acme.client(make_user(acme, admin_roles=roles))

    for url in (LIST, f"{LIST}new/openid_connect/", f"{LIST}{provider.public_id}/"):
        assert client.get(url).status_code == 403
    assert client.post(f"{LIST}{provider.public_id}/delete/").status_code == 403
    assert acme.client(acme.admin).get(LIST).status_code == 200


def test_another_tenants_admin_sees_nothing_of_this_tenants_providers(acme, globex):
    provider = create_provider(acme, name="Acme only")
    client = globex.client(globex.admin)

    assert "Acme only" not in client.get(LIST).content.decode()
    assert client.get(f"{LIST}{provider.public_id}/").status_code == 404
    assert client.post(f"{LIST}{provider.public_id}/delete/").status_code == 404
    assert "Acme only" not in globex.client().get("/accounts/login/").content.decode()
    # Acme's admin cookie does not open globex's console either.
    cookie = acme.client(acme.admin).cookies
    outsider = globex.client()
    outsider.cookies = cookie
    assert outsider.get(LIST).status_code == 302
