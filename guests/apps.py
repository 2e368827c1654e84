from django.apps import AppConfig


class GuestsConfig(AppConfig):
    name = "guests"

    def ready(self) -> None:
        from guests.emails import builders_register

        # What invitations, their copies, redemption codes and sponsor reminders say: emails
        # sends them (emails.registry).
        builders_register()
