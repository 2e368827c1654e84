from __future__ import annotations

from oauth2_provider.scopes import SettingsScopes

USER_SCOPES = ["openid", "profile", "email", "offline_access"]


class TenantScopes(SettingsScopes):
    """User-facing apps ask for OpenID scopes; daemon apps for the tenant's directory API
    (`<issuer>/api/.default`, the permissions granted to the app)."""

    def get_all_scopes(self):
        from oidc.tokens import api_audience

        return {**super().get_all_scopes(), api_audience() + "/.default": "Directory API"}

    def get_available_scopes(self, application=None, request=None, *args, **kwargs):
        from oidc.tokens import api_audience

        if application is not None and application.app_type == application.AppType.DAEMON:
            return [api_audience() + "/.default"]
        return USER_SCOPES

    def get_default_scopes(self, application=None, request=None, *args, **kwargs):
        return self.get_available_scopes(application, request)[:1]
