from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "oidc"
    verbose_name = "OpenID Connect provider"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from accounts.roles import AdminRole
        from ciam.api import api_credential_register
        from console.navigation import Area, register
        from oidc.app_tokens import app_token_authenticate

        register(
            Area(_("Apps"), "console:apps:list", (AdminRole.APPLICATION_ADMINISTRATOR,)), order=20
        )
        # The tenant's daemon apps call /api/v1 with client credentials tokens; the
        # application permissions the console granted them say what they may do.
        api_credential_register(
            "app_token", app_token_authenticate, description="an app's access token"
        )
