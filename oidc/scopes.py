from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from oauth2_provider.scopes import SettingsScopes

USER_SCOPES = ["openid", "profile", "email", "offline_access"]

# What a person reads for each scope an app asks for: on the consent page and under "Apps you
# allowed" in My account.
SCOPE_DESCRIPTIONS = {
    "openid": _("Sign you in"),
    "profile": _("See your name and profile"),
    "email": _("See your email address"),
    "offline_access": _("Stay signed in: keep access while you are away, until you remove it"),
}


def scope_descriptions(scopes) -> list[str]:
    """The descriptions of `scopes`, those above in their order first; a scope without one
    by its name, after them."""
    known = [description for scope, description in SCOPE_DESCRIPTIONS.items() if scope in scopes]
    return known + [scope for scope in scopes if scope not in SCOPE_DESCRIPTIONS]


class TenantScopes(SettingsScopes):
    """User-facing apps ask for OpenID scopes; daemon apps for the tenant's directory API
    (`<issuer>/api/.default`, the permissions granted to the app)."""

    def get_all_scopes(self):
        from oidc.tokens import api_audience

        return {
            **super().get_all_scopes(),
            **SCOPE_DESCRIPTIONS,
            api_audience() + "/.default": "Directory API",
        }

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        from oidc.tokens import api_audience

        if application is not None and application.app_type == application.AppType.DAEMON:
            return [api_audience() + "/.default"]
        return USER_SCOPES

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request)[:1]
