from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from accounts.roles import LOG_READERS
        from console.navigation import Area, register

        register(
            Area(
                _("Logs"),
                "console:logs:index",
                LOG_READERS,
                pages=(
                    Area(_("Sign-in log"), "console:logs:sign-ins", LOG_READERS),
                    Area(_("Audit log"), "console:logs:audit", LOG_READERS),
                    Area(_("Retention"), "console:logs:retention", LOG_READERS),
                ),
            ),
            order=90,
        )
