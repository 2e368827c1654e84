from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from console.lists import ListFilterSet, search_filter
from tenants.models import Tenant


class TenantFilterSet(ListFilterSet):
    search_fields = ("name", "slug")
    search_max_length = 100

    q = search_filter(_("Search"), attrs={"placeholder": _("Name or slug")})
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Tenant.Status.choices, empty_label=_("All")
    )

    class Meta(ListFilterSet.Meta):
        model = Tenant
