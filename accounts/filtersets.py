from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from console.lists import ListFilterForm, search_filter


class UserFilterSet(django_filters.FilterSet):
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

    class Meta:
        model = User
        fields = []
        form = ListFilterForm

    def search(self, queryset, name, value):
        search = value[:200]
        return queryset.filter(
            Q(email__icontains=search)
            | Q(display_name__icontains=search)
            | Q(first_name__icontains=search)
            | Q(last_name__icontains=search)
        )

    def filter_state(self, queryset, name, value):
        return queryset.filter(is_active=value == "active")
