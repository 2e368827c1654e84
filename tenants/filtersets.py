from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from console.lists import ListFilterForm, search_filter
from tenants.models import Tenant


class TenantFilterSet(django_filters.FilterSet):
    q = search_filter(_("Search"), attrs={"placeholder": _("Name or slug")})
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Tenant.Status.choices, empty_label=_("All")
    )

    class Meta:
        model = Tenant
        fields = []
        form = ListFilterForm

    def search(self, queryset, name, value):
        search = value[:100]
        return queryset.filter(Q(name__icontains=search) | Q(slug__icontains=search))
