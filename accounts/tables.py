from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from console.lists import DayColumn


def _guest_profile(user: User):
    return getattr(user, "guest_profile", None)


class UserTable(tables.Table):
    caption = _("Users")

    # Sorted by keyset (accounts.console_views.USER_LIST_ORDERS): the orderable columns sort
    # by the value each row was read in order of (console.lists.keyset_table).
    email = tables.Column(verbose_name=_("Email"), orderable=True, order_by="keyset_key")
    name = tables.Column(verbose_name=_("Name"), accessor="display_name", empty_values=())
    user_type = tables.Column(verbose_name=_("Type"))
    is_active = tables.Column(verbose_name=_("State"), empty_values=())
    sponsor = tables.Column(verbose_name=_("Sponsor"), accessor="guest_profile__sponsor__email")
    invited = DayColumn(verbose_name=_("Invited"), accessor="guest_profile__invited_at")
    accepted = DayColumn(verbose_name=_("Accepted"), accessor="guest_profile__accepted_at")
    date_joined = DayColumn(verbose_name=_("Created"), orderable=True, order_by="keyset_key")
    last_login = DayColumn(verbose_name=_("Last sign-in"), orderable=True, order_by="keyset_key")

    class Meta:
        orderable = False
        default = ""
        empty_text = _("No users match.")
        attrs = {"class": "table table-hover align-middle"}

    def render_email(self, record):
        url = reverse("console:users:detail", args=[record.public_id])
        return format_html('<a href="{}">{}</a>', url, record.email)

    def render_name(self, record):
        return record.display_name or record.get_full_name()

    def render_user_type(self, record):
        profile = _guest_profile(record)
        if profile:
            return f"{record.get_user_type_display()} · {profile.get_state_display()}"
        return record.get_user_type_display()

    def render_is_active(self, record):
        if record.deleted_at is not None:
            return _("Deleted")
        return _("Enabled") if record.is_active else _("Disabled")
