from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from console.lists import ListFilterSet, search_filter


class UserFilterSet(ListFilterSet):
    search_fields = ("email", "display_name", "first_name", "last_name")

    q = search_filter(_("Search"), attrs={"placeholder": _("Email or name")})
    type = django_filters.ChoiceFilter(
        label=_("User type"), field_name="user_type", choices=User.UserType.choices,
        empty_label=_("All"),
    )  # fmt: skip
    state = django_filters.ChoiceFilter(
        label=_("State"), field_name="is_active", empty_label=_("All"),
        choices=[("active", _("Enabled")), ("disabled", _("Disabled"))],
        method="filter_state",
    )  # fmt: skip

    class Meta(ListFilterSet.Meta):
        model = User

    def filter_state(self, queryset, name, value):
        return queryset.filter(is_active=value == "active")
