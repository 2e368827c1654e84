"""ES256 as an app's token signing choice (README "Tokens"): RS256 stays the default, the
JWKS publishes the tenant's keys of both algorithms, and relying parties verify ES256 ID and
access tokens with their own libraries (Authlib, jwcrypto)."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

from authlib.jose import JsonWebKey, JsonWebToken
from django_tenants.utils import tenant_context
from jwcrypto import jwk, jwt

from tests.oidc.helpers import Flow, jwt_parts, register_app


def jwks_document(world) -> dict:
    return world.client().get("/o/.well-known/jwks.json").json()


def authlib_claims(world, token: str, audience: str) -> dict:
    """An independent relying party: Authlib, the issuer's JWKS, ES256 only."""
    keys = JsonWebKey.import_key_set(jwks_document(world))
    claims = JsonWebToken(["ES256"]).decode(
        token,
        keys,
        claims_options={
            "iss": {"essential": True, "value": f"http://{world.host}/o"},
            "aud": {"essential": True, "value": audience},
        },
    )
    claims.validate()
    return dict(claims)


def jwcrypto_claims(world, token: str, audience: str) -> dict:
    header, _claims = jwt_parts(token)
    key = jwk.JWKSet.from_json(json.dumps(jwks_document(world))).get_key(header["kid"])
    verified = jwt.JWT(
        jwt=token, key=key, algs=["ES256"],
        check_claims={"iss": f"http://{world.host}/o", "aud": audience, "exp": None},
    )  # fmt: skip
    return json.loads(verified.claims)


def relabel(token: str, alg: str) -> str:
    """The same token with another `alg` in its header (an algorithm confusion attempt)."""
    header, payload, signature = token.split(".")
    decoded = json.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    decoded["alg"] = alg
    encoded = base64.urlsafe_b64encode(json.dumps(decoded).encode()).rstrip(b"=").decode()
    return f"{encoded}.{payload}.{signature}"


def test_es256_app_gets_id_and_access_tokens_that_verify_with_other_libraries(acme):
    app = register_app(acme, signing="ES256")
    flow = Flow(acme, user=acme.member)
    body = flow.sign_in(app)
    header, _claims = jwt_parts(body["id_token"])
    assert header["alg"] == "ES256"
    claims = authlib_claims(acme, body["id_token"], app.client_id)
    assert claims["nonce"] == "nonce-456"
    assert claims["sub"] == str(acme.member.public_id)
    assert jwt_parts(body["access_token"])[0]["alg"] == "ES256"
    assert jwcrypto_claims(acme, body["access_token"], app.client_id)["scp"]
    # Our own resource endpoints accept it too, and a refresh keeps the algorithm.
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {body['access_token']}"}
    assert acme.client().get("/o/userinfo/", **bearer).status_code == 200
    status, refreshed = flow.token(
        app, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert status == 200, refreshed
    assert authlib_claims(acme, refreshed["id_token"], app.client_id)["sub"] == claims["sub"]


def test_jwks_publishes_both_keys_and_rs256_stays_the_default(acme):
    rs256_app = register_app(acme)
    register_app(acme, signing="ES256", name="Elliptic app")
    published = {(key["kty"], key["alg"]) for key in jwks_document(acme)["keys"]}
    assert {("RSA", "RS256"), ("EC", "ES256")} <= published
    body = Flow(acme, user=acme.member).sign_in(rs256_app)
    assert jwt_parts(body["id_token"])[0]["alg"] == "RS256"
    assert jwt_parts(body["access_token"])[0]["alg"] == "RS256"
    discovery = acme.client().get("/o/.well-known/openid-configuration").json()
    assert set(discovery["id_token_signing_alg_values_supported"]) == {"RS256", "ES256"}


def test_es256_client_credentials_token_is_accepted_by_the_directory_api(acme):
    from tests.oidc.test_tokens import api_claims

    daemon = register_app(acme, app_type="daemon", permissions=["User.Invite.All"],
                          signing="ES256")  # fmt: skip
    status, body = Flow(acme).token(daemon, {"grant_type": "client_credentials"})
    assert status == 200, body
    token = body["access_token"]
    assert jwt_parts(token)[0]["alg"] == "ES256"
    audience = f"http://{acme.host}/o/api"
    assert jwcrypto_claims(acme, token, audience)["roles"] == ["User.Invite.All"]
    assert api_claims(acme, token)["roles"] == ["User.Invite.All"]
    # A token whose header names the other algorithm than its key's is refused.
    assert api_claims(acme, relabel(token, "RS256")) is None


def test_rs256_token_relabelled_es256_is_refused(acme):
    from tests.oidc.test_tokens import api_claims

    register_app(acme, signing="ES256", name="Elliptic app")  # the tenant has both keys
    daemon = register_app(acme, app_type="daemon", permissions=["User.Invite.All"])
    _status, body = Flow(acme).token(daemon, {"grant_type": "client_credentials"})
    assert api_claims(acme, body["access_token"])
    assert api_claims(acme, relabel(body["access_token"], "ES256")) is None
    assert api_claims(acme, relabel(body["access_token"], "none")) is None


def test_rotation_renews_the_es256_key_too(acme):
    from oidc.models import SigningKey
    from oidc.services import signing_key_rotate

    app = register_app(acme, signing="ES256")
    with tenant_context(acme.tenant):
        old = set(SigningKey.objects.filter(algorithm="ES256").values_list("kid", flat=True))
        signing_key_rotate(actor=acme.admin, publish_ahead=timedelta(0))
        current = SigningKey.objects.filter(retire_at__isnull=True)
        assert sorted(current.values_list("algorithm", flat=True)) == ["ES256", "RS256"]
        new_es256 = current.get(algorithm="ES256").kid
    assert new_es256 not in old
    body = Flow(acme, user=acme.member).sign_in(app)
    assert jwt_parts(body["id_token"])[0]["kid"] == new_es256
    assert authlib_claims(acme, body["id_token"], app.client_id)


def test_admin_switches_an_app_to_es256_in_the_console(acme):
    from tests.oidc.helpers import APP_FORM

    app = register_app(acme, redirect_uri="https://portal.example/callback")
    client = acme.client(user=acme.admin)
    url = f"/console/apps/{app.application.public_id}/edit/"
    assert 'name="token_signing_algorithm"' in client.get(url).content.decode()
    response = client.post(url, {**APP_FORM, "token_signing_algorithm": "ES256"})
    assert response.status_code == 303
    body = Flow(acme, user=acme.member).sign_in(app)
    assert authlib_claims(acme, body["id_token"], app.client_id)
    refused = client.post(url, {**APP_FORM, "token_signing_algorithm": "HS256"})
    assert refused.status_code == 200  # the form again, with its message
    assert "HS256 is not one of the available choices" in refused.content.decode()
