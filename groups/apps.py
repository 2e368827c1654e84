from django.apps import AppConfig


class GroupsConfig(AppConfig):
    name = "groups"
    verbose_name = "Groups"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy as _

        from accounts.roles import AdminRole
        from console.navigation import Area, register

        # Entra's Groups administrator is not one of our roles (README, admin roles): the User
        # administrator manages groups, as Entra's also may; Application administrators open
        # them to give their members app roles.
        register(
            Area(
                _("Groups"),
                "console:groups:list",
                (AdminRole.USER_ADMINISTRATOR, AdminRole.APPLICATION_ADMINISTRATOR),
            ),
            order=15,
        )
