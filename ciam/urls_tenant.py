"""URLs of a tenant host: hosted pages for end users and partners, and the admin console."""

from django.urls import include, path

from accounts import views as account_views
from ciam.locale import language_switch
from federation import social as federation_social
from federation import views as federation_views

urlpatterns = [
    path("language/", language_switch, name="language-switch"),  # the hosted pages' switcher
    path("", account_views.home, name="home"),
    # Before allauth's own: guests have no password to set (accounts.views.password_set).
    path("accounts/password/set/", account_views.password_set),
    # allauth's password reset pages, keeping where the sign-in was going (`next`).
    path("accounts/password/reset/", account_views.password_reset),
    path("accounts/password/reset/done/", account_views.password_reset_done),
    path("accounts/password/reset/key/done/", account_views.password_reset_from_key_done),
    path("", include("mfa.urls")),  # MFA sign-in steps and My account > Security
    # allauth's OpenID Connect callback, answering with a page instead of a redirect
    # (federation.views.oidc_callback says why); before allauth's own.
    path("accounts/oidc/<str:provider_id>/login/callback/", federation_views.oidc_callback),
    # An unreachable provider's button gives allauth's "sign-in failed" page, not a 500.
    path("accounts/oidc/<str:provider_id>/login/", federation_views.oidc_login),
    # allauth's SAML assertion consumer service (second half), with the same page.
    path(
        "accounts/saml/<str:organization_slug>/acs/finish/",
        federation_views.saml_finish_acs,
        name="saml_finish_acs",
    ),
    # Sign in with Apple posts its answer to allauth's callback, which redirects here: the
    # same page instead of a redirect. allauth's Facebook JavaScript SDK sign-in (an access
    # token posted by the page, no state, no PKCE) is not offered: the button's redirect is.
    path("accounts/apple/login/callback/finish/", federation_views.apple_finish),
    path("accounts/facebook/login/token/", federation_views.not_offered),
    # Facebook's callback, sending the PKCE verifier with its GET token request
    # (federation.social says why).
    path("accounts/facebook/login/callback/", federation_social.facebook_callback),
    # allauth's sign-in and "email me a code" pages, with home-realm discovery (an address
    # at a domain mapped to an IdP goes straight to it); before allauth's own.
    path("accounts/login/", federation_views.sign_in),
    path("accounts/login/code/", federation_views.request_login_code),
    path("accounts/", include("allauth.urls")),
    path("account/apps/", include("oidc.account_urls")),  # apps the user allowed (consents)
    path("account/identities/", include("federation.urls")),  # linked identity providers
    path("account/groups/", include("groups.my_urls")),  # groups the user owns (self-service)
    path("account/", include("accounts.urls")),  # My account (end-user self-service)
    path("console/", include("console.urls")),
    path("branding/", include("branding.urls")),  # the hosted pages' theme stylesheet and logo
    path("o/", include("oidc.urls")),
    path("invite/", include("guests.urls")),
    path("api/v1/", include("ciam.api_urls")),  # users and invitations, for the tenant's systems
]

handler404 = "ciam.errors.not_found"
handler500 = "ciam.errors.server_error"
