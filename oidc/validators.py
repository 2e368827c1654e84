"""django-oauth-toolkit's validator made per tenant, for the endpoints that stay on the
library (authorize, revoke, userinfo, RP-initiated logout): issuer, cached
clients with keyed-hash secrets, only response type `code`. Tokens are issued by oidc.grants."""

from __future__ import annotations

from oauth2_provider.oauth2_validators import OAuth2Validator

from ciam.http import basic_credentials
from oidc import tokens
from oidc.clients import client_get, client_secret_matches
from oidc.models import Application


class TenantOAuth2Validator(OAuth2Validator):
    def _client_credentials(self, request) -> tuple[str, str] | None:
        try:
            credentials = basic_credentials(request.headers.get("HTTP_AUTHORIZATION", ""))
        except ValueError:
            return None
        if credentials is not None:
            return credentials
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

    def get_oidc_issuer_endpoint(self, request):
        return tokens.issuer()

    def get_oidc_claims(self, token, token_handler, request):
        roles = tokens.user_roles(request.client, request.user)
        return tokens.user_claims(request.client, request.user, request.scopes or [], roles)

    def validate_jwt_bearer_token(self, token, scopes, request):
        return False  # ID tokens are not access tokens

    # prompt=none: the view answers login_required for anonymous visitors and
    # consent_required for third-party apps without consent, before oauthlib asks these.
    def validate_silent_login(self, request):
        return True

    def validate_silent_authorization(self, request):
        return True

    def validate_response_type(self, client_id, response_type, client, request, *args, **kwargs):
        return response_type == "code" and client.allows_grant_type(
            Application.GRANT_AUTHORIZATION_CODE
        )
