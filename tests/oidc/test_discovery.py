"""Per-tenant issuer, discovery and JWKS (SECURITY.md 21, 22)."""

from __future__ import annotations

from django_tenants.utils import tenant_context


def test_discovery_names_the_tenant_issuer_with_a_path(acme):
    response = acme.client().get("/o/.well-known/openid-configuration")
    assert response.status_code == 200
    data = response.json()
    assert data["issuer"] == f"http://{acme.host}/o"
    assert data["authorization_endpoint"] == f"http://{acme.host}/o/authorize/"
    assert data["jwks_uri"] == f"http://{acme.host}/o/.well-known/jwks.json"


def test_discovery_advertises_only_what_works(acme):
    data = acme.client().get("/o/.well-known/openid-configuration").json()
    assert data["response_types_supported"] == ["code"]
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert data["id_token_signing_alg_values_supported"] == ["RS256", "ES256"]
    assert set(data["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
    }


def test_each_tenant_has_its_own_issuer_and_keys(acme, globex):
    acme_data = acme.client().get("/o/.well-known/openid-configuration").json()
    globex_data = globex.client().get("/o/.well-known/openid-configuration").json()
    assert acme_data["issuer"] != globex_data["issuer"]
    acme_kids = {k["kid"] for k in acme.client().get("/o/.well-known/jwks.json").json()["keys"]}
    globex_kids = {k["kid"] for k in globex.client().get("/o/.well-known/jwks.json").json()["keys"]}
    assert acme_kids and globex_kids and not acme_kids & globex_kids


def test_jwks_publishes_public_rsa_keys_only(acme):
    keys = acme.client().get("/o/.well-known/jwks.json").json()["keys"]
    assert keys
    for key in keys:
        assert key["kty"] == "RSA" and key["alg"] == "RS256" and key["use"] == "sig"
        assert "d" not in key and "p" not in key


def test_new_tenant_gets_a_signing_key_at_provisioning(db):
    from oidc.models import SigningKey
    from tenants.services import tenant_create

    tenant = tenant_create(
        name="Initech", slug="initech-keys", admin_email="admin@initech.test",
        admin_password="a long and unusual passphrase",
    )  # fmt: skip
    with tenant_context(tenant):
        assert SigningKey.objects.count() == 1


def test_private_signing_keys_are_encrypted_at_rest(acme):
    from oidc.models import SigningKey

    with tenant_context(acme.tenant):
        stored = SigningKey.objects.values_list("private_pem", flat=True).first()
    assert "PRIVATE KEY" not in stored
    assert acme.client().get("/o/.well-known/jwks.json").json()["keys"]
