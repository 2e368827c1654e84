from __future__ import annotations

from oauth2_provider.oauth2_backends import OAuthLibCore, _add_iss_to_redirect

from oidc.tokens import issuer


class TenantOAuthLibCore(OAuthLibCore):
    """The RFC 9207 `iss` of an authorization response is the tenant's issuer, equal to the
    one in discovery (the library would derive a single, global one)."""

    def create_authorization_response(self, request, scopes, credentials, allow):
        uri, headers, body, status = super().create_authorization_response(
            request, scopes, credentials, allow
        )
        if uri is not None:
            uri = _add_iss_to_redirect(uri, issuer())
            headers["Location"] = uri
        return uri, headers, body, status
