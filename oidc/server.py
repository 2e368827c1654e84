from __future__ import annotations

from oauthlib.openid import Server


class TenantServer(Server):
    """oauthlib's OpenID Connect server with only what we use from it: response type `code`
    at the authorization endpoint and Bearer access tokens (an ID token is never accepted as
    one). Its token endpoint is not used: tokens come from oidc.grants."""

    def __init__(self, request_validator, **kwargs):
        super().__init__(request_validator, **kwargs)
        self._response_types = {"code": self._response_types["code"]}
        self._grant_types = {}
        self._tokens = {"Bearer": self._tokens["Bearer"]}
