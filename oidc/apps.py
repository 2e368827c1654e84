from django.apps import AppConfig


class OidcConfig(AppConfig):
    name = "oidc"
    verbose_name = "OpenID Connect provider"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from accounts.roles import AdminRole
        from console.navigation import Area, register

        register(
            Area(_("Apps"), "console:apps:list", (AdminRole.APPLICATION_ADMINISTRATOR,)), order=20
        )
