from __future__ import annotations

from oauthlib.openid import Server

from oidc.tokens import access_token_lifetime


class TenantServer(Server):
    """oauthlib's OpenID Connect server with only what we use: response type `code`, the
    authorization code grant (client credentials and refresh run on oidc.grants), Bearer
    access tokens (an ID token is never accepted as one), each app's token lifetime."""

    def __init__(self, request_validator, **kwargs):
        kwargs["token_expires_in"] = access_token_lifetime
        super().__init__(request_validator, **kwargs)
        self._response_types = {"code": self._response_types["code"]}
        self._grant_types = {
            name: grant for name, grant in self._grant_types.items() if name == "authorization_code"
        }
        self._tokens = {"Bearer": self._tokens["Bearer"]}
