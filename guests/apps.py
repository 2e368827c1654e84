from django.apps import AppConfig


class GuestsConfig(AppConfig):
    name = "guests"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from ciam.api import api_credential_register
        from console.navigation import Area, register
        from guests.api import INVITE_PERMISSION, api_key_authenticate
        from guests.console_views import INVITERS
        from guests.emails import builders_register

        # What invitations, their copies, redemption codes and sponsor reminders say: emails
        # sends them (emails.registry).
        builders_register()

        register(Area(_("Guests"), "console:guests:list", INVITERS), order=60)

        # Tenant API keys (console, Guests > API keys) invite, and do nothing else.
        api_credential_register(
            "api_key",
            api_key_authenticate,
            description="an API key",
            permissions={INVITE_PERMISSION},
        )
