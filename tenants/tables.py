from __future__ import annotations

import django_tables2 as tables
from django.utils.translation import gettext_lazy as _

from console.lists import ActionsColumn


class TenantTable(tables.Table):
    caption = _("Tenants")

    name = tables.Column(verbose_name=_("Name"), orderable=True)
    host = tables.Column(verbose_name=_("Host"), accessor="primary_host")
    status = tables.Column(verbose_name=_("Status"), orderable=True)
    users = tables.Column(verbose_name=_("Users"), accessor="pk")
    created_at = tables.DateColumn("Y-m-d", verbose_name=_("Created"), orderable=True)
    actions = ActionsColumn("platform/tenant_actions_cell.html")

    class Meta:
        orderable = False
        empty_text = _("No tenants match.")
        attrs = {"class": "table align-middle"}

    # Users per tenant of the page shown, counted in one query (tenants.views).
    user_counts: dict[int, int] = {}

    def render_users(self, record):
        return self.user_counts.get(record.pk, 0)


class ReservedSlugTable(tables.Table):
    caption = _("Reserved addresses")

    slug = tables.Column(verbose_name=_("Slug"), orderable=True)
    name = tables.Column(verbose_name=_("Name"), orderable=True)
    deleted_at = tables.DateColumn("Y-m-d", verbose_name=_("Deleted"), orderable=True)
    reserved_until = tables.DateColumn("Y-m-d", verbose_name=_("Reserved until"))
    actions = ActionsColumn("platform/reserved_slug_actions_cell.html")

    class Meta:
        orderable = False
        empty_text = _("No address is reserved.")
        attrs = {"class": "table align-middle"}
