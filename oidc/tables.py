from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _


class ApplicationTable(tables.Table):
    caption = _("App registrations")

    name = tables.Column(verbose_name=_("Name"), orderable=True)
    app_type = tables.Column(verbose_name=_("Type"), orderable=True)
    client_id = tables.TemplateColumn("<code>{{ value }}</code>", verbose_name=_("Client ID"))
    created = tables.DateTimeColumn("Y-m-d H:i", verbose_name=_("Created (UTC)"), orderable=True)

    class Meta:
        orderable = False
        empty_text = _("No apps match.")
        attrs = {"class": "table table-sm align-middle"}

    def render_name(self, record):
        url = reverse("console:apps:detail", args=[record.public_id])
        return format_html('<a href="{}">{}</a>', url, record.name)

    def render_app_type(self, record):
        if record.is_first_party:
            return record.get_app_type_display()
        return f"{record.get_app_type_display()} · {_('third-party')}"
