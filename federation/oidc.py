"""allauth's OpenID Connect callback, with the ID token checks the specification requires
done every time (OpenID Connect Core 3.1.3.7).

allauth skips the ID token's signature when it came from the token endpoint, which the
specification allows only over TLS (federation.http lets loopback IdPs use http in
development), and would take any algorithm the token's header names. Here the signature is
always checked, with an asymmetric algorithm the IdP's JWKS key supports; `iss`, `aud` and
`exp` are checked as allauth does (PyJWT).

Each process keeps an IdP's keys (its JWKS, parsed) for FEDERATION_METADATA_SECONDS, as it
keeps the discovery document (federation.http): a token whose `kid` the kept keys do not
name makes the process fetch them again at once, so a key the IdP just rotated in is
accepted at its first use, and a key it withdrew is refused once the kept copy expires."""

from __future__ import annotations

import threading
import time

import jwt
from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.internal import jwtkit
from allauth.socialaccount.providers.oauth2.client import OAuth2Error
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView
from allauth.socialaccount.providers.openid_connect.views import OpenIDConnectOAuth2Adapter
from django.conf import settings

from federation.http import host_override

ASYMMETRIC_ALGORITHMS = {
    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA",
}  # fmt: skip

# Per JWKS URL and the loopback stand-in it goes to (tests point fixed hosts elsewhere):
# (kept until, {kid: public key}).
_keys: dict[tuple[str, str | None], tuple[float, dict]] = {}
_keys_lock = threading.Lock()


def _fetch_keys(jwks_uri: str) -> dict:
    """The IdP's public keys by `kid` (keys without one, or that PyJWT cannot read, left out)."""
    with get_adapter().get_requests_session() as session:
        response = session.get(jwks_uri)
        response.raise_for_status()
        document = response.json()
    keys = {}
    found = document.get("keys") if isinstance(document, dict) else None
    for jwk in found if isinstance(found, list) else []:
        if not isinstance(jwk, dict) or not isinstance(jwk.get("kid"), str):
            continue
        try:
            keys[jwk["kid"]] = jwt.PyJWK(jwk).key
        except (jwt.PyJWTError, ValueError, TypeError):
            continue
    return keys


def signing_key(jwks_uri: str, kid: str):
    """The IdP's public key `kid`: kept, or fetched when the kept keys are old or do not
    name it."""
    cache_key = (jwks_uri, host_override(jwks_uri))
    now = time.monotonic()
    kept = _keys.get(cache_key)
    if kept and kept[0] > now and kid in kept[1]:
        return kept[1][kid]
    keys = _fetch_keys(jwks_uri)
    with _keys_lock:
        if len(_keys) >= 1000:  # many IdPs: start again rather than grow
            _keys.clear()
        _keys[cache_key] = (now + settings.FEDERATION_METADATA_SECONDS, keys)
    if kid not in keys:
        raise OAuth2Error(f"Invalid id_token: no key {kid!r} in the provider's JWKS")
    return keys[kid]


class CheckedOpenIDConnectAdapter(OpenIDConnectOAuth2Adapter):
    def _decode_id_token(self, app, id_token: str) -> dict:
        try:
            header = jwt.get_unverified_header(id_token)
        except jwt.PyJWTError as error:
            raise OAuth2Error("Invalid id_token") from error
        algorithm, kid = header.get("alg"), header.get("kid")
        if algorithm not in ASYMMETRIC_ALGORITHMS:
            raise OAuth2Error(f"Invalid id_token: algorithm {algorithm!r} is not accepted")
        if not isinstance(kid, str):
            raise OAuth2Error("Invalid id_token: no key id")
        key = signing_key(self.openid_config["jwks_uri"], kid)
        try:
            claims = jwt.decode(
                id_token,
                key=key,
                algorithms=[algorithm],
                issuer=self.openid_config["issuer"],
                audience=app.client_id,
                options={
                    "verify_signature": True,
                    "verify_iss": True,
                    "verify_aud": True,
                    "verify_exp": True,
                },
            )
            jwtkit.verify_jti(claims)  # a token seen before is refused (allauth's)
        except (jwt.PyJWTError, TypeError) as error:  # TypeError: a key of another type
            raise OAuth2Error("Invalid id_token") from error
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
