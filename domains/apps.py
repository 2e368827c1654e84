from django.apps import AppConfig


class DomainsConfig(AppConfig):
    name = "domains"
    verbose_name = "Custom domains"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from accounts.roles import AdminRole
        from console.navigation import Area, register

        # Entra: only a Global administrator (or Domain Name administrator, not one of our
        # roles) adds, verifies and removes domains; the primary domain changes the issuer.
        register(
            Area(_("Custom domains"), "console:domains:list", (AdminRole.GLOBAL_ADMINISTRATOR,)),
            order=85,
        )
