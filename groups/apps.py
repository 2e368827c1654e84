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
        _users_list_filter_register()


def _users_list_filter_register() -> None:
    """Console > Users filters by group (accounts.filtersets.user_filter_register)."""
    import django_filters
    from django.utils.translation import gettext_lazy as _

    from accounts.filtersets import user_filter_register

    def groups(request):
        from groups.models import Group

        return Group.objects.order_by("display_name")

    def members_of(queryset, name, group):
        return queryset.filter(group_memberships__group=group) if group else queryset

    user_filter_register(
        "group",
        django_filters.ModelChoiceFilter(
            label=_("Group"), queryset=groups, method=members_of, empty_label=_("All")
        ),
    )
