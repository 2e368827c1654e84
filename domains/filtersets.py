from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from console.lists import ListFilterSet, search_filter
from domains.models import CustomDomain


class CustomDomainFilterSet(ListFilterSet):
    search_fields = ("host",)

    q = search_filter(_("Search"), attrs={"placeholder": _("Domain")})
    state = django_filters.ChoiceFilter(
        label=_("State"), empty_label=_("All"), choices=CustomDomain.State.choices
    )

    class Meta(ListFilterSet.Meta):
        model = CustomDomain
