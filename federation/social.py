"""Built-in social providers where allauth's own views need a correction.

Facebook: its token endpoint is called with GET (allauth's FacebookOAuth2Adapter), and
allauth's OAuth2 client adds the PKCE `code_verifier` only to a POST body: the challenge sent
with the authorization request would never be answered. Facebook Login takes the verifier as
a query parameter of that GET; this callback sends it."""

from __future__ import annotations

from allauth.socialaccount.providers.facebook.views import FacebookOAuth2Adapter
from allauth.socialaccount.providers.oauth2.client import OAuth2Client
from allauth.socialaccount.providers.oauth2.views import OAuth2CallbackView


class VerifierInQueryClient(OAuth2Client):
    def get_access_token(self, code, pkce_code_verifier=None, extra_data=None):
        if pkce_code_verifier and self.access_token_method == "GET":  # nosec
            extra_data = {**(extra_data or {}), "code_verifier": pkce_code_verifier}
            pkce_code_verifier = None
        return super().get_access_token(code, pkce_code_verifier, extra_data)


class FacebookAdapter(FacebookOAuth2Adapter):
    client_class = VerifierInQueryClient


_facebook_callback = OAuth2CallbackView.adapter_view(FacebookAdapter)


def facebook_callback(request):
    """As every upstream callback here: its redirect onwards becomes the continue page
    (federation.views.oidc_callback says why)."""
    from federation.views import _continue_page

    return _continue_page(request, _facebook_callback(request))
