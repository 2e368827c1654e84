from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _


class InvitationTable(tables.Table):
    caption = _("Invitations")

    email = tables.Column(verbose_name=_("Email"), orderable=True)
    status = tables.Column(verbose_name=_("Status"), orderable=True)
    delivery = tables.TemplateColumn(
        '{% include "guests/delivery_status.html" with status=record.delivery_status '
        "error=record.delivery_error %}",
        verbose_name=_("Delivery"),
    )
    invited_by_label = tables.Column(verbose_name=_("Invited by"))
    created_at = tables.DateTimeColumn("Y-m-d H:i", verbose_name=_("Invited (UTC)"), orderable=True)
    expires_at = tables.DateTimeColumn("Y-m-d H:i", verbose_name=_("Expires (UTC)"), orderable=True)

    class Meta:
        orderable = False
        default = ""
        empty_text = _("No invitations match.")
        attrs = {"class": "table table-hover align-middle"}

    def render_email(self, record):
        url = reverse("console:guests:invitation-detail", args=[record.public_id])
        if record.display_name:
            return format_html(
                '<a href="{}">{}</a><div class="small text-body-secondary">{}</div>',
                url, record.email, record.display_name,
            )  # fmt: skip
        return format_html('<a href="{}">{}</a>', url, record.email)

    def render_status(self, record):
        return record.get_status_display()
