from django.apps import AppConfig


class GuestsConfig(AppConfig):
    name = "guests"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from console.navigation import Area, register
        from guests.console_views import INVITERS
        from guests.emails import builders_register

        # What invitations, their copies, redemption codes and sponsor reminders say: emails
        # sends them (emails.registry).
        builders_register()

        register(Area(_("Guests"), "console:guests:list", INVITERS), order=60)
