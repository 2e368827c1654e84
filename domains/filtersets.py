from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from console.lists import ListFilterSet, search_filter
from domains.models import CustomDomain, DomainReservation


class CustomDomainFilterSet(ListFilterSet):
    search_fields = ("host",)

    q = search_filter(_("Search"), attrs={"placeholder": _("Domain")})
    state = django_filters.ChoiceFilter(
        label=_("State"), empty_label=_("All"), choices=CustomDomain.State.choices
    )

    class Meta(ListFilterSet.Meta):
        model = CustomDomain


class DomainReservationFilterSet(ListFilterSet):
    """Operator > Reserved domains: the host, or the tenant's name or slug."""

    search_fields = ("host", "tenant_name", "tenant_slug")
    search_max_length = 253

    q = search_filter(_("Search"), attrs={"placeholder": _("Domain, tenant name or slug")})

    class Meta(ListFilterSet.Meta):
        model = DomainReservation
