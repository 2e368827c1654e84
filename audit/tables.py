from __future__ import annotations

import django_tables2 as tables
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.devices import device_summary


class AuditEventTable(tables.Table):
    """The logs grow without end: they sort by time alone, which the index on occurred_at
    serves either way round."""

    caption = _("Audit log")

    occurred_at = tables.DateTimeColumn(
        "Y-m-d H:i:s", verbose_name=_("When (UTC)"), orderable=True,
        order_by=("occurred_at", "id"), attrs={"td": {"class": "text-nowrap"}},
    )  # fmt: skip
    actor_label = tables.Column(verbose_name=_("Actor"))
    action = tables.TemplateColumn("<code>{{ value }}</code>", verbose_name=_("Action"))
    target_label = tables.Column(verbose_name=_("Target"))
    changes = tables.TemplateColumn(
        template_name="audit/console/changes_cell.html", verbose_name=_("Changes"),
        empty_values=(), attrs={"th": {"class": "audit-changes-column"}},
    )  # fmt: skip

    class Meta:
        orderable = False
        default = ""
        empty_text = _("No events match.")
        attrs = {"class": "table table-sm align-middle"}


class SignInEventTable(tables.Table):
    caption = _("Sign-in log")

    occurred_at = tables.DateTimeColumn(
        "Y-m-d H:i:s", verbose_name=_("When (UTC)"), orderable=True,
        order_by=("occurred_at", "id"), attrs={"td": {"class": "text-nowrap"}},
    )  # fmt: skip
    user = tables.TemplateColumn(
        template_name="audit/console/sign_in_user_cell.html", verbose_name=_("User"),
        empty_values=(),
    )  # fmt: skip
    method = tables.Column(verbose_name=_("Method"))
    app = tables.Column(verbose_name=_("App"), accessor="app_name", empty_values=())
    result = tables.Column(verbose_name=_("Result"))
    failure_reason = tables.TemplateColumn(
        template_name="audit/console/sign_in_reason_cell.html", verbose_name=_("Failure reason"),
        empty_values=(),
    )  # fmt: skip
    ip_address = tables.Column(verbose_name=_("IP address"))
    browser = tables.Column(
        verbose_name=_("Browser"), accessor="user_agent", empty_values=(),
        attrs={"td": {"class": "small text-nowrap"}},
    )  # fmt: skip

    class Meta:
        orderable = False
        default = ""
        empty_text = _("No sign-ins match.")
        attrs = {"class": "table table-sm align-middle"}

    def render_method(self, record):
        if record.idp:  # a federated sign-in: which identity provider
            return format_html("<code>{}</code> · {}", record.method, record.idp)
        return format_html("<code>{}</code>", record.method)  # the code, as the CSV has it

    def render_app(self, record):
        return record.app_name or record.app_id

    def render_result(self, record):
        badge = {"success": "text-bg-success", "interrupted": "text-bg-secondary"}.get(
            record.result, "text-bg-danger"
        )
        return format_html('<span class="badge {}">{}</span>', badge, record.get_result_display())

    def render_browser(self, record):
        return format_html(
            '<span title="{}">{}</span>', record.user_agent, device_summary(record.user_agent)
        )
