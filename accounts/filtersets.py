"""The console's Users list filters. Other apps add theirs with user_filter_register() from
their AppConfig.ready() (the groups app: "member of group")."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import django_filters
from django import forms
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
from django.utils.translation import gettext_lazy as _

from accounts.models import NEVER_SIGNED_IN, User, user_search_text
from accounts.roles import AdminRole
from console.lists import ListFilterSet, search_filter

ANY_ROLE = "any"
ONE_SECOND = timedelta(seconds=1)


def _date(label):
    return django_filters.DateFilter(
        label=label, method="filter_date", widget=forms.DateInput(attrs={"type": "date"})
    )


class UserFilterSet(ListFilterSet):
    search_fields = ("email", "display_name", "first_name", "last_name")

    q = search_filter(_("Search"), attrs={"placeholder": _("Email or name")})
    type = django_filters.ChoiceFilter(
        label=_("User type"), field_name="user_type", choices=User.UserType.choices,
        empty_label=_("All"),
    )  # fmt: skip
    # Without a state, the list shows enabled and disabled users: deleted ones are hidden
    # until asked for (they can be restored for 30 days).
    state = django_filters.ChoiceFilter(
        label=_("State"), empty_label=_("Enabled or disabled"),
        choices=[("active", _("Enabled")), ("disabled", _("Disabled")), ("deleted", _("Deleted"))],
        method="filter_state",
    )  # fmt: skip
    role = django_filters.ChoiceFilter(
        label=_("Admin role"), empty_label=_("All"), method="filter_role",
        choices=[(ANY_ROLE, _("Any admin role")), *AdminRole.choices],
    )  # fmt: skip
    created_after = _date(_("Created from"))
    created_before = _date(_("Created until"))
    signed_in_after = _date(_("Last sign-in from"))
    signed_in_before = _date(_("Last sign-in until"))
    # Inactive people (Entra's inactive guests report): those who never signed in count too,
    # once their account is older than the day asked for.
    inactive_since = django_filters.DateFilter(
        label=_("No sign-in since"), method="filter_inactive_since",
        widget=forms.DateInput(attrs={"type": "date"}),
    )  # fmt: skip
    attribute = django_filters.CharFilter(
        label=_("Attribute"), method="filter_attribute",
        widget=forms.TextInput(attrs={"placeholder": _("name=value, e.g. city=Paris")}),
    )  # fmt: skip

    class Meta(ListFilterSet.Meta):
        model = User

    def search(self, queryset, name, value):
        """Any part of the address or a name, in any case: one LIKE on one lower-cased text
        that the pg_trgm index of migration 0013 serves (a million users are not read)."""
        text = value[: self.search_max_length].strip().lower()
        if not text:
            return queryset
        return queryset.alias(search_text=user_search_text()).filter(search_text__contains=text)

    @property
    def qs(self):
        rows = super().qs
        if not self.form.is_bound or not self.form.data.get("state"):
            rows = rows.filter(deleted_at__isnull=True)
        return rows

    def filter_state(self, queryset, name, value):
        if value == "deleted":
            return queryset.filter(deleted_at__isnull=False)
        return queryset.filter(is_active=value == "active", deleted_at__isnull=True)

    def filter_role(self, queryset, name, value):
        if value == ANY_ROLE:
            return queryset.exclude(admin_roles=[])
        # Global administrators hold every role, as the console's checks say.
        return queryset.exclude(admin_roles=[]).filter(
            Q(admin_roles__contains=[value])
            | Q(admin_roles__contains=[AdminRole.GLOBAL_ADMINISTRATOR])
        )

    def filter_date(self, queryset, name, value):
        """Days in UTC (the console shows times in UTC); "until" includes the day."""
        start = datetime.combine(value, time.min, tzinfo=UTC)
        end = start + timedelta(days=1)
        if name.startswith("created"):
            if name.endswith("after"):
                return queryset.filter(date_joined__gte=start)
            return queryset.filter(date_joined__lt=end)
        # On the last sign-in's keyset expression (its index serves the range and the order
        # alike); who never signed in sorts as NEVER_SIGNED_IN, before any day asked for.
        queryset = queryset.alias(last_sign_in=Coalesce("last_login", Value(NEVER_SIGNED_IN)))
        if name.endswith("after"):
            return queryset.filter(last_sign_in__gte=max(start, NEVER_SIGNED_IN + ONE_SECOND))
        return queryset.filter(last_sign_in__lt=end, last_login__isnull=False)

    def filter_inactive_since(self, queryset, name, value):
        """No sign-in on or after the day (UTC), and created before it: the last sign-in's
        keyset expression (its index) with those who never signed in sorted first."""
        start = datetime.combine(value, time.min, tzinfo=UTC)
        queryset = queryset.alias(last_sign_in=Coalesce("last_login", Value(NEVER_SIGNED_IN)))
        return queryset.filter(last_sign_in__lt=start, date_joined__lt=start)

    def filter_attribute(self, queryset, name, value):
        key, _sep, wanted = value.partition("=")
        key, wanted = key.strip(), wanted.strip()
        if not key:
            return queryset
        if not _sep:
            return queryset.filter(attributes__has_key=key)
        # One containment match on the attributes' GIN index, for the value as text and as
        # the number or yes/no the user flow may have stored.
        matches = Q(attributes__contains={key: wanted})
        if wanted.lstrip("-").isdigit():
            matches |= Q(attributes__contains={key: int(wanted)})
        if wanted.lower() in ("true", "false", "yes", "no"):
            matches |= Q(attributes__contains={key: wanted.lower() in ("true", "yes")})
        return queryset.filter(matches)


def user_filter_register(name: str, filter_: django_filters.Filter) -> None:
    """Add a filter to the Users list (call from AppConfig.ready()); its method, if any, is a
    callable taking (queryset, name, value)."""
    UserFilterSet.base_filters[name] = filter_
