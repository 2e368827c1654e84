from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from console.lists import ActionsColumn


class GroupTable(tables.Table):
    caption = _("Groups")

    display_name = tables.Column(verbose_name=_("Name"), orderable=True)
    description = tables.Column(verbose_name=_("Description"))
    member_count = tables.Column(verbose_name=_("Members"), orderable=True)
    created_at = tables.DateColumn("Y-m-d", verbose_name=_("Created"), orderable=True)

    class Meta:
        orderable = False
        default = ""
        empty_text = _("No groups match.")
        attrs = {"class": "table table-hover align-middle"}

    def render_display_name(self, record):
        url = reverse("console:groups:detail", args=[record.public_id])
        return format_html('<a href="{}">{}</a>', url, record.display_name)

    def render_description(self, value):
        return value if len(value) <= 80 else value[:79] + "…"


class MemberTable(tables.Table):
    caption = _("Members")

    email = tables.Column(verbose_name=_("Email"), orderable=True)
    name = tables.Column(verbose_name=_("Name"), accessor="display_name", empty_values=())
    user_type = tables.Column(verbose_name=_("Type"), orderable=True)
    is_active = tables.Column(verbose_name=_("State"))
    actions = ActionsColumn("groups/member_actions.html")

    class Meta:
        orderable = False
        default = ""
        empty_text = _("No members match.")
        attrs = {"class": "table table-sm align-middle"}

    def __init__(self, *args, group=None, may_edit=False, **kwargs):
        self.group = group
        self.may_edit = may_edit
        super().__init__(*args, **kwargs)
        if not may_edit:
            self.columns.hide("actions")

    def render_email(self, record):
        url = reverse("console:users:detail", args=[record.public_id])
        return format_html('<a href="{}">{}</a>', url, record.email)

    def render_name(self, record):
        return record.display_name or record.get_full_name()

    def render_user_type(self, record):
        return record.get_user_type_display()

    def render_is_active(self, value):
        return _("Enabled") if value else _("Disabled")


class OwnedGroupMemberTable(MemberTable):
    """A group's members as its owner manages them from My account (no console links)."""

    actions = ActionsColumn("groups/my_member_actions.html")

    def render_email(self, record):
        return record.email
