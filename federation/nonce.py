"""The `nonce` of OpenID Connect sign-ins (Core 3.1.2.1, 3.1.3.7 item 11): each authorization
request to a provider whose ID token we read (generic OpenID Connect and LinkedIn, Google,
Apple) carries a new random nonce, kept in allauth's state for that request (server side);
the ID token that comes back must carry the same one, or the sign-in is refused. allauth
sends none: its providers' `redirect` is wrapped here (federation.providers).
Providers without an ID token in their user data (GitHub, Facebook, Microsoft's Graph
profile) are left as they are."""

from __future__ import annotations

import hmac
import secrets

NONCE_PROVIDERS = {"openid_connect", "google", "apple"}


class NonceRedirectMixin:
    def redirect(self, request, process, next_url=None, data=None, **kwargs):
        nonce = secrets.token_urlsafe(24)
        auth_params = kwargs.pop("auth_params", None)
        if auth_params is None:
            auth_params = self.get_auth_params()
        auth_params = {**auth_params, "nonce": nonce}
        # allauth keeps extra keyword arguments in the request's state (stash_redirect_state).
        return super().redirect(
            request, process, next_url, data, auth_params=auth_params, nonce=nonce, **kwargs
        )


def nonce_check(request, sociallogin, claims: dict) -> None:
    """Refuse (allauth's "sign-in failed" page, logged) an ID token whose nonce is not the one
    its authorization request sent."""
    expected = (sociallogin.state or {}).get("nonce")
    if not expected:
        return
    found = claims.get("nonce")
    if isinstance(found, str) and hmac.compare_digest(found, expected):
        return
    from allauth.core.exceptions import ImmediateHttpResponse
    from allauth.socialaccount.adapter import get_adapter
    from allauth.socialaccount.helpers import render_authentication_error
    from allauth.socialaccount.providers.oauth2.client import OAuth2Error

    class NonceMismatch(OAuth2Error):
        """The ID token's nonce is not its request's (the sign-in log names it)."""

    provider = get_adapter().get_provider(request, sociallogin.account.provider)
    raise ImmediateHttpResponse(
        render_authentication_error(
            request, provider, exception=NonceMismatch("Invalid id_token: nonce mismatch")
        )
    )
