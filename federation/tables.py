from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from federation.models import IdentityProvider


class IdentityProviderTable(tables.Table):
    caption = _("Identity providers")

    name = tables.Column(verbose_name=_("Name"), orderable=True)
    kind = tables.Column(verbose_name=_("Type"), orderable=True)
    issuer = tables.Column(verbose_name=_("Issuer"), accessor="issuer", empty_values=())
    enabled = tables.Column(verbose_name=_("State"), orderable=True)
    updated_at = tables.DateColumn("Y-m-d", verbose_name=_("Changed"), orderable=True)

    class Meta:
        orderable = False
        default = ""
        empty_text = _("No identity providers yet.")
        attrs = {"class": "table table-hover align-middle"}

    def render_name(self, record: IdentityProvider):
        url = reverse("console:identity-providers:detail", args=[record.public_id])
        return format_html('<a href="{}">{}</a>', url, record.name)

    def render_kind(self, record: IdentityProvider):
        return record.get_kind_display()

    def render_enabled(self, value):
        return _("Enabled") if value else _("Disabled")
