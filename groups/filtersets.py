from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from accounts.models import User, email_normalize
from console.lists import ListFilterSet, search_filter
from groups.models import Group


class GroupFilterSet(ListFilterSet):
    search_fields = ("display_name", "description")

    q = search_filter(_("Search"), attrs={"placeholder": _("Name or description")})
    member = django_filters.CharFilter(
        label=_("Has member (email)"), method="filter_member", max_length=254
    )
    roles = django_filters.ChoiceFilter(
        label=_("App roles"), empty_label=_("All"), method="filter_roles",
        choices=[("with", _("Gives app roles")), ("without", _("Gives none"))],
    )  # fmt: skip

    class Meta(ListFilterSet.Meta):
        model = Group

    def filter_member(self, queryset, name, value):
        return queryset.filter(memberships__user__email=email_normalize(value.strip()))

    def filter_roles(self, queryset, name, value):
        has_roles = queryset.filter(app_role_assignments__isnull=False).values("pk")
        if value == "with":
            return queryset.filter(pk__in=has_roles)
        return queryset.exclude(pk__in=has_roles)


class MemberFilterSet(ListFilterSet):
    search_fields = ("email", "display_name", "first_name", "last_name")

    q = search_filter(_("Search members"), attrs={"placeholder": _("Email or name")})
    type = django_filters.ChoiceFilter(
        label=_("User type"), field_name="user_type", choices=User.UserType.choices,
        empty_label=_("All"),
    )  # fmt: skip

    class Meta(ListFilterSet.Meta):
        model = User
