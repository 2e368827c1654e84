from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from console.lists import ListFilterSet, search_filter
from oidc.models import Application


class ApplicationFilterSet(ListFilterSet):
    search_fields = ("name", "client_id")

    q = search_filter(_("Name or client ID"))
    type = django_filters.ChoiceFilter(
        label=_("Type"), field_name="app_type", choices=Application.AppType.choices,
        empty_label=_("All"),
    )  # fmt: skip

    class Meta(ListFilterSet.Meta):
        model = Application
