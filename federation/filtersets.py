from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from console.lists import ListFilterSet, search_filter
from federation.models import IdentityProvider


class IdentityProviderFilterSet(ListFilterSet):
    search_fields = ("name", "client_id", "discovery_url")

    q = search_filter(_("Search"), attrs={"placeholder": _("Name, client id or URL")})
    kind = django_filters.ChoiceFilter(
        label=_("Type"), choices=IdentityProvider.Kind.choices, empty_label=_("Any type")
    )
    state = django_filters.ChoiceFilter(
        label=_("State"), field_name="enabled", empty_label=_("All"),
        choices=[("enabled", _("Enabled")), ("disabled", _("Disabled"))],
        method="filter_state",
    )  # fmt: skip

    class Meta(ListFilterSet.Meta):
        model = IdentityProvider

    def filter_state(self, queryset, name, value):
        return queryset.filter(enabled=value == "enabled")
