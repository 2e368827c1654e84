from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

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
