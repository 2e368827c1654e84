from __future__ import annotations

from oauthlib.oauth2.rfc6749 import errors
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

    def validate_userinfo_request(self, request):
        """A valid token first, then its scope: one without `openid` is insufficient_scope
        (403, RFC 6750 3.1), not invalid_token as when the token is checked for `openid`."""
        request.scopes = []
        if not self.bearer.validate_request(request):
            raise errors.InvalidTokenError()
        if "openid" not in request.scopes:
            raise errors.InsufficientScopeError()
