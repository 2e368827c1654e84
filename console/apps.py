from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    name = "console"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from console.decorators import ANY_ADMIN
        from console.navigation import Area, register

        register(Area(_("Overview"), "console:overview", ANY_ADMIN), order=0)
