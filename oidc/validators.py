"""django-oauth-toolkit's validator made per tenant: issuer, signing keys, keyed-hash client
secrets, code reuse detection, absolute refresh lifetime and the sign-in log."""

from __future__ import annotations

import base64
import binascii
import contextvars
import hashlib
from datetime import timedelta
from urllib.parse import unquote_plus

from django.utils import timezone
from jwcrypto import jws
from jwcrypto.common import JWException
from oauth2_provider.models import AccessToken, Grant, RefreshToken
from oauth2_provider.oauth2_validators import OAuth2Validator

from oidc import keys, tokens
from oidc.clients import client_get, client_secret_matches
from oidc.models import Application, RedeemedCode

# The Django request being answered, for the sign-in log rows written during token issue.
current_http_request: contextvars.ContextVar = contextvars.ContextVar(
    "oidc_current_http_request", default=None
)
REDEEMED_CODE_KEEP = timedelta(hours=1)


def checksum(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


class TenantOAuth2Validator(OAuth2Validator):
    oidc_claim_scope = {**OAuth2Validator.oidc_claim_scope, "tid": "openid", "roles": "openid"}

    # Client authentication ------------------------------------------------------------

    def _client_credentials(self, request) -> tuple[str, str] | None:
        auth = request.headers.get("HTTP_AUTHORIZATION", "")
        if auth.startswith("Basic "):
            try:
                decoded = base64.b64decode(auth[6:], validate=True).decode("utf-8")
                client_id, secret = decoded.split(":", 1)
            except (binascii.Error, UnicodeDecodeError, ValueError):
                return None
            return unquote_plus(client_id), unquote_plus(secret)
        client_id = getattr(request, "client_id", None)
        secret = getattr(request, "client_secret", None)
        if client_id and secret:
            return client_id, secret
        return None

    def authenticate_client(self, request, *args, **kwargs):
        credentials = self._client_credentials(request)
        if credentials is None:
            return False
        client_id, secret = credentials
        application = self._load_application(client_id, request)
        if application is None or not application.is_confidential:
            return False
        request.client_id = client_id
        return client_secret_matches(application, secret)

    def _load_application(self, client_id, request):
        if request.client is not None and getattr(request.client, "client_id", None) == client_id:
            return request.client
        request.client = client_get(client_id) if isinstance(client_id, str) else None
        return request.client

    # Issuer, keys and ID tokens --------------------------------------------------------

    def get_oidc_issuer_endpoint(self, request):
        return tokens.issuer()

    def get_oidc_claims(self, token, token_handler, request):
        roles = getattr(request, "user_roles", None)
        if roles is None:
            roles = request.user_roles = tokens.user_roles(request.client, request.user)
        return tokens.user_claims(request.client, request.user, request.scopes or [], roles)

    def get_discovery_claims(self, request):
        return ["sub", "tid", "email", "email_verified", "name", "given_name", "family_name"]

    def get_id_token_dictionary(self, token, token_handler, request):
        claims, _expiration = super().get_id_token_dictionary(token, token_handler, request)
        expiration = timezone.now() + timedelta(seconds=request.client.id_token_lifetime)
        claims["exp"] = int(expiration.timestamp())
        return claims, expiration

    def finalize_id_token(self, id_token, token, token_handler, request):
        claims, expiration = self.get_id_token_dictionary(token, token_handler, request)
        id_token.update(**claims)
        if "nonce" not in id_token and request.nonce:
            id_token["nonce"] = request.nonce
        # No IDToken row: an ID token is checked by its signature wherever it comes back
        # (logout's id_token_hint), so storing each one would only cost an insert.
        return tokens.sign(id_token)

    def _load_id_token(self, token):
        return None

    def _get_key_for_token(self, token):
        """The tenant's published key named by the token's `kid` (ID token hints at logout)."""
        try:
            unverified = jws.JWS()
            unverified.deserialize(token)
            header = unverified.jose_header
        except (JWException, ValueError):
            return None
        if header.get("alg") != "RS256" or not isinstance(header.get("kid"), str):
            return None
        return keys.public_key(header["kid"])

    # Codes: one use; a second redemption revokes what the first one got ----------------

    def validate_code(self, client_id, code, client, request, *args, **kwargs):
        if super().validate_code(client_id, code, client, request, *args, **kwargs):
            # A verifier is required exactly when the code was bound to a challenge; a
            # request that leaves it out (a PKCE downgrade) gets invalid_grant.
            grant = Grant.objects.filter(code=code, application=client).only("code_challenge").get()
            return bool(grant.code_challenge) == bool(getattr(request, "code_verifier", None))
        redeemed = RedeemedCode.objects.filter(
            code_checksum=checksum(code), application=client
        ).first()
        if redeemed is not None:
            RefreshToken.revoke_family(redeemed.token_family)
            AccessToken.objects.filter(token_checksum=redeemed.access_token_checksum).delete()
        return False

    def invalidate_authorization_code(self, client_id, code, request, *args, **kwargs):
        super().invalidate_authorization_code(client_id, code, request, *args, **kwargs)
        RedeemedCode.objects.create(
            code_checksum=checksum(code),
            application=request.client,
            token_family=getattr(request, "issued_token_family", None),
            access_token_checksum=getattr(request, "issued_access_token_checksum", ""),
            expires_at=timezone.now() + REDEEMED_CODE_KEEP,
        )

    def _create_access_token(self, expires, request, token, source_refresh_token=None):
        access_token = super()._create_access_token(expires, request, token, source_refresh_token)
        request.issued_access_token_checksum = access_token.token_checksum
        return access_token

    def _create_refresh_token(
        self, request, refresh_token_code, access_token, previous_refresh_token
    ):
        refresh_token = super()._create_refresh_token(
            request, refresh_token_code, access_token, previous_refresh_token
        )
        request.issued_token_family = refresh_token.token_family
        return refresh_token

    # prompt=none: the view answers login_required for anonymous visitors and
    # consent_required for third-party apps without consent, before oauthlib asks these.
    def validate_jwt_bearer_token(self, token, scopes, request):
        return False  # ID tokens are not access tokens

    def validate_silent_login(self, request):
        return True

    def validate_silent_authorization(self, request):
        return True

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        return response_type == "code" and client.allows_grant_type(
            Application.GRANT_AUTHORIZATION_CODE
        )

    # Sign-in log --------------------------------------------------------------------

    def save_bearer_token(self, token, request, *args, **kwargs):
        result = super().save_bearer_token(token, request, *args, **kwargs)
        from accounts.services import sign_in_record

        user = request.user if request.grant_type != "client_credentials" else None
        sign_in_record(
            request=current_http_request.get(),
            user=user,
            method="token",
            result="success",
            app_id=request.client.client_id,
            app_name=request.client.name,
            grant=request.grant_type,
        )
        return result


def token_request_client_id(request) -> str:
    """The client id a token request names (Basic header or body), for the sign-in log."""
    auth = request.META.get("HTTP_AUTHORIZATION", "")
    if auth.startswith("Basic "):
        try:
            return unquote_plus(base64.b64decode(auth[6:]).decode("utf-8").split(":", 1)[0])
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return ""
    return request.POST.get("client_id", "")
