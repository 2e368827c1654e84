from __future__ import annotations

import re

from oauthlib.oauth2.rfc6749 import errors
from oauthlib.openid import Server

# RFC 7636 4.2: 43 to 128 unreserved characters (S256 gives 43); Grant.code_challenge holds 128.
CODE_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
NONCE_MAX_LENGTH = 255  # Grant.nonce


def stored_parameters_check(request) -> dict:
    """The nonce and code challenge are stored with the code: a value its column cannot hold
    is the client's mistake (invalid_request, sent to its redirect URI), not a server error."""
    if request.nonce is not None and len(request.nonce) > NONCE_MAX_LENGTH:
        raise errors.InvalidRequestError(
            description=f"The nonce is longer than {NONCE_MAX_LENGTH} characters.",
            request=request,
        )
    if request.code_challenge is not None and not CODE_CHALLENGE.match(request.code_challenge):
        raise errors.InvalidRequestError(
            description="The code_challenge is not 43 to 128 characters of A-Z a-z 0-9 - . _ ~.",
            request=request,
        )
    return {}


class TenantServer(Server):
    """oauthlib's OpenID Connect server with only what we use from it: response type `code`
    at the authorization endpoint and Bearer access tokens (an ID token is never accepted as
    one). Its token endpoint is not used: tokens come from oidc.grants."""

    def __init__(self, request_validator, **kwargs):
        super().__init__(request_validator, **kwargs)
        self._response_types = {"code": self._response_types["code"]}
        self._grant_types = {}
        self._tokens = {"Bearer": self._tokens["Bearer"]}
        # Run once the client and redirect URI are known good, so the error goes to the app.
        for grant in (self.auth_grant, self.openid_connect_auth):
            grant.custom_validators.pre_auth.append(stored_parameters_check)

    def validate_userinfo_request(self, request):
        """A valid token first, then its scope: one without `openid` is insufficient_scope
        (403, RFC 6750 3.1), not invalid_token as when the token is checked for `openid`."""
        request.scopes = []
        if not self.bearer.validate_request(request):
            raise errors.InvalidTokenError()
        if "openid" not in request.scopes:
            raise errors.InsufficientScopeError()
