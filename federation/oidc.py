"""allauth's OpenID Connect callback, with the ID token checks the specification requires
done every time (OpenID Connect Core 3.1.3.7).

allauth skips the ID token's signature when it came from the token endpoint, which the
specification allows only over TLS (federation.http lets loopback IdPs use http in
development), and would take any algorithm the token's header names. Here the signature is
always checked, with an asymmetric algorithm the IdP's JWKS key supports; `iss`, `aud` and
`exp` are checked as allauth does (PyJWT)."""

from __future__ import annotations

import jwt
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter

ASYMMETRIC_ALGORITHMS = {
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
}  # fmt: skip


class CheckedOpenIDConnectAdapter(OpenIDConnectOAuth2Adapter):
    def _decode_id_token(self, app, id_token: str) -> dict:
        try:
            algorithm = jwt.get_unverified_header(id_token).get("alg")
        except jwt.PyJWTError as error:
            raise OAuth2Error("Invalid id_token") from error
        if algorithm not in ASYMMETRIC_ALGORITHMS:
            raise OAuth2Error(f"Invalid id_token: algorithm {algorithm!r} is not accepted")
        claims = jwtkit.verify_and_decode(
            credential=id_token,
            keys_url=self.openid_config["jwks_uri"],
            issuer=self.openid_config["issuer"],
            audience=app.client_id,
            lookup_kid=jwtkit.lookup_kid_jwk,
            verify_signature=True,
        )
        audiences = claims.get("aud")
        if (
            isinstance(audiences, list)
            and len(audiences) > 1
            and claims.get("azp") != app.client_id
        ):
            # Several audiences: the token must say it was issued to us (Core 3.1.3.7, 4-5).
            raise OAuth2Error("Invalid id_token: azp is not this client")
        return claims


def callback(request, provider_id):
    return OAuth2CallbackView.adapter_view(CheckedOpenIDConnectAdapter(request, provider_id))(
        request
    )
