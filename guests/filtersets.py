from __future__ import annotations

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from console.lists import ListFilterSet, search_filter
from guests.models import Invitation


class InvitationFilterSet(ListFilterSet):
    search_fields = ("email", "display_name")

    q = search_filter(_("Search"), attrs={"placeholder": _("Email or name")})
    # An impossible date (2026-02-30) fails the field and is left out, not a 500.
    since = django_filters.DateFilter(
        label=_("Invited since"), field_name="created_at", lookup_expr="date__gte",
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
    )  # fmt: skip
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Invitation.Status.choices, empty_label=_("All")
    )
    inviter = django_filters.CharFilter(
        label=_("Invited by"), field_name="invited_by_label", lookup_expr="icontains"
    )

    class Meta(ListFilterSet.Meta):
        model = Invitation
