from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from console.lists import ActionsColumn
from domains.models import CustomDomain

STATE_BADGES = {
    CustomDomain.State.PENDING: "text-bg-secondary",
    CustomDomain.State.VERIFYING: "text-bg-info",
    CustomDomain.State.VERIFIED: "text-bg-success",
    CustomDomain.State.FAILED: "text-bg-danger",
}


class CustomDomainTable(tables.Table):
    caption = _("Custom domains")

    host = tables.Column(verbose_name=_("Domain"), orderable=True)
    state = tables.Column(verbose_name=_("State"), orderable=True)
    created_at = tables.DateColumn("Y-m-d", verbose_name=_("Added"), orderable=True)
    verified_at = tables.DateColumn("Y-m-d", verbose_name=_("Verified"), orderable=True)

    class Meta:
        orderable = False
        default = ""
        empty_text = _("No custom domains yet.")
        attrs = {"class": "table table-hover align-middle"}

    def render_host(self, record):
        url = reverse("console:domains:detail", args=[record.public_id])
        return format_html('<a href="{}">{}</a>', url, record.host)

    def render_state(self, record):
        return format_html(
            '<span class="badge {}">{}</span>',
            STATE_BADGES[record.state],
            record.get_state_display(),
        )


class DomainReservationTable(tables.Table):
    caption = _("Reserved domains")

    host = tables.Column(verbose_name=_("Domain"), orderable=True)
    tenant_name = tables.Column(verbose_name=_("Kept for"), orderable=True)
    created_at = tables.DateColumn("Y-m-d", verbose_name=_("Removed"), orderable=True)
    reserved_until = tables.DateColumn("Y-m-d", verbose_name=_("Reserved until"), orderable=True)
    actions = ActionsColumn("domains/operator/reservation_actions_cell.html")

    class Meta:
        orderable = False
        default = ""
        empty_text = _("No domain is reserved.")
        attrs = {"class": "table align-middle"}

    def render_tenant_name(self, record):
        if record.tenant_slug:
            return format_html(
                '{} <span class="text-body-secondary">({})</span>',
                record.tenant_name,
                record.tenant_slug,
            )
        return record.tenant_name
