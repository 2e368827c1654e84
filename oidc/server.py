from __future__ import annotations

from oauthlib.openid import Server

from oidc.tokens import access_token_lifetime


class TenantServer(Server):
    """oauthlib's OpenID Connect server with only what we offer: response type `code`; the
    authorization code, refresh and client credentials grants; Bearer access tokens (an ID
    token is never accepted as one). Access tokens live as long as each app chose."""

    def __init__(self, request_validator, **kwargs):
        kwargs["token_expires_in"] = access_token_lifetime
        super().__init__(request_validator, **kwargs)
        self._response_types = {"code": self._response_types["code"]}
        self._grant_types = {
            name: grant
            for name, grant in self._grant_types.items()
            if name in ("authorization_code", "refresh_token", "client_credentials")
        }
        self._tokens = {"Bearer": self._tokens["Bearer"]}
