from __future__ import annotations

from oauthlib.openid import Server

from oidc.tokens import access_token_lifetime


class TenantServer(Server):
    """oauthlib's OpenID Connect server with each app's own access token lifetime."""

    def __init__(self, request_validator, **kwargs):
        kwargs["token_expires_in"] = access_token_lifetime
        super().__init__(request_validator, **kwargs)
