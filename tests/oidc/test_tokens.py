"""Token validation for APIs (SECURITY.md 22, 25), key rotation, and tenant isolation (31)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import RequestFactory
from django.utils import timezone
from django_tenants.utils import tenant_context
from jwcrypto import jwk, jwt

from tests.oidc.helpers import Flow, jwt_parts, register_app


def b64(data: dict | bytes) -> str:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def api_claims(world, token: str, audience: str | None = None):
    from oidc.selectors import access_token_from_request

    request = RequestFactory().get("/api/", HTTP_AUTHORIZATION=f"Bearer {token}")
    with tenant_context(world.tenant):
        return access_token_from_request(request, audience=audience)


def jwks_of(world) -> jwk.JWKSet:
    return jwk.JWKSet.from_json(world.client().get("/o/.well-known/jwks.json").content)


def verify_id_token(world, token: str, client_id: str) -> dict:
    """What a relying party does: the key named by `kid` in the issuer's JWKS, then claims."""
    header, _claims = jwt_parts(token)
    key = jwks_of(world).get_key(header["kid"])
    if key is None:
        raise ValueError("unknown kid")
    verified = jwt.JWT(
        jwt=token, key=key, algs=["RS256"],
        check_claims={"iss": f"http://{world.host}/o", "aud": client_id, "exp": None},
    )  # fmt: skip
    return json.loads(verified.claims)


@pytest.fixture
def daemon_token(acme):
    daemon = register_app(acme, app_type="daemon", permissions=["User.Invite.All"])
    status, body = Flow(acme).token(daemon, {"grant_type": "client_credentials"})
    assert status == 200
    return body["access_token"]


def test_api_accepts_a_client_credentials_token_of_its_tenant(acme, daemon_token):
    claims = api_claims(acme, daemon_token)
    assert claims["roles"] == ["User.Invite.All"]
    assert claims["tid"] == str(acme.tenant.public_id)


def test_api_refuses_missing_and_malformed_tokens(acme):
    from oidc.selectors import access_token_from_request

    with tenant_context(acme.tenant):
        assert access_token_from_request(RequestFactory().get("/api/")) is None
    assert api_claims(acme, "not-a-jwt") is None
    assert api_claims(acme, "a.b.c") is None


# 25. Forged and misused JWTs.


def test_alg_none_is_refused(acme, daemon_token):
    header, claims = jwt_parts(daemon_token)
    forged = f"{b64({**header, 'alg': 'none'})}.{b64(claims)}."
    assert api_claims(acme, forged) is None


def test_hs256_keyed_with_the_public_key_is_refused(acme, daemon_token):
    header, claims = jwt_parts(daemon_token)
    public = jwks_of(acme).get_key(header["kid"])
    pem = public.export_to_pem()
    token = jwt.JWT(header={"alg": "HS256", "typ": "at+jwt", "kid": header["kid"]}, claims=claims)
    token.make_signed_token(jwk.JWK(kty="oct", k=b64(pem)))
    assert api_claims(acme, token.serialize()) is None


def test_unknown_kid_and_key_carrying_headers_are_refused(acme, daemon_token):
    header, claims = jwt_parts(daemon_token)
    attacker = jwk.JWK.generate(kty="RSA", size=2048)
    for extra in (
        {"kid": "unknown"},
        {"jwk": json.loads(attacker.export_public())},
        {"jku": "https://evil.test/jwks.json"},
        {"x5u": "https://evil.test/cert.pem"},
    ):
        token = jwt.JWT(header={**header, **extra}, claims=claims)
        token.make_signed_token(attacker)
        assert api_claims(acme, token.serialize()) is None
    # Even signed with the tenant's own key, a token naming a key source is refused.
    from oidc import keys

    with tenant_context(acme.tenant):
        real_key = keys.private_key(header["kid"])
    token = jwt.JWT(header={**header, "jku": "https://evil.test/jwks.json"}, claims=claims)
    token.make_signed_token(real_key)
    assert api_claims(acme, token.serialize()) is None
    untouched = jwt.JWT(header=header, claims=claims)
    untouched.make_signed_token(real_key)
    assert api_claims(acme, untouched.serialize()) is not None


def test_expired_and_tampered_tokens_are_refused(acme, daemon_token):
    from oidc import keys

    header, claims = jwt_parts(daemon_token)
    with tenant_context(acme.tenant):
        real_key = keys.private_key(header["kid"])
    expired = jwt.JWT(
        header=header, claims={**claims, "exp": int(timezone.now().timestamp()) - 300}
    )
    expired.make_signed_token(real_key)
    assert api_claims(acme, expired.serialize()) is None
    head, _payload, signature = daemon_token.split(".")
    tampered = f"{head}.{b64({**claims, 'roles': ['Everything.All']})}.{signature}"
    assert api_claims(acme, tampered) is None


def test_id_token_is_not_an_access_token_and_audiences_do_not_mix(acme, acme_web, acme_flow):
    body = acme_flow.sign_in(acme_web)
    assert api_claims(acme, body["access_token"], audience=acme_web.client_id)
    assert api_claims(acme, body["id_token"], audience=acme_web.client_id) is None
    other = register_app(acme, name="Other API")
    assert api_claims(acme, body["access_token"], audience=other.client_id) is None
    assert api_claims(acme, body["access_token"]) is None  # not for the directory API


# 22. ID tokens verify against JWKS; rotation publishes first and retires late.


def test_id_token_verifies_against_the_jwks_kid(acme, acme_web, acme_flow):
    body = acme_flow.sign_in(acme_web)
    claims = verify_id_token(acme, body["id_token"], acme_web.client_id)
    assert claims["nonce"] == "nonce-456"
    assert {"iss", "aud", "exp", "iat", "sub", "auth_time"} <= set(claims)


def test_new_key_is_published_before_it_signs(acme, acme_web, acme_flow):
    from oidc.services import signing_key_rotate

    old_kid = jwt_parts(acme_flow.sign_in(acme_web)["id_token"])[0]["kid"]
    with tenant_context(acme.tenant):
        new_key = signing_key_rotate(actor=acme.admin)
    published = {key["kid"] for key in acme.client().get("/o/.well-known/jwks.json").json()["keys"]}
    assert {old_kid, new_key.kid} <= published
    assert jwt_parts(acme_flow.sign_in(acme_web)["id_token"])[0]["kid"] == old_kid


def test_tokens_signed_before_rotation_validate_until_the_old_key_retires(
    acme, acme_web, acme_flow, daemon_token
):
    from oidc.services import signing_key_rotate, signing_keys_retire_expired

    before = acme_flow.sign_in(acme_web)
    with tenant_context(acme.tenant):
        new_key = signing_key_rotate(actor=acme.admin, publish_ahead=timedelta(0))
    after = acme_flow.sign_in(acme_web)
    assert jwt_parts(after["id_token"])[0]["kid"] == new_key.kid
    assert verify_id_token(acme, before["id_token"], acme_web.client_id)
    assert api_claims(acme, daemon_token)
    with tenant_context(acme.tenant):
        assert signing_keys_retire_expired() == 0  # its tokens may still be alive
        assert signing_keys_retire_expired(now=timezone.now() + timedelta(days=2)) == 1
    with pytest.raises(ValueError):
        verify_id_token(acme, before["id_token"], acme_web.client_id)
    assert api_claims(acme, daemon_token) is None
    assert verify_id_token(acme, after["id_token"], acme_web.client_id)


def test_rotation_command(acme, capsys):
    from oidc.models import SigningKey

    call_command("rotate_signing_keys", tenant=acme.tenant.slug, ahead=0)
    assert "new key" in capsys.readouterr().out
    with tenant_context(acme.tenant):
        assert SigningKey.objects.filter(retire_at__isnull=True).count() == 1
        assert SigningKey.objects.count() == 2


# 31. Tenant A's tokens are useless at tenant B.


def test_tenant_a_tokens_are_refused_everywhere_at_tenant_b(acme, globex, acme_web, acme_flow):
    body = acme_flow.sign_in(acme_web)
    globex_web = register_app(globex, redirect_uri=acme_web.redirect_uri)
    at_b = globex.client()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {body['access_token']}"}
    assert at_b.get("/o/userinfo/", **bearer).status_code == 401
    credentials = {"client_id": globex_web.client_id, "client_secret": globex_web.secret}
    for token in (body["access_token"], body["refresh_token"]):
        introspected = at_b.post("/o/introspect/", {"token": token, **credentials})
        assert introspected.json() == {"active": False}
    refreshed = at_b.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"], **credentials},
    )
    assert refreshed.json()["error"] == "invalid_grant"
    as_acme_client = at_b.post(
        "/o/token/",
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"],
         "client_id": acme_web.client_id, "client_secret": acme_web.secret},
    )  # fmt: skip
    assert as_acme_client.status_code == 401
    assert api_claims(globex, body["access_token"], audience=acme_web.client_id) is None
    # The tokens still work at home.
    assert acme.client().get("/o/userinfo/", **bearer).status_code == 200


def test_tenant_a_client_credentials_token_is_refused_by_b_api(acme, globex, daemon_token):
    assert api_claims(acme, daemon_token)
    assert api_claims(globex, daemon_token) is None


def test_tenant_a_id_token_fails_validation_for_b_apps(acme, globex, acme_web, acme_flow):
    body = acme_flow.sign_in(acme_web)
    globex_web = register_app(globex)
    with pytest.raises(ValueError):
        verify_id_token(globex, body["id_token"], globex_web.client_id)
    assert jwt_parts(body["id_token"])[1]["iss"] != f"http://{globex.host}/o"


def test_tokens_of_a_deleted_app_are_refused(acme, daemon_token):
    from oidc.models import Application
    from oidc.services import application_delete

    client_id = jwt_parts(daemon_token)[1]["client_id"]
    assert api_claims(acme, daemon_token)
    with tenant_context(acme.tenant):
        application_delete(application=Application.objects.get(client_id=client_id),
                           actor=acme.admin)  # fmt: skip
    assert api_claims(acme, daemon_token) is None


def test_rotation_gives_a_tenant_without_keys_one_that_signs_at_once(acme):
    from oidc import keys
    from oidc.models import SigningKey

    with tenant_context(acme.tenant):
        SigningKey.objects.all().delete()
        keys.key_list_forget()
    call_command("rotate_signing_keys", tenant=acme.tenant.slug)
    with tenant_context(acme.tenant):
        assert keys.signing_kid() == SigningKey.objects.get().kid
