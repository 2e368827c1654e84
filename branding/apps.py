from django.apps import AppConfig


class BrandingConfig(AppConfig):
    name = "branding"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from branding.console_views import BRANDING_ADMINS
        from console.navigation import Area, register

        register(Area(_("Branding"), "console:branding:edit", BRANDING_ADMINS), order=50)
