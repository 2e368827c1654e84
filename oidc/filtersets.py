from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from console.lists import ListFilterForm, search_filter
from oidc.models import Application


class ApplicationFilterSet(django_filters.FilterSet):
    q = search_filter(_("Name or client ID"))
    type = django_filters.ChoiceFilter(
        label=_("Type"), field_name="app_type", choices=Application.AppType.choices,
        empty_label=_("All"),
    )  # fmt: skip

    class Meta:
        model = Application
        fields = []
        form = ListFilterForm

    def search(self, queryset, name, value):
        search = value[:200]
        return queryset.filter(Q(name__icontains=search) | Q(client_id__icontains=search))
